import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { deeperThan, readJsonBody } from './hook-body.js';

/** A request whose body arrives in `chunks`, with `headers`. */
function request(headers: Record<string, string>, ...chunks: string[]): IncomingMessage {
  return Object.assign(Readable.from(chunks.map((c) => Buffer.from(c))), {
    headers,
  }) as unknown as IncomingMessage;
}

const json = { 'content-type': 'application/json' };

describe('readJsonBody', () => {
  it('parses a body that arrives in pieces, whatever the JSON type says of its charset', async () => {
    const body = request(
      { 'content-type': 'Application/JSON; charset=utf-8' },
      '{"os": ["Li',
      'nux"]}',
    );
    await expect(readJsonBody(body, 100)).resolves.toStrictEqual({ os: ['Linux'] });
  });

  it('is undefined with neither a body nor a content type', async () => {
    await expect(readJsonBody(request({}), 100)).resolves.toBeUndefined();
    await expect(readJsonBody(request({ 'content-length': '0' }), 100)).resolves.toBeUndefined();
  });

  it.each([
    [{}, 'x', 415, 'Unsupported Media Type: none'],
    [{ 'content-type': 'text/plain' }, '{}', 415, 'Unsupported Media Type: text/plain'],
    [{ 'content-type': 'application/jsonx' }, '{}', 415, 'Unsupported Media Type'],
    [json, '', 400, 'Body cannot be empty'],
    [json, '{"os": [', 400, 'Body is not valid JSON'],
    [json, '{"__proto__": {"x": 1}}', 400, 'Body is not valid JSON'],
    [json, '{"constructor": {"prototype": {"x": 1}}}', 400, 'Body is not valid JSON'],
    [json, '[[[1]]]', 400, 'body nests deeper than 32 levels'],
  ])('%o with %s is a %i: %s', async (headers, text, code, message) => {
    const body = text === '[[[1]]]' ? '['.repeat(33) + ']'.repeat(33) : text;
    const refusal = readJsonBody(request({ 'content-length': '1', ...headers }, body), 1000);
    await expect(refusal).rejects.toMatchObject({ statusCode: code });
    await expect(refusal).rejects.toThrow(message);
  });

  it('refuses a body over the limit, by its length or by what arrives', async () => {
    const over = { ...json, 'content-length': '101' };
    await expect(readJsonBody(request(over, '{}'), 100)).rejects.toMatchObject({ statusCode: 413 });
    const chunked = { ...json, 'transfer-encoding': 'chunked' };
    const body = request(chunked, `{"a": "${'x'.repeat(60)}`, `${'x'.repeat(60)}"}`);
    await expect(readJsonBody(body, 100)).rejects.toMatchObject({ statusCode: 413 });
    const exact = `{"a": "${'x'.repeat(91)}"}`; // 100 bytes
    await expect(readJsonBody(request(chunked, exact), 100)).resolves.toHaveProperty('a');
  });

  it('settles when the caller hangs up mid-body', async () => {
    const body = new Readable({ read: () => undefined });
    Object.assign(body, { headers: { ...json, 'content-length': '50' } });
    const reading = readJsonBody(body as unknown as IncomingMessage, 100);
    body.push('{"a": ');
    body.destroy();
    await expect(reading).rejects.toThrow('hung up');
  });
});

describe('deeperThan', () => {
  it('counts arrays and objects alike; scalars are no level', () => {
    expect(deeperThan(1, 0)).toBe(false);
    expect(deeperThan({}, 0)).toBe(true);
    expect(deeperThan({ a: [1, 'x', null] }, 2)).toBe(false);
    expect(deeperThan({ a: [1, { b: true }] }, 2)).toBe(true);
    expect(deeperThan([[], [[]]], 3)).toBe(false);
    expect(deeperThan([[], [[[]]]], 3)).toBe(true);
  });

  it('walks any depth without recursion', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    expect(deeperThan(deep, 32)).toBe(true);
  });
});
