import { operatorAuthorization } from '../../agent/src/operator/credential.js';
import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { treeName } from '../../bot-config/src/process-tree.js';
import { startAgentProcess, type AgentProcess, type LogLine } from '../rigs/agent-process.js';
import { markedProcesses } from '../rigs/bot-processes.js';
import { startFakeSwarming, type FakeSwarming } from '../rigs/fake-swarming.js';
import { buildTestBot } from '../rigs/test-bot.js';
import { isAlive, waitFor } from '../rigs/test-bots.js';
import { startTokenServer, type TokenServer } from '../rigs/token-server.js';

/**
 * The agent's stop with a task running (issue 10.8), and a SIGKILLed agent
 * (issue 11.7): the test bot runs tasks as the real one does, detached
 * task_runner and run_isolated included, and ignores SIGTERM while one runs.
 */
const TOKEN = 'ya29.drain-token';
const BOT_ID = 'skia-rpi2-drain';

let zip: Buffer;
let swarming: FakeSwarming | undefined;
let tokens: TokenServer | undefined;
let agents: AgentProcess[] = [];

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'e2e-drain-'));
  zip = await readFile(await buildTestBot(join(dir, 'swarming_bot.zip')));
});

afterEach(async () => {
  // SIGTERM: a clean stop also removes the bots' cgroups.
  await Promise.all(agents.map((a) => a.stop('SIGTERM')));
  agents = [];
  await swarming?.close();
  await tokens?.close();
  swarming = undefined;
  tokens = undefined;
});

async function startAgent(env: Record<string, string> = {}): Promise<AgentProcess> {
  swarming ??= await startFakeSwarming({ zip, token: TOKEN });
  tokens ??= await startTokenServer(() => ({
    body: { access_token: TOKEN, expires_in: 3600, token_type: 'Bearer' },
  }));
  const tokenConfig = join(await mkdtemp(join(tmpdir(), 'e2e-drain-token-')), 'token.json');
  await writeFile(tokenConfig, JSON.stringify({ url: tokens.url }));
  const agent = await startAgentProcess({
    FARM_SWARMING_SERVER: swarming.url,
    FARM_TOKEN_CONFIG: tokenConfig,
    FARM_BOT_ID: BOT_ID,
    FARM_DEVICES: 'none',
    FARM_BOT_STOP_GRACE: '1s',
    FARM_DRAIN_GRACE: '60s',
    TEST_POLL_S: '0.2',
    ...env,
  });
  agents.push(agent);
  return agent;
}

const botSaid = (prefix: string) => (line: LogLine) =>
  typeof line.stream === 'string' && typeof line.msg === 'string' && line.msg.startsWith(prefix);

const pidIn = (line: LogLine) => Number(String(line.msg).split(' ')[1]);

/** Has the agent's bot take a task of `seconds`; returns task_runner's and run_isolated's pids. */
async function runTask(agent: AgentProcess, seconds: number) {
  await agent.waitForLog(botSaid('poll '));
  // Renamed into place: the bot polls for the file and must never read it half written.
  const trigger = join(agent.stateDir, 'bots', BOT_ID, 'run-task');
  await writeFile(`${trigger}.tmp`, String(seconds));
  await rename(`${trigger}.tmp`, trigger);
  const runner = pidIn(await agent.waitForLog(botSaid('task_runner ')));
  const isolated = pidIn(await agent.waitForLog(botSaid('run_isolated ')));
  return { runner, isolated };
}

/** What the bot would get from get_state, previewed as the operator (only the bot may ask). */
async function getState(agent: AgentProcess): Promise<Record<string, unknown>> {
  const authorization = await operatorAuthorization(join(agent.stateDir, 'operator-credential'));
  const response = await fetch(`${agent.hookUrl}/get_state`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-farm-bot-id': BOT_ID,
      authorization: authorization ?? '',
    },
    body: JSON.stringify({ running_time: 1, sleep_streak: 0 }),
  });
  return (await response.json()) as Record<string, unknown>;
}

