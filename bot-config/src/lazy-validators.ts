/**
 * Fastify's own Ajv validators (@fastify/ajv-compiler, with the server's Ajv options), each
 * compiled when its route first validates rather than when the server starts. Compiling
 * every route's schemas at `listen` took most of the time from spawn to hooks served
 * (~0.1-0.2 s of Ajv on this VM, several times that on a Pi); the first call of each hook
 * now pays its own schema's compile once, a few milliseconds.
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
type BuildValidator = NonNullable<CompilersFactory['buildValidator']>;
type Compile = ReturnType<BuildValidator>;
/** Of a validator, what Fastify uses: the call, and `errors` when it returns false. */
type Validate = ((data: unknown) => unknown) & { errors?: unknown };

/** Loaded at the first compile: importing Ajv is itself a good part of its cost. */
function fastifyAjvCompiler(): BuildValidator {
  const load = createRequire(import.meta.url);
  const { AjvCompiler } = load('@fastify/ajv-compiler') as { AjvCompiler: () => BuildValidator };
  return AjvCompiler();
}

/** For `schemaController.compilersFactory.buildValidator`. */
export const lazyValidators: BuildValidator = (externalSchemas, options) => {
  let compiler: Compile | undefined;
  const compileLazily = (route: Parameters<Compile>[0]): Validate => {
    let validate: Validate | undefined;
    // Fastify reads `errors` off the function it called when that returns false, as Ajv sets it.
    const lazy: Validate = (data) => {
      compiler ??= fastifyAjvCompiler()(externalSchemas, options);
      validate ??= compiler(route) as Validate;
      const valid = validate(data);
      lazy.errors = validate.errors;
      return valid;
    };
    return lazy;
  };
  return compileLazily as unknown as Compile;
};
