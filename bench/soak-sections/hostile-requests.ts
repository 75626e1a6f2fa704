/**
 * The catalogue of hostile hook calls: what a buggy shim, a confused task or a curious local
 * process could send to the hook listener. Each names who it speaks as: the real bot (the worst
 * case for the bot's record in /status), a stranger, or a caller-chosen id.
 */
import { randomBytes } from 'node:crypto';
import type { RawRequest } from './hook-client.js';

export interface Probe extends RawRequest {
  name: string;
  /** Whether the call used the real bot's id: /status is checked right after those. */
  asKnownBot: boolean;
  /**
   * A body over the agent's 1 MiB limit: the agent may answer 413 and close while we are still
   * sending, and then the reset reaches us before the answer. Either is a refusal.
   */
  oversized: boolean;
}

const JSON_TYPE = 'application/json';

/** `{"a":{"a":…1…}}`, `depth` objects deep. */
function deepObject(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function deepArray(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** A JSON object of about `bytes` bytes: one long string value. */
function bulkyState(bytes: number): string {
  return JSON.stringify({ padding: 'x'.repeat(bytes) });
}

interface Spec {
  name: string;
  hook?: string;
  method?: string;
  /** 'known': the real bot; a string: that id; null: no header at all. */
  as?: 'known' | string | string[] | null;
  contentType?: string | null;
  body?: string | Buffer;
}

const STRANGER = 'soak-stranger';

const SPECS: Spec[] = [
  // Deep nesting: serialising it back overflowed the stack.
  { name: 'get_state 5,000-deep object', hook: 'get_state', as: 'known', body: deepObject(5000) },
  { name: 'get_state 5,000-deep object, stranger', hook: 'get_state', body: deepObject(5000) },
  {
    name: 'get_state 50,000-deep object',
    hook: 'get_state',
    as: 'known',
    body: deepObject(50_000),
  },
  {
    name: 'get_dimensions 5,000-deep array',
    hook: 'get_dimensions',
    as: 'known',
    body: `{"os":${deepArray(5000)}}`,
  },
  {
    name: 'on_before_task deep task_id',
    hook: 'on_before_task',
    body: `{"task_id":${deepObject(5000)},"wait_ms":0}`,
  },
  // Size: under and over the 1 MiB body limit.
  { name: 'get_state 900 KB', hook: 'get_state', as: 'known', body: bulkyState(900_000) },
  { name: 'get_state 2 MiB', hook: 'get_state', as: 'known', body: bulkyState(2 * 2 ** 20) },
  {
    name: 'get_dimensions 10,000 keys',
    hook: 'get_dimensions',
    as: 'known',
    body: JSON.stringify(
      Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, ['v']])),
    ),
  },
  {
    name: 'get_dimensions 10,000-char value',
    hook: 'get_dimensions',
    as: 'known',
    body: JSON.stringify({ os: ['x'.repeat(10_000)] }),
  },
  // Wrong types.
  { name: 'get_state array', hook: 'get_state', as: 'known', body: '[1,2,3]' },
  { name: 'get_state string', hook: 'get_state', as: 'known', body: '"state"' },
  { name: 'get_state number', hook: 'get_state', as: 'known', body: '42' },
  { name: 'get_state null', hook: 'get_state', as: 'known', body: 'null' },
  { name: 'get_state 1e999', hook: 'get_state', as: 'known', body: '{"x":1e999}' },
  {
    name: 'get_dimensions string value',
    hook: 'get_dimensions',
    as: 'known',
    body: '{"os":"Android"}',
  },
  { name: 'get_dimensions numbers', hook: 'get_dimensions', as: 'known', body: '{"os":[1,2]}' },
  { name: 'get_dimensions null item', hook: 'get_dimensions', as: 'known', body: '{"os":[null]}' },
  { name: 'get_dimensions empty pool', hook: 'get_dimensions', as: 'known', body: '{"pool":[]}' },
  {
    name: 'get_dimensions claims another id',
    hook: 'get_dimensions',
    as: 'known',
    body: '{"id":["someone-else"]}',
  },
  {
    name: 'on_before_task wait_ms -1',
    hook: 'on_before_task',
    as: 'known',
    body: '{"wait_ms":-1}',
  },
  {
    name: 'on_before_task wait_ms "5"',
    hook: 'on_before_task',
    as: 'known',
    body: '{"wait_ms":"5"}',
  },
  {
    name: 'on_before_task empty call_id',
    hook: 'on_before_task',
    as: 'known',
    body: '{"call_id":""}',
  },
  { name: 'on_after_task no fields', hook: 'on_after_task', as: 'known', body: '{}' },
  {
    name: 'on_after_task strings',
    hook: 'on_after_task',
    as: 'known',
    body: '{"failure":"no","internal_failure":0}',
  },
  {
    name: 'reboot_requested argv string',
    hook: 'reboot_requested',
    as: 'known',
    body: '{"argv":"reboot"}',
  },
  {
    name: 'reboot_requested argv numbers',
    hook: 'reboot_requested',
    as: 'known',
    body: '{"argv":[1]}',
  },
  { name: 'reboot_requested no argv', hook: 'reboot_requested', as: 'known', body: '{}' },
  {
    name: 'get_state __proto__',
    hook: 'get_state',
    as: 'known',
    body: '{"__proto__":{"polluted":1}}',
  },
  {
    name: 'get_state constructor.prototype',
    hook: 'get_state',
    as: 'known',
    body: '{"constructor":{"prototype":{"polluted":1}}}',
  },
  // Bots the agent does not run (valid bodies).
  { name: 'stranger get_state', hook: 'get_state', body: '{}' },
  { name: 'stranger get_dimensions', hook: 'get_dimensions', body: '{}' },
  { name: 'stranger on_before_task', hook: 'on_before_task', body: '{"wait_ms":0}' },
  {
    name: 'stranger on_after_task',
    hook: 'on_after_task',
    body: '{"failure":false,"internal_failure":false}',
  },
  // The id header itself.
  { name: 'id 257 chars', hook: 'get_dimensions', as: 'b'.repeat(257), body: '{}' },
  { name: 'id 8,000 chars', hook: 'get_state', as: 'b'.repeat(8000), body: '{}' },
  { name: 'id 20,000 chars', hook: 'get_state', as: 'b'.repeat(20_000), body: '{}' },
  { name: 'id missing', hook: 'get_state', as: null, body: '{}' },
  { name: 'id empty', hook: 'get_state', as: '', body: '{}' },
  { name: 'id with a space', hook: 'get_state', as: 'a b', body: '{}' },
  { name: 'id twice', hook: 'get_state', as: ['one', 'two'], body: '{}' },
  { name: 'id path-like', hook: 'get_dimensions', as: '../../etc/passwd', body: '{}' },
  // Not JSON.
  { name: 'text/plain', hook: 'get_state', as: 'known', contentType: 'text/plain', body: 'hello' },
  { name: 'no content-type', hook: 'get_state', as: 'known', contentType: null, body: '{}' },
  {
    name: 'form-urlencoded',
    hook: 'get_state',
    as: 'known',
    contentType: 'application/x-www-form-urlencoded',
    body: 'a=1',
  },
  { name: 'malformed JSON', hook: 'get_state', as: 'known', body: '{not json' },
  { name: 'truncated JSON', hook: 'get_state', as: 'known', body: '{"a":' },
  { name: 'empty JSON body', hook: 'get_state', as: 'known', body: '' },
  { name: 'random bytes', hook: 'get_state', as: 'known', body: randomBytes(4096) },
  {
    name: 'invalid UTF-8',
    hook: 'get_state',
    as: 'known',
    body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
  },
  // Routes and methods.
  { name: 'PUT get_state', hook: 'get_state', method: 'PUT', as: 'known', body: '{}' },
  { name: 'unknown route', hook: 'nope', as: 'known', body: '{}' },
  { name: 'path traversal', hook: '../../etc/passwd', method: 'GET', as: 'known' },
];

