/**
 * Issue 11 item 6: the real farm-agent program with its own adb server, killed again and
 * again. Each time the slots must stop saying `ready` at once (adb-down), and be ready
 * again within seconds even after many deaths in a row (the restart backoff is capped
 * at 5 s; it used to climb to 30 s).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startAgentProcess, type AgentProcess } from '../rigs/agent-process.js';
import { startFakePhone } from '../rigs/fake-adbd/index.js';
import { isAlive, waitFor } from '../rigs/test-bots.js';

interface Status {
  devices: { adbServer: { pid?: number } };
  slots: { state: string; reason?: string }[];
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const status = async (agent: AgentProcess) => (await agent.getJson('/status')) as Status;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;

describe('adb server deaths', () => {
  it('show as adb-down at once, and the slots are back within seconds, kill after kill', async () => {
    const phones = await Promise.all([1, 2].map(() => startFakePhone()));
    cleanups.push(() => Promise.all(phones.map((phone) => phone.close())));
    const agent = await startAgentProcess({
      FARM_ADB_TCP_DEVICES: phones.map((phone) => phone.serial).join(','),
      FARM_LOG_LEVEL: 'info',
    });
    cleanups.push(() => agent.stop());
    const allReady = async () => {
      const { slots } = await status(agent);
      return slots.length === phones.length && slots.every((slot) => slot.state === 'ready');
    };
    await waitFor('slots ready', allReady, 20_000);

    const downMs: number[] = [];
    const backMs: number[] = [];
    let caughtDown = 0;
    // Said again whenever the reason changes (the connection reset, then refused): one kill
    // may log it more than once, so what counts is a line stamped after this kill.
    const saidDownSince = (at: number) =>
      agent.logs.some(
        (l) => l.msg === 'adb server down: no slot is ready' && (l.time as number) >= at,
      );
    for (let kill = 0; kill < 6; kill++) {
      const server = (await status(agent)).devices.adbServer.pid as number;
      const killedAt = Date.now();
      process.kill(server, 'SIGKILL');
      // The agent says so at once, whether or not a /status poll falls into the window: the
      // first restarts come after 0.25 and 0.5 s, shorter than a poll on a loaded machine.
      await waitFor('the agent saying the adb server is down', () => saidDownSince(killedAt));
      downMs.push(Date.now() - killedAt);
      // Until the slots are back, an adb-down slot says why; on the new server they come
      // back as a newly attached phone does (missing, offline, booting, then ready).
      await waitFor(
        'slots ready again',
        async () => {
          const now = await status(agent);
          for (const slot of now.slots) {
            if (slot.state === 'adb-down') expect(slot.reason).toMatch(/^adb server unreachable: /);
          }
          if (now.slots.some((slot) => slot.state === 'adb-down')) caughtDown++;
          return now.slots.length === phones.length && now.slots.every((x) => x.state === 'ready');
        },
        30_000,
      );
      backMs.push(Date.now() - killedAt);
      expect(isAlive(server)).toBe(false);
    }
    console.log(
      `6 adb server kills in a row: adb-down after ${downMs.join(', ')} ms ` +
        `(${caughtDown} /status reads showed it); ` +
        `ready again after ${backMs.join(', ')} ms (median ${median(backMs)} ms)`,
    );
    // The later restarts wait seconds: /status must have shown adb-down in them.
    expect(caughtDown).toBeGreaterThan(0);
    // Restarts wait 0.25, 0.5, 1, 2, 4, 5 s at most here; they used to reach 30 s.
    expect(Math.max(...backMs)).toBeLessThan(12_000);
    const delays = agent.logs
      .filter((l) => String(l.msg).startsWith('adb server ended'))
      .map((l) => l.restartInMs as number);
    expect(delays).toHaveLength(6);
    expect(Math.max(...delays)).toBeLessThanOrEqual(5000);
  }, 120_000);
});
