/**
 * The hooks the bot's shim calls and the shape of each call: the header that
 * names the bot and the JSON body each hook takes. The hook server checks both
 * before a hook's answer runs (hook-http.ts).
 */
import { MAX_VALUE_LENGTH } from './dimensions.js';

/** The header the Python shim names its bot with (Node lower-cases header names). */
export const BOT_ID_HEADER = 'x-farm-bot-id';

export const HOOKS = [
  'get_state',
  'get_dimensions',
  'get_settings',
  'on_before_task',
  'on_after_task',
  'reboot_requested',
  'on_handshake',
  'on_after_poll',
  'healthz',
] as const;
export type Hook = (typeof HOOKS)[number];

/**
 * The id comes back to Swarming as the `id` dimension, so it must be a value
 * the server accepts: 1 to 256 characters (code points, as Python counts
 * them), no surrounding white space. Ours allows none inside either, so a
 * doubled header (Node joins it as "a, b") is refused too.
 */
export const botHeaders = {
  type: 'object',
  required: [BOT_ID_HEADER],
  properties: {
    [BOT_ID_HEADER]: { type: 'string', pattern: '^\\S+$', maxLength: MAX_VALUE_LENGTH },
  },
} as const;

export const bodySchemas = {
  get_state: { type: 'object' },
  get_dimensions: {
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
  },
  on_before_task: {
    type: 'object',
    properties: {
      task_id: { type: 'string' },
      // One per hook invocation of the shim: repeated calls while waiting share it.
      call_id: { type: 'string', minLength: 1 },
      wait_ms: { type: 'integer', minimum: 0 },
    },
  },
  on_after_task: {
    type: 'object',
    required: ['failure', 'internal_failure'],
    properties: {
      failure: { type: 'boolean' },
      internal_failure: { type: 'boolean' },
      task_id: { type: 'string' },
    },
  },
  on_handshake: { type: 'object' },
  on_after_poll: {
    type: 'object',
    required: ['cmd'],
    properties: { cmd: { type: 'string', minLength: 1 } },
  },
  reboot_requested: {
    type: 'object',
    required: ['argv'],
    properties: { argv: { type: 'array', items: { type: 'string' } }, ppid: { type: 'integer' } },
  },
} as const;

export interface BeforeTaskBody {
  task_id?: string;
  call_id?: string;
  wait_ms?: number;
}
/** POST requires both; a bodiless GET (Skia's shim style) only says the task ended. */
export interface AfterTaskBody {
  failure?: boolean;
  internal_failure?: boolean;
  task_id?: string;
}
export interface RebootBody {
  argv: string[];
  ppid?: number;
}
