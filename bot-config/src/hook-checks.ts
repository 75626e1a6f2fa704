/**
 * The JSON-schema checks of a hook call's header and body, by Ajv with the options Fastify gave
 * it, less its coercion and stripping, and refusals worded as Fastify worded them
 * (`body/os must be array`). Ajv is loaded, and each schema compiled, at its first use: loading
 * and compiling every hook's schema took most of the time from spawn to hooks served (Ajv alone
 * ~0.1-0.2 s on this VM, several times that on a Pi); the first call of each hook pays its own
 * compile once, a few milliseconds.
 */
import { createRequire } from 'node:module';
import type { Ajv as AjvInstance, Options, ValidateFunction } from 'ajv';

/** Why `value` fails the schema, or undefined when it passes. */
export type Check = (value: unknown) => string | undefined;

/**
 * Fastify's Ajv options, less two: coerceTypes would turn "true" into true and "x" into ["x"],
 * removeAdditional would drop keys. A malformed body must be refused, not reinterpreted into
 * dimensions Swarming acts on. allErrors stays off: with it, one body could make Ajv do
 * unbounded work.
 */
const OPTIONS: Options = {
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: true,
  addUsedSchema: false,
  allErrors: false,
};

const load = createRequire(import.meta.url);
let ajv: AjvInstance | undefined;

/** A check of `schema`, naming what it checks `what` (`body`, `headers`) in its refusals. */
export function schemaCheck(schema: object, what: string): Check {
  let validate: ValidateFunction | undefined;
  return (value) => {
    if (validate === undefined) {
      if (ajv === undefined) {
        const Ajv = (load('ajv') as { default: new (options: Options) => AjvInstance }).default;
        ajv = new Ajv(OPTIONS);
      }
      validate = ajv.compile(schema);
    }
    if (validate(value)) return undefined;
    return (validate.errors ?? [])
      .map((error) => `${what}${error.instancePath} ${error.message ?? 'is invalid'}`)
      .join(', ');
  };
}
