/**
 * `npm run soak`: long probes against the real agent process, each figure beside the bound it
 * must keep (pass/FAIL). Prints a table, writes bench/results/soak.json and the same table as
 * Markdown (bench/results/soak.md) for RELIABILITY.md. SOAK_ONLY=hostile,phones,kube runs some
 * probes; SOAK_QUICK=1 shrinks counts and outages to try the harness out (not for publishing).
 * Not part of `npm test`; exits non-zero only when a probe could not run, not when a bound fails.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runSections, SOAK_QUICK } from './lib.js';
import { hostile } from './soak-sections/hostile.js';
import { kubeOutage } from './soak-sections/kube-outage.js';
import { phones } from './soak-sections/phones.js';
import { markdownChecks, printChecks, type Check } from './soak-sections/report.js';

const SECTIONS: Record<string, () => Promise<Check[]>> = { hostile, phones, kube: kubeOutage };

const { rows, errors } = await runSections(
  'soak',
  SECTIONS,
  process.env.SOAK_ONLY,
  SOAK_QUICK,
  'soak.json',
);
writeFileSync(join(ROOT, 'bench', 'results', 'soak.md'), `${markdownChecks(rows)}\n`);
printChecks(rows);
if (Object.keys(errors).length > 0) process.exitCode = 1;
