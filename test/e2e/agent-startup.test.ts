import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgentProcess, type AgentProcess, type LogLine } from '../rigs/agent-process.js';

/**
 * The real farm-agent program refuses to start on settings that would make
 * it run badly or silently half-working, naming the setting; and with
 * FARM_STATUS_TOKEN_FILE its /status answers only the token's bearer.
 */
const BIN = fileURLToPath(new URL('../../agent/bin/farm-agent.js', import.meta.url));
const hostOnly = { FARM_DEVICES: 'none', FARM_BOT_ID: 'startup-e2e' };

let agent: AgentProcess | undefined;
afterEach(async () => {
  await agent?.stop('SIGKILL');
  agent = undefined;
});

describe('farm-agent refuses to start', () => {
  it.each([
    ['FARM_LEASE_RENEW_INTERVAL', '1ms', 'expected a duration (ms, s, m or h) from 1s to 5m'],
    ['FARM_DEVICE_REFRESH', '2h', 'expected a duration (ms, s, m or h) from 1s to 1h'],
    ['FARM_IDLE_CHECKS', '0', 'expected a whole number from 1 to 1000'],
    ['FARM_HOST_DISK_MIN_FREE', '5Ti', 'expected a size (bytes, Ki, Mi, Gi or Ti) from 0 to 1Ti'],
  ])('with %s=%s, exiting 2 with the allowed range', async (name, value, message) => {
    await expect(startAgentProcess({ ...hostOnly, [name]: value })).rejects.toThrow(
      `farm-agent exited with 2 before starting:\nfarm-agent: invalid configuration:\n  ${name}="${value}": ${message}`,
    );
  });

  /** The exit code and the fatal log line of a start-up that failed. */
  async function refusal(env: Record<string, string>): Promise<[unknown, unknown]> {
    const err = (await startAgentProcess({ ...hostOnly, ...env }).catch((e: unknown) => e)) as {
      code?: number;
      logs?: LogLine[];
    };
    return [err.code, err.logs?.find((l) => l.level === 60)?.msg];
  }

  it('with a FARM_STATE_DIR it cannot write, naming it', async () => {
    // Root writes through permissions, so a path under a plain file stands for "unwritable".
    const dir = await mkdtemp(join(tmpdir(), 'startup-e2e-'));
    await writeFile(join(dir, 'file'), '');
    const stateDir = join(dir, 'file', 'state');
    expect(await refusal({ FARM_STATE_DIR: stateDir })).toEqual([
      2,
      expect.stringContaining(
        `could not start: FARM_STATE_DIR="${stateDir}": cannot write there (ENOTDIR`,
      ),
    ]);
  });

  it('with a FARM_KUBECONFIG that does not exist, instead of running standalone', async () => {
    expect(await refusal({ FARM_KUBECONFIG: '/nonexistent' })).toEqual([
      2,
      expect.stringMatching(
        /could not start: FARM_KUBECONFIG="\/nonexistent": no cluster configuration \(.*kubeconfig: \/nonexistent not found\)$/,
      ),
    ]);
  });

  it('with a FARM_KUBECONFIG whose user runs an exec credential plugin, naming the user (the gate too)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'startup-e2e-'));
    const path = join(dir, 'kubeconfig');
    await writeFile(
      path,
      `clusters: [{name: k, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: eks-admin, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}}}]
contexts: [{name: c, context: {cluster: k, user: eks-admin}}]
current-context: c
`,
    );
    expect(await refusal({ FARM_KUBECONFIG: path })).toEqual([
      2,
      expect.stringContaining(
        `could not start: FARM_KUBECONFIG="${path}": kubeconfig ${path}: user "eks-admin" uses an exec credential plugin (exec), which farm-agent does not run`,
      ),
    ]);
    // The farm gate reads it the same way, and needs the cluster to start at all.
    const gate = (await startAgentProcess({ FARM_KUBECONFIG: path }, 'gate').catch(
      (e: unknown) => e,
    )) as { code?: number; logs?: LogLine[] };
    expect([gate.code, gate.logs?.find((l) => l.level === 60)?.msg]).toEqual([
      2,
      `the farm gate needs the cluster: kubeconfig ${path}: user "eks-admin" uses an exec credential plugin (exec), which farm-agent does not run: give it a token, tokenFile or client certificate`,
    ]);
  });

  it('with a FARM_STATUS_TOKEN_FILE it cannot read', async () => {
    expect(await refusal({ FARM_STATUS_TOKEN_FILE: '/nonexistent/token' })).toEqual([
      2,
      expect.stringContaining(
        'could not start: FARM_STATUS_TOKEN_FILE="/nonexistent/token": ENOENT',
      ),
    ]);
  });
});

describe('FARM_STATUS_TOKEN_FILE', () => {
  const TOKEN = 'e2e-status-token-3f9c1d2b7a';

  it('makes /status answer 401 without the token, 200 with it, and the CLI sends it (and the operator credential to operator commands)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'startup-e2e-'));
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${TOKEN}\n`);
    agent = await startAgentProcess({ ...hostOnly, FARM_STATUS_TOKEN_FILE: tokenFile });

    const anonymous = await fetch(`${agent.httpUrl}/status`);
    expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([
      401,
      'Bearer realm="farm-agent"',
    ]);
    const wrong = await fetch(`${agent.httpUrl}/status`, {
      headers: { authorization: 'Bearer e2e-status-token-guessed' },
    });
    expect(wrong.status).toBe(401);
    const allowed = await fetch(`${agent.httpUrl}/status`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as { slots: unknown[] }).slots).toHaveLength(1);
    expect((await fetch(`${agent.httpUrl}/metrics`)).status).toBe(200);

    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, [BIN, ...args], {
        env: {
          PATH: process.env.PATH,
          FARM_HTTP_PORT: new URL(agent?.httpUrl ?? '').port,
          FARM_STATUS_TOKEN_FILE: tokenFile,
          FARM_STATE_DIR: agent?.stateDir,
        },
      });
    const { stdout } = await cli('status');
    expect(JSON.parse(stdout)).toMatchObject({ disabled: { devices: expect.any(String) } });
    // One Authorization header per request: an operator command carries the operator's.
    const { stdout: set } = await cli('maintenance', '--reason', 'rewiring');
    expect(JSON.parse(set)).toEqual({ host: { maintenance: 'rewiring' } });
    expect(JSON.stringify(agent.logs)).not.toContain(TOKEN);
  });
});