describe('farm-agent stopping with a task running', () => {
  it('drains: no new tasks, the running one finishes, then nothing of the bot remains', async () => {
    const agent = await startAgent();
    // Longer than FARM_BOT_STOP_GRACE: only the drain lets it finish.
    const { runner } = await runTask(agent, 4);
    const before = await getState(agent);
    expect(before).toHaveProperty('sleep_streak');
    expect(before).not.toHaveProperty('maintenance');

    // One SIGTERM, as the kubelet sends.
    const exited = new Promise((resolve) => agent.child.once('exit', resolve));
    agent.child.kill('SIGTERM');
    await waitFor('draining', async () => (await getState(agent)).maintenance === 'agent stopping');
    const status = (await agent.getJson('/status')) as { swarming: Record<string, unknown> };
    expect(status.swarming).toMatchObject({ draining: true, runningTasks: [BOT_ID] });
    expect(isAlive(runner)).toBe(true);

    expect(await exited).toBe(0);
    expect(agent.logs.some(botSaid('task ended 0'))).toBe(true);
    expect(agent.logs.some((l) => l.msg === 'drained: no task runs')).toBe(true);
    const tree = treeName(BOT_ID, join(agent.stateDir, 'bots', BOT_ID));
    expect(markedProcesses(tree)).toEqual([]);
  });

  it('ends a task longer than the drain grace with the whole tree', async () => {
    const agent = await startAgent({ FARM_DRAIN_GRACE: '1s' });
    const { runner, isolated } = await runTask(agent, 3600);
    expect(await agent.stop()).toBe(0);
    expect(agent.logs.some((l) => String(l.msg).startsWith('drain grace over'))).toBe(true);
    expect([isAlive(runner), isAlive(isolated)]).toEqual([false, false]);
    expect(markedProcesses(treeName(BOT_ID, join(agent.stateDir, 'bots', BOT_ID)))).toEqual([]);
  });
});

describe('farm-agent SIGKILLed', () => {
  it('takes its bot along, and the next agent kills what the task left', async () => {
    const first = await startAgent();
    const { runner, isolated } = await runTask(first, 3600);
    const status = (await first.getJson('/status')) as { swarming: { bots: { pid: number }[] } };
    const bot = status.swarming.bots[0]?.pid ?? 0;
    expect(isAlive(bot)).toBe(true);

    await first.stop('SIGKILL');
    // The parent-death signal: the bot does not outlive the agent.
    await waitFor('bot gone with the agent', () => !isAlive(bot), 5_000);

    const second = await startAgent({ FARM_STATE_DIR: first.stateDir });
    await second.waitForLog(
      (l) => l.msg === 'killed bot processes an earlier run of the agent left',
    );
    await second.waitForLog(botSaid('poll '));
    expect([isAlive(runner), isAlive(isolated)]).toEqual([false, false]);
    const tree = treeName(BOT_ID, join(first.stateDir, 'bots', BOT_ID));
    const now = (await second.getJson('/status')) as { swarming: { bots: { pid: number }[] } };
    expect(markedProcesses(tree)).toEqual([now.swarming.bots[0]?.pid]);
  });

  it('kills what it left for a bot that is not started again', async () => {
    const first = await startAgent();
    const { runner, isolated } = await runTask(first, 3600);
    await first.stop('SIGKILL');
    // Its phone went away meanwhile: the next agent runs another bot.
    const second = await startAgent({ FARM_STATE_DIR: first.stateDir, FARM_BOT_ID: 'other-bot' });
    await second.waitForLog(
      (l) => l.msg === 'killed bot processes an earlier run of the agent left',
    );
    expect([isAlive(runner), isAlive(isolated)]).toEqual([false, false]);
    expect(markedProcesses(treeName(BOT_ID, join(first.stateDir, 'bots', BOT_ID)))).toEqual([]);
  });
});
