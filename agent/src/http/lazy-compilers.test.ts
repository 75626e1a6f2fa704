import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazyCompilers } from './lazy-compilers.js';

function server() {
  return Fastify({
    ajv: { customOptions: { coerceTypes: false } },
    schemaController: { compilersFactory: lazyCompilers },
  });
}

describe('lazyCompilers', () => {
  it('validates as Fastify does, with its messages and Ajv options', async () => {
    const app = server();
    const body = {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string' }, on: { type: 'boolean' } },
    };
    app.post('/x', { schema: { body } }, async (request) => request.body);
    const post = (payload: object) => app.inject({ method: 'POST', url: '/x', payload });
    expect((await post({ name: 'a' })).json()).toEqual({ name: 'a' });
    const missing = await post({});
    expect(missing.statusCode).toBe(400);
    expect(missing.json().message).toBe("body must have required property 'name'");
    // coerceTypes: false reaches Ajv: "true" stays a string and is refused.
    expect((await post({ name: 'a', on: 'true' })).json().message).toBe('body/on must be boolean');
  });

  it('serialises a response through its schema, as Fastify does', async () => {
    const app = server();
    const response = { 200: { type: 'object', properties: { shown: { type: 'string' } } } };
    app.get('/x', { schema: { response } }, async () => ({ shown: 'yes', hidden: 'no' }));
    expect((await app.inject({ method: 'GET', url: '/x' })).json()).toEqual({ shown: 'yes' });
  });

  it('compiles a schema at its route’s first request, not when the server starts', async () => {
    const app = server();
    app.post('/x', { schema: { body: { type: 'no-such-type' } } }, async () => ({}));
    // An eager compile would reject here.
    await app.ready();
    expect((await app.inject({ method: 'POST', url: '/x', payload: {} })).statusCode).toBe(500);
  });
});
