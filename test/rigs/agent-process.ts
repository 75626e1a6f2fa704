import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

const BIN = fileURLToPath(new URL('../../agent/bin/farm-agent.js', import.meta.url));

export type LogLine = Record<string, unknown> & { msg?: string };

export interface AgentProcess {
  child: ChildProcess;
  httpUrl: string;
  hookUrl: string;
  adbPort: number;
  stateDir: string;
  /** Every JSON log line so far. */
  logs: LogLine[];
  /** Non-JSON output (Node warnings, crashes). */
  stderr: string[];
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  getJson(path: string): Promise<unknown>;
  /** Sends the signal and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The log line each long-running command writes once it serves. */
const STARTED = { run: 'farm-agent started', gate: 'farm gate started' } as const;

/**
 * Runs the real `farm-agent` program (its build output; `run` or `gate`) as a child process on
 * free ports with its own state directory, and collects its structured log.
 */
export async function startAgentProcess(
  env: Record<string, string> = {},
  command: keyof typeof STARTED = 'run',
): Promise<AgentProcess> {
  const [httpPort, hookPort, adbPort] = [await freePort(), await freePort(), await freePort()];
  const stateDir = await mkdtemp(join(tmpdir(), 'farm-agent-'));
  const child = spawn(BIN, [command], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: stateDir,
      FARM_HTTP_HOST: '127.0.0.1',
      FARM_HTTP_PORT: String(httpPort),
      FARM_HOOK_PORT: String(hookPort),
      // Never the machine's own adb server on 5037.
      FARM_ADB_PORT: String(adbPort),
      FARM_STATE_DIR: stateDir,
      FARM_LOG_LEVEL: 'debug',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { stdout, stderr: errors } = child;
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: stdout }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      stderr.push(line);
    }
    for (const check of waiters) check();
  });
  createInterface({ input: errors }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = 15_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = (): void => {
        const found = logs.find(predicate);
        if (found) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `no matching log line within ${timeoutMs} ms; last lines:\n` +
              logs
                .slice(-15)
                .map((l) => JSON.stringify(l))
                .join('\n') +
              `\nstderr:\n${stderr.slice(-10).join('\n')}`,
          ),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  const agent: AgentProcess = {
    child,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    hookUrl: `http://127.0.0.1:${hookPort}`,
    adbPort,
    stateDir,
    logs,
    stderr,
    waitForLog,
    async getJson(path) {
      const response = await fetch(`${agent.httpUrl}${path}`);
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return response.json();
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      // Its adb server dies with it (setpriv); this catches one that could not (no setpriv).
      await new Promise((resolve) =>
        execFile('adb', ['-P', String(adbPort), 'kill-server'], { timeout: 5000 }, resolve),
      );
      return code;
    },
  };
  await Promise.race([
    waitForLog((l) => l.msg === STARTED[command]),
    exited.then((code) => {
      // The log goes with the error: a refused start-up says why there.
      throw Object.assign(
        new Error(`farm-agent exited with ${code} before starting:\n${stderr.join('\n')}`),
        { code, logs },
      );
    }),
  ]);
  return agent;
}
