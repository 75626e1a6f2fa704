/**
 * The README's commands, run as written. The run command is read from the README's "two
 * commands" block, never copied here, so a README that drifts from what works fails this test.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { leaseBody } from '../agent/src/cluster/lease-writer.js';
import { startAgentProcess } from './rigs/agent-process.js';
import { startFakeKube } from './rigs/fake-kube/index.js';
import { writeKubeconfig } from './rigs/fake-kube/kubeconfig.js';
import { freePort } from './rigs/ports.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
const ciRun = await readFile(join(ROOT, '.ci/run'), 'utf8');

/** The fenced `sh` block under a heading, as command lines without their comments. */
function commandsUnder(heading: string): string[] {
  const section = readme.split(/^## /m).find((part) => part.startsWith(heading));
  const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error(`README has no sh block under "## ${heading}"`);
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

const [runCommand, testCommand] = commandsUnder('The two commands');

/** What follows `npm ci && `: the part a test can run without reinstalling node_modules. */
function afterInstall(command: string | undefined): string {
  const match = /^npm ci && (.+)$/.exec(command ?? '');
  if (!match?.[1]) throw new Error(`expected "npm ci && …", the README says "${command}"`);
  return match[1];
}

/** Pids of live processes whose environment carries the marker (descendants inherit it). */
async function processesWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '');
    if (environ.split('\0').includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

async function until(what: string, check: () => boolean | Promise<boolean>, deadline: number) {
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Preloaded into every node the command starts (npm, tsc, the agent): the agent's own
 * program, started through its #! line, finds its launch flag in NODE_OPTIONS.
 */
const LAUNCH_PROBE = `--import=data:text/javascript,${encodeURIComponent(
  "if (process.argv[1]?.endsWith('farm-agent.js')) process.stderr.write(`agent NODE_OPTIONS: ${process.env.NODE_OPTIONS}\\n`);",
)}`;

const healthy = (url: string, deadline: number) =>
  until(
    `${url} to answer`,
    () =>
      fetch(url).then(
        (r) => r.ok,
        () => false,
      ),
    deadline,
  );

describe('README commands, as written', () => {
  it('the test command is what .ci/run runs', () => {
    expect(testCommand).toBe('npm ci && npm test');
    expect(ciRun.split('\n')).toContain(testCommand);
  });

  it('the prerequisites are exactly what .ci/run installs', () => {
    const packages = (text: string) =>
      [...text.matchAll(/apt-get install (?:-\S+ )*([^>\n]+)/g)]
        .flatMap((m) => (m[1] ?? '').trim().split(/\s+/))
        .filter((word) => !word.startsWith('-') && !word.startsWith('#'))
        .sort();
    const prerequisites = commandsUnder('Prerequisites');
    expect(packages(prerequisites.join('\n'))).toEqual(packages(ciRun));
    expect(packages(ciRun)).toEqual(expect.arrayContaining(['adb', 'chromium', 'python3']));
  });

  it.each([
    ['SIGTERM to npm (kill, kubectl delete)', 'npm' as const, 'SIGTERM' as const],
    ['SIGINT to the whole terminal group (Ctrl-C)', 'group' as const, 'SIGINT' as const],
  ])(
    'the run command serves both listeners, then stops on %s with exit 0 and nothing left',
    { timeout: 120_000 },
    async (_label, target, signal) => {
      const [httpPort, hookPort] = [await freePort(), await freePort()];
      const marker = `FARM_README_TEST=${process.pid}-${httpPort}`;
      const [name, value] = marker.split('=') as [string, string];
      const stateDir = await mkdtemp(join(tmpdir(), 'farm-readme-'));
      // As an interactive shell runs it: the command replaces the forked shell, in a process
      // group of its own as a terminal's foreground job.
      const shell = spawn('sh', ['-c', `exec ${afterInstall(runCommand)}`], {
        cwd: ROOT,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          [name]: value,
          FARM_DEVICES: 'none',
          FARM_HTTP_HOST: '127.0.0.1',
          FARM_HTTP_PORT: String(httpPort),
          FARM_HOOK_PORT: String(hookPort),
          FARM_STATE_DIR: stateDir,
          NODE_OPTIONS: LAUNCH_PROBE,
        },
      });
      let output = '';
      shell.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      shell.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
        shell.on('close', (code, killedBy) => resolve(code ?? killedBy)),
      );
      try {
        const deadline = Date.now() + 90_000;
        await Promise.race([
          Promise.all([
            healthy(`http://127.0.0.1:${httpPort}/healthz`, deadline),
            healthy(`http://127.0.0.1:${hookPort}/healthz`, deadline),
          ]),
          exited.then((code) => {
            throw new Error(`"${runCommand}" exited ${code} before serving:\n${output}`);
          }),
        ]);
        // The first log lines say what is disabled and why.
        await until('the log', () => output.includes('farm-agent started'), deadline);
        expect(output).toContain('devices disabled: FARM_DEVICES=none');
        expect(output).toContain(`Server listening at http://127.0.0.1:${httpPort}`);
        expect(output).toContain(`agent NODE_OPTIONS: --max-semi-space-size=2 ${LAUNCH_PROBE}`);
        process.kill(target === 'group' ? -(shell.pid ?? 0) : (shell.pid ?? 0), signal);
        // Ctrl-C reaches the agent twice (the terminal's SIGINT and npm's forwarded copy); a
        // second one that lands while it stops must not kill it (npm would then exit by signal).
        expect(await exited, output).toBe(0);
        expect(output).toContain('"msg":"stopped"');
        expect(await processesWith(marker)).toEqual([]);
      } finally {
        for (const pid of await processesWith(marker)) process.kill(pid, 'SIGKILL');
      }
    },
  );
});

describe('README "Farm gate" commands, as written', () => {
  const commands = commandsUnder('Farm gate');

  it('kubectl apply -k builds: the same kustomize build apply runs', () => {
    const applies = commands.filter((c) => c.startsWith('kubectl apply -k '));
    expect(applies).toEqual(['kubectl apply -k daemonset/gate']);
    for (const apply of applies) {
      const dir = apply.slice('kubectl apply -k '.length);
      expect(
        execFileSync('kubectl', ['kustomize', dir], { cwd: ROOT, encoding: 'utf8' }),
      ).toContain('kind: Deployment');
    }
  });

  it(
    'the curl lines work against the real gate (localhost:8090 being the port-forward)',
    { timeout: 120_000 },
    async () => {
      const kube = await startFakeKube();
      const dir = await mkdtemp(join(tmpdir(), 'readme-gate-'));
      // The agent of skia-rpi2-042, answering what the gate asks of it.
      const agent = createServer((req, res) => {
        res.setHeader('content-type', 'application/json');
        const slot = {
          name: 'usb-1-1-3',
          serial: 'R58N',
          model: 'Pixel 3a',
          state: 'ready',
          reason: null,
          ready: true,
        };
        res.end(
          JSON.stringify(
            req.url?.startsWith('/wake')
              ? { woke: [], ready: true }
              : { ready: true, slots: [slot] },
          ),
        );
      });
      await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
      const agentPort = (agent.address() as AddressInfo).port;
      kube.put(
        'leases',
        JSON.parse(
          JSON.stringify(
            leaseBody(
              { name: 'farm-agent-skia-rpi2-042', holder: 'farm-agent-x', durationSeconds: 40 },
              {
                node: 'skia-rpi2-042',
                lifecycle: {},
                address: `127.0.0.1:${agentPort}`,
                slots: [
                  {
                    name: 'usb-1-1-3',
                    key: 'usb:1-1.3',
                    botId: 'skia-rpi2-042-usb-1-1-3',
                    state: 'ready',
                    serial: 'R58N',
                    dimensions: { device_type: ['sargo'], device_os: ['Q'] },
                  },
                ],
              },
              Date.now(),
            ),
          ),
        ),
        'farm',
      );
      kube.identify('admin-token', { username: 'farm-admin' });
      kube.grant({ user: 'farm-admin', verb: 'update', apiGroup: 'apps', resource: 'daemonsets' });
      // `kubectl create token farm-admin`, as a cluster would answer it.
      const bin = join(dir, 'bin');
      await mkdir(bin);
      await writeFile(
        join(bin, 'kubectl'),
        '#!/bin/sh\n[ "$*" = "create token farm-admin" ] && echo admin-token\n',
        { mode: 0o755 },
      );
      const gate = await startAgentProcess(
        { FARM_KUBECONFIG: writeKubeconfig(kube, dir), FARM_NAMESPACE: 'farm' },
        'gate',
      );
      try {
        const port = new URL(gate.httpUrl).port;
        await until(
          'the first list',
          () => kube.requests.some((r) => r.path === '/api/v1/nodes'),
          Date.now() + 30_000,
        );
        const outputs: unknown[] = [];
        for (const line of commands.filter((c) => c.startsWith('curl '))) {
          // Not execFileSync: the fake API and the agent answer from this process.
          const { stdout: output } = await run(
            'sh',
            ['-c', line.replaceAll('localhost:8090', `127.0.0.1:${port}`)],
            { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } },
          );
          outputs.push(JSON.parse(output));
        }
        expect(outputs).toEqual([
          expect.objectContaining({
            node: 'skia-rpi2-042',
            slot: 'usb-1-1-3',
            serial: 'R58N',
            ready: true,
          }),
          expect.objectContaining({ node: 'skia-rpi2-042', slot: 'usb-1-1-3', ready: true }),
          expect.objectContaining({ paused: true }),
        ]);
      } finally {
        await gate.stop();
        agent.close();
        await kube.close();
      }
    },
  );
});
