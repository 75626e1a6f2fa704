/**
 * `npm run bench`: every figure beside its floor, measured in the same run. Prints a table and
 * writes bench/results/latest.json. BENCH_ONLY=hooks,change,… runs some sections;
 * BENCH_QUICK=1 shrinks windows and counts to try the harness out (figures not for publishing).
 */
import { printTable, QUICK, runSections, type Row } from './lib.js';
import { battery } from './sections/battery.js';
import { change } from './sections/change.js';
import { footprint } from './sections/footprint.js';
import { gate } from './sections/gate.js';
import { hooks } from './sections/hooks.js';
import { idle } from './sections/idle.js';
import { startup } from './sections/startup.js';

const SECTIONS: Record<string, () => Promise<Row[]>> = {
  hooks,
  change,
  footprint,
  idle,
  startup,
  gate,
  battery,
};

const { rows, errors } = await runSections(
  'bench',
  SECTIONS,
  process.env.BENCH_ONLY,
  QUICK,
  'latest.json',
);
printTable(rows);
if (Object.keys(errors).length > 0) process.exitCode = 1;
