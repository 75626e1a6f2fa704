/**
 * A hook call's body: JSON only, at most a limit, parsed with prototype-poisoning checks, and no
 * deeper than MAX_BODY_DEPTH, refused with the status and reason Fastify gave the same calls.
 */
import type { IncomingMessage } from 'node:http';
import secureJson from 'secure-json-parse';
import { HookRefusal } from './hook-guards.js';

/**
 * Real bot state nests four or five levels (`disks./.free_mb`); this leaves
 * room while keeping every body far from the recursion limits of
 * `JSON.stringify`, which answers and `/status` serialize it with (5,000
 * levels overflow the stack).
 */
export const MAX_BODY_DEPTH = 32;

/** `__proto__` and `constructor.prototype` keys are refused, as Fastify refuses them. */
const POISON = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * Reads and parses the body of `request`: undefined when there is none and no content type
 * says there is. Refuses, as a HookRefusal: a content type other than JSON (415), a body over
 * `limit` bytes (413; the caller should close the connection, whose rest is unread), an empty or
 * malformed JSON body (400), one nested deeper than MAX_BODY_DEPTH (400).
 */
export function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const type = request.headers['content-type'];
  const length = request.headers['content-length'];
  if (type === undefined && !hasBody(request)) return Promise.resolve(undefined);
  if (!isJson(type)) {
    return Promise.reject(new HookRefusal(415, `Unsupported Media Type: ${type ?? 'none'}`));
  }
  if (length !== undefined && Number(length) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    let text = '';
    let received = 0;
    /** Ended, or refused as too large: a later close has nothing left to settle. */
    let settled = false;
    const onData = (chunk: string): void => {
      received += Buffer.byteLength(chunk);
      if (received <= limit) {
        text += chunk;
        return;
      }
      request.off('data', onData).off('end', onEnd);
      settled = true;
      reject(tooLarge());
    };
    const onEnd = (): void => {
      settled = true;
      try {
        resolve(parse(text));
      } catch (err) {
        reject(err as Error);
      }
    };
    // A caller that hangs up mid-body gets no answer, but the promise still settles. Every
    // request closes after its end: no refusal is built then (an Error's stack costs ~20 µs).
    const onGone = (): void => {
      if (!settled) reject(new HookRefusal(400, 'the caller hung up mid-body'));
    };
    request.setEncoding('utf8');
    request.on('data', onData).on('end', onEnd).on('error', onGone).on('close', onGone);
  });
}

/** Whether `request` says it carries a body: a non-zero length, or a transfer encoding. */
export function hasBody({ headers }: IncomingMessage): boolean {
  const length = headers['content-length'];
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
}

/** `application/json`, with or without parameters (`; charset=utf-8`), in any case. */
function isJson(type: string | undefined): boolean {
  if (type === undefined) return false;
  const end = type.indexOf(';');
  return (end < 0 ? type : type.slice(0, end)).trim().toLowerCase() === 'application/json';
}

function tooLarge(): HookRefusal {
  return new HookRefusal(413, 'Request body is too large');
}

function parse(text: string): unknown {
  if (text === '') {
    throw new HookRefusal(
      400,
      "Body cannot be empty when content-type is set to 'application/json'",
    );
  }
  let value: unknown;
  try {
    value = secureJson.parse(text, null, POISON);
  } catch (err) {
    throw new HookRefusal(400, `Body is not valid JSON: ${(err as Error).message}`);
  }
  if (deeperThan(value, MAX_BODY_DEPTH)) {
    throw new HookRefusal(400, `body nests deeper than ${MAX_BODY_DEPTH} levels`);
  }
  return value;
}

/**
 * Whether `value` has arrays or objects nested more than `max` levels. Recursive, but never
 * deeper than `max` + 1 calls, so any depth is safe; no work list to allocate on every body.
 */
export function deeperThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (max === 0) return true;
  if (Array.isArray(value)) return value.some((item) => deeperThan(item, max - 1));
  for (const key in value) {
    if (deeperThan((value as Record<string, unknown>)[key], max - 1)) return true;
  }
  return false;
}
