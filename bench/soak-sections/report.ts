/** A soak figure beside the bound it must keep, and the table that shows which held. */
import { printColumns, round } from '../lib.js';

export interface Check {
  section: string;
  figure: string;
  value: number;
  unit: string;
  /** The stated bound: the figure passes when value ≤ max (and ≥ min). None: reported only. */
  max?: number;
  min?: number;
  note?: string;
}

function verdict(check: Check): 'pass' | 'FAIL' | '' {
  const { value, max, min } = check;
  if (max === undefined && min === undefined) return '';
  // NaN (nothing measured) never passes.
  const ok =
    !Number.isNaN(value) &&
    (max === undefined || value <= max) &&
    (min === undefined || value >= min);
  return ok ? 'pass' : 'FAIL';
}

function bound(check: Check): string {
  const parts: string[] = [];
  if (check.min !== undefined) parts.push(`≥ ${check.min}`);
  if (check.max !== undefined) parts.push(`≤ ${check.max}`);
  return parts.length === 0 ? '' : `${parts.join(', ')} ${check.unit}`;
}

export function printChecks(checks: readonly Check[]): void {
  printColumns(
    ['section', 'figure', 'value', 'bound', 'verdict', 'note'],
    checks.map((c) => [
      c.section,
      c.figure,
      `${round(c.value)} ${c.unit}`,
      bound(c),
      verdict(c),
      c.note ?? '',
    ]),
  );
}

/** The same rows as a Markdown table, for RELIABILITY.md. */
export function markdownChecks(checks: readonly Check[]): string {
  const lines = [
    '| Probe | Figure | Value | Bound | Verdict | Note |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const c of checks) {
    const cells = [
      c.section,
      c.figure,
      `${round(c.value)} ${c.unit}`,
      bound(c),
      verdict(c),
      c.note ?? '',
    ];
    lines.push(`| ${cells.map((x) => x.replaceAll('|', '\\|')).join(' | ')} |`);
  }
  return lines.join('\n');
}
