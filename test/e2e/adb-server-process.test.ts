/**
 * AdbServerProcess supervising the real Debian adb server.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdbServerProcess } from '../../agent/src/devices/adb/adb-server.js';
import { parseProcNetTcp } from '../../agent/src/lifecycle/proc-net-tcp.js';
import type { AdbServerProcessOptions } from '../../agent/src/devices/adb/adb-server.js';
import { ADB_BIN, hostRequest, startAdbServer, stopAllAdbServers } from '../rigs/adb-server.js';
import { freePort } from '../rigs/ports.js';
import { captureLogger, isAlive, waitFor } from '../rigs/test-bots.js';
import type { LogRecord } from '../rigs/test-bots.js';

/** The kernel's TCP_LISTEN state in /proc/net/tcp. */
const TCP_LISTEN = 0x0a;

/** Resolves with the server's version reply once one answers on the port. */
async function answers(port: number, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await hostRequest(port, 'host:version', 500).catch(() => '');
    if (reply.startsWith('OKAY')) return reply;
    if (Date.now() > deadline) throw new Error(`nothing answers on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function restartCount(registry: Registry, reason: string): Promise<number> {
  const metric = await registry.getSingleMetric('farm_adb_server_restarts_total')?.get();
  return metric?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('AdbServerProcess', () => {
  let home: string;
  let registry: Registry;
  let records: LogRecord[];
  const supervisors: AdbServerProcess[] = [];

  function supervise(options: Partial<AdbServerProcessOptions> & { port: number }) {
    const captured = captureLogger();
    records = captured.records;
    const supervisor = new AdbServerProcess({
      logger: captured.logger,
      registry,
      bin: ADB_BIN,
      // Its own HOME: the server's RSA key must not land in the user's ~/.android.
      env: { ...process.env, HOME: home, ANDROID_SDK_HOME: home, ADB_MDNS: '0' },
      restartBackoff: { initialMs: 50, maxMs: 200 },
      ...options,
    });
    supervisors.push(supervisor);
    return supervisor;
  }

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'adb-supervised-'));
    registry = new Registry();
  });

  afterEach(async () => {
    await Promise.all(supervisors.splice(0).map((s) => s.stop()));
    await stopAllAdbServers();
    await rm(home, { recursive: true, force: true });
  });

  it('restarts a server killed with SIGKILL, logs why, and stops it on stop()', async () => {
    const port = await freePort();
    let ready = 0;
    const supervisor = supervise({ port, onReady: () => (ready += 1) });
    supervisor.start();
    expect(await answers(port)).toMatch(/^OKAY0004/);
    await waitFor('first ready', () => ready === 1);
    const first = supervisor.pid;
    expect(first).toBeDefined();

    const killedAt = Date.now();
    process.kill(first as number, 'SIGKILL');
    await waitFor('a new server', () => supervisor.pid !== undefined && supervisor.pid !== first);
    await waitFor('second ready', () => ready === 2);
    const backMs = Date.now() - killedAt;
    expect(await answers(port)).toMatch(/^OKAY/);
    expect(backMs).toBeLessThan(2000);
    console.log(`adb server answering again ${backMs} ms after SIGKILL (backoff 50 ms)`);
    expect(await restartCount(registry, 'exit')).toBe(1);
    const why = records.find((r) => r.msg.startsWith('adb server ended'));
    expect(why).toMatchObject({ signal: 'SIGKILL', code: null });
    expect(Array.isArray(why?.lastStderr)).toBe(true);

    const second = supervisor.pid as number;
    await supervisor.stop();
    expect(isAlive(second)).toBe(false);
    await expect(hostRequest(port, 'host:version', 300)).rejects.toThrow(/ECONNREFUSED/);
    expect(await restartCount(registry, 'exit')).toBe(1);
  });

  it('backs off while the server keeps dying, capped, and starts over after a stable run', async () => {
    const port = await freePort();
    let ready = 0;
    const supervisor = supervise({
      port,
      restartBackoff: { initialMs: 50, maxMs: 200, jitter: 0 },
      stableAfterMs: 1500,
      onReady: () => (ready += 1),
    });
    supervisor.start();
    const killWhenReady = async (readyCount: number) => {
      await waitFor(`ready ${readyCount}`, () => ready === readyCount);
      const pid = supervisor.pid as number;
      process.kill(pid, 'SIGKILL');
      await waitFor('gone', () => !isAlive(pid));
    };
    for (let run = 1; run <= 5; run++) await killWhenReady(run);
    await waitFor('ready 6', () => ready === 6);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    await killWhenReady(6);
    await waitFor('ready 7', () => ready === 7);
    const delays = records
      .filter((r) => r.msg.startsWith('adb server ended'))
      .map((r) => r.restartInMs);
    expect(delays).toEqual([50, 100, 200, 200, 200, 50]);
  });

  it('keeps retrying a missing binary without throwing, and stops cleanly', async () => {
    const port = await freePort();
    const supervisor = supervise({ port, bin: '/nonexistent/adb' });
    supervisor.start();
    await waitFor('three spawn failures', () =>
      records.filter((r) => r.msg.includes('could not start the adb server')).length >= 3
        ? true
        : undefined,
    );
    expect(await restartCount(registry, 'spawn_error')).toBeGreaterThanOrEqual(3);
    expect(records.find((r) => r.msg.includes('ENOENT'))).toBeDefined();
    await supervisor.stop();
  });

  it('kills a stray adb daemon holding its port, then runs its own', async () => {
    const stray = await startAdbServer();
    const supervisor = supervise({ port: stray.port });
    supervisor.start();
    await waitFor('the stray gone', () => !isAlive(stray.pid));
    await waitFor('our server', () => supervisor.pid);
    expect(supervisor.pid).not.toBe(stray.pid);
    expect(await answers(stray.port)).toMatch(/^OKAY/);
    expect(records.some((r) => r.msg.includes('stray adb daemon'))).toBe(true);
    // Killing the stray is not a restart of ours.
    expect(await restartCount(registry, 'exit')).toBe(0);
  });

  it('external mode spawns nothing', async () => {
    const port = await freePort();
    const supervisor = supervise({ port, external: true });
    supervisor.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(supervisor.pid).toBeUndefined();
    await expect(hostRequest(port, 'host:version', 300)).rejects.toThrow(/ECONNREFUSED/);
  });

  // Anyone who reaches an adb server gets a shell on every phone: loopback unless asked.
  it.each([
    [undefined, ['127.0.0.1']],
    ['loopback' as const, ['127.0.0.1']],
    ['all' as const, ['::']], // every address, IPv4 and IPv6
  ])('listen %s binds %j', async (listen, addresses) => {
    const port = await freePort();
    supervise({ port, ...(listen ? { listen } : {}) }).start();
    await answers(port);
    const table =
      (await readFile('/proc/net/tcp', 'utf8')) + (await readFile('/proc/net/tcp6', 'utf8'));
    const listening = parseProcNetTcp(
      table,
      (state, local) => state === TCP_LISTEN && local === port,
    );
    expect(listening.map((socket) => socket.local.replace(/:\d+$/, ''))).toEqual(addresses);
  });
});
