import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from './main.js';

/** Stands in for the running agent's cluster listener and records what the CLI sends it. */
const received: { method?: string; url?: string; body: string }[] = [];
const agent = createServer((request: IncomingMessage, response) => {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    received.push({ method: request.method, url: request.url, body });
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ slots: [], bots: [] }));
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
  vi.stubEnv('FARM_HTTP_PORT', String((agent.address() as AddressInfo).port));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await new Promise((resolve) => agent.close(resolve));
});

async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  const errors: string[] = [];
  const spy = vi.spyOn(console, 'error').mockImplementation((text: string) => errors.push(text));
  try {
    return { code: await main(argv), stderr: errors.join('\n') };
  } finally {
    spy.mockRestore();
  }
}

describe('farm-agent CLI against a running agent', () => {
  // One misspelling per command: each exits 2 with the usage and sends the agent nothing.
  it.each([
    ['run', '--verbos'],
    ['status', '--jsno'],
    ['devices', '--jsno'],
    ['dims', '--all'],
    ['maintenance', '--clera'],
    ['maintenance', 'usb-1-1-3', '--reasn', 'rewiring'],
    ['quarantine', '--cleer'],
    ['wake', '--now'],
    ['sleep', '--force'],
    ['config', '--mardown'],
    ['help', '--x'],
  ])('refuses %s %s and changes nothing', async (...argv) => {
    received.length = 0;
    const { code, stderr } = await run(argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^farm-agent: .*\n\nusage: farm-agent/);
    expect(received).toEqual([]);
  });

  it('refuses a misspelt command and a stray argument', async () => {
    received.length = 0;
    expect((await run(['maintainance'])).stderr).toContain('unknown command "maintainance"');
    expect((await run(['wake', 'usb-1', 'usb-2'])).stderr).toContain('unexpected argument "usb-2"');
    expect(received).toEqual([]);
  });

  it('sends what a correct command means', async () => {
    received.length = 0;
    expect((await run(['maintenance', '--clear'])).code).toBe(0);
    expect((await run(['quarantine', 'usb-1-1-3', '--reason', ' cracked screen '])).code).toBe(0);
    expect((await run(['maintenance'])).code).toBe(0);
    expect((await run(['sleep', 'usb-1-1-3'])).code).toBe(0);
    expect(
      received.map(({ method, url, body }) => [method, url, body && JSON.parse(body)]),
    ).toEqual([
      ['POST', '/operator/override', { kind: 'maintenance', reason: null }],
      [
        'POST',
        '/operator/override',
        { kind: 'quarantine', slot: 'usb-1-1-3', reason: 'cracked screen' },
      ],
      [
        'POST',
        '/operator/override',
        { kind: 'maintenance', reason: 'maintenance set with farm-agent CLI' },
      ],
      ['POST', '/sleep?slot=usb-1-1-3', ''],
    ]);
  });

  it('refuses --reason together with --clear', async () => {
    received.length = 0;
    const { code, stderr } = await run(['quarantine', '--clear', '--reason', 'x']);
    expect(code).toBe(2);
    expect(stderr).toContain('either --reason or --clear');
    expect(received).toEqual([]);
  });
});