/**
 * Every probe, speaking as `knownBot` where the spec says 'known'. Only the bot's own process
 * gets its body read; `authorization` (the operator credential, which may preview get_state and
 * get_dimensions) lets those bodies through the caller check to the body guards. Other hooks
 * named for the known bot are refused (403) before their body is read.
 */
export function catalogue(knownBot: string, authorization?: string): Probe[] {
  return SPECS.map((spec) => {
    const as = spec.as === undefined ? STRANGER : spec.as === 'known' ? knownBot : spec.as;
    const headers: Record<string, string | string[]> = {};
    const contentType = spec.contentType === undefined ? JSON_TYPE : spec.contentType;
    if (contentType !== null) headers['content-type'] = contentType;
    if (as !== null) headers['x-farm-bot-id'] = as;
    if (authorization !== undefined) headers['authorization'] = authorization;
    return {
      name: spec.name,
      method: spec.method ?? 'POST',
      path: `/${spec.hook ?? ''}`,
      headers,
      ...(spec.body === undefined ? {} : { body: spec.body }),
      asKnownBot: as === knownBot,
      oversized: (spec.body?.length ?? 0) > 2 ** 20,
    };
  });
}

/** The calls one caller-chosen id makes in the many-ids phase (state of `bodyBytes`). */
export function strangerCalls(id: string, bodyBytes: number): RawRequest[] {
  const headers = { 'content-type': JSON_TYPE, 'x-farm-bot-id': id };
  return [
    { path: '/get_state', headers, body: bulkyState(bodyBytes) },
    { path: '/get_dimensions', headers, body: '{}' },
    { path: '/on_before_task', headers, body: `{"call_id":"${id}","wait_ms":0}` },
    { path: '/on_after_task', headers, body: '{"failure":false,"internal_failure":false}' },
    { path: '/reboot_requested', headers, body: '{"argv":["reboot"]}' },
  ];
}
