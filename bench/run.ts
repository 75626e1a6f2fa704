/**
 * `npm run bench`: every figure beside its floor, measured in the same run. Prints a table and
 * writes bench/results/latest.json. BENCH_ONLY=hooks,change,… runs some sections;
 * BENCH_QUICK=1 shrinks windows and counts to try the harness out (figures not for publishing).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { QUICK, ROOT, printTable, type Row } from './lib.js';
import { change } from './sections/change.js';
import { footprint } from './sections/footprint.js';
import { hooks } from './sections/hooks.js';
import { idle } from './sections/idle.js';
import { startup } from './sections/startup.js';

const SECTIONS: Record<string, () => Promise<Row[]>> = { hooks, change, footprint, idle, startup };

function machine(): Record<string, unknown> {
  const sh = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  return {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memoryBytes: totalmem(),
    kernel: sh('uname', ['-r']),
    node: process.version,
    python: sh('python3', ['--version']),
    adb: sh('adb', ['version']).split('\n')[0],
    // Another engineer's multi-arch image build under qemu competes for the two cores.
    busy: sh('sh', ['-c', "pgrep -fa 'qemu|debootstrap|buildah' | cut -c1-120 || true"]),
    loadavg: sh('cat', ['/proc/loadavg']),
  };
}

const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? Object.keys(SECTIONS);
const before = machine();
const rows: Row[] = [];
const errors: Record<string, string> = {};
const started = Date.now();
for (const name of only) {
  const section = SECTIONS[name];
  if (!section) throw new Error(`no section ${name}; have ${Object.keys(SECTIONS).join(', ')}`);
  console.error(`bench: ${name}…`);
  const t0 = Date.now();
  try {
    rows.push(...(await section()));
  } catch (e) {
    errors[name] = (e as Error).stack ?? String(e);
    console.error(`bench: ${name} failed: ${errors[name]}`);
  }
  console.error(`bench: ${name} done in ${Math.round((Date.now() - t0) / 1000)} s`);
}
const result = {
  at: new Date().toISOString(),
  quick: QUICK,
  durationSeconds: Math.round((Date.now() - started) / 1000),
  machine: before,
  loadavgAfter: machine().loadavg,
  rows,
  errors,
};
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(ROOT, 'bench', 'results', 'latest.json'),
  `${JSON.stringify(result, null, 2)}\n`,
);
printTable(rows);
if (Object.keys(errors).length > 0) process.exitCode = 1;
