/**
 * Fastify's own schema compilers (@fastify/ajv-compiler for validation and
 * @fastify/fast-json-stringify-compiler for responses, with the server's options), each
 * schema compiled when its route first uses it rather than when the server starts, and
 * each compiler loaded at its first compile. Loading both and compiling every route's
 * schemas took most of the time from spawn to hooks served (Ajv alone ~0.1-0.2 s on this
 * VM, several times that on a Pi); now the first call of each hook pays its own schema's
 * compile once, a few milliseconds.
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
type BuildValidator = NonNullable<CompilersFactory['buildValidator']>;
type BuildSerializer = NonNullable<CompilersFactory['buildSerializer']>;
type CompileValidator = ReturnType<BuildValidator>;
type CompileSerializer = ReturnType<BuildSerializer>;
/** Of a validator, what Fastify uses: the call, and `errors` when it returns false. */
type Validate = ((data: unknown) => unknown) & { errors?: unknown };

const load = createRequire(import.meta.url);

const buildValidator: BuildValidator = (externalSchemas, options) => {
  let compiler: CompileValidator | undefined;
  const compileLazily = (route: Parameters<CompileValidator>[0]): Validate => {
    let validate: Validate | undefined;
    // Fastify reads `errors` off the function it called when that returns false, as Ajv sets it.
    const lazy: Validate = (data) => {
      if (compiler === undefined) {
        const { AjvCompiler } = load('@fastify/ajv-compiler') as {
          AjvCompiler: () => BuildValidator;
        };
        compiler = AjvCompiler()(externalSchemas, options);
      }
      validate ??= compiler(route) as Validate;
      const valid = validate(data);
      lazy.errors = validate.errors;
      return valid;
    };
    return lazy;
  };
  return compileLazily as unknown as CompileValidator;
};

const buildSerializer: BuildSerializer = (externalSchemas, options) => {
  let compiler: CompileSerializer | undefined;
  return (route) => {
    let serialize: ((data: unknown) => string) | undefined;
    return (data) => {
      if (compiler === undefined) {
        const { SerializerSelector } = load('@fastify/fast-json-stringify-compiler') as {
          SerializerSelector: () => BuildSerializer;
        };
        compiler = SerializerSelector()(externalSchemas, options);
      }
      serialize ??= compiler(route);
      return serialize(data);
    };
  };
};

/** For `schemaController.compilersFactory`. */
export const lazyCompilers: CompilersFactory = { buildValidator, buildSerializer };
