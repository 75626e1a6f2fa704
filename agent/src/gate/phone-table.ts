/**
 * The page's table, computed by the gate so that a farm of 16,000 phones sends the browser one
 * page of rows: one row per phone (with its node's heartbeat and address), filtered by words or
 * `column:value` terms, sorted by any column, cut to a page. Pure.
 */
import { heartbeatFresh, longUptime, type FleetNode, type FleetPhone } from './fleet-model.js';

export interface PhoneRow extends FleetPhone {
  address: string | null;
  /** Seconds since the node's agent last renewed its Lease; null when it never did. */
  heartbeatAge: number | null;
  staleHeartbeat: boolean;
  longUptime: boolean;
  nodeMaintenance: string | null;
}

export const COLUMNS = [
  'node',
  'slot',
  'type',
  'model',
  'serial',
  'state',
  'battery',
  'temperatureC',
  'uptimeSeconds',
  'idleChecks',
  'heartbeatAge',
] as const;
export type Column = (typeof COLUMNS)[number];

export function phoneRows(fleet: readonly FleetNode[], now: number): PhoneRow[] {
  return fleet.flatMap((node) => {
    const age =
      node.heartbeat === undefined ? null : Math.max(0, Math.round((now - node.heartbeat) / 1000));
    return node.phones.map((p) => ({
      ...p,
      address: node.address ?? null,
      heartbeatAge: age,
      staleHeartbeat: !heartbeatFresh(node, now),
      longUptime: longUptime(p),
      nodeMaintenance: node.maintenance ?? null,
    }));
  });
}

export interface TableQuery {
  filter: string;
  sort: Column;
  descending: boolean;
  offset: number;
  limit: number;
}

export const PAGE_MAX = 500;

/** The table query from URL parameters, or why it is malformed. */
export function parseTableQuery(params: URLSearchParams): TableQuery | { error: string } {
  const sort = params.get('sort') ?? 'node';
  if (!(COLUMNS as readonly string[]).includes(sort)) {
    return { error: `sort must be one of ${COLUMNS.join(', ')}` };
  }
  const dir = params.get('dir') ?? 'asc';
  if (dir !== 'asc' && dir !== 'desc') return { error: 'dir must be asc or desc' };
  const int = (name: string, fallback: number, max: number): number | undefined => {
    const text = params.get(name);
    if (text === null) return fallback;
    const n = Number(text);
    return /^\d+$/.test(text) && n <= max ? n : undefined;
  };
  const offset = int('offset', 0, 10_000_000);
  const limit = int('limit', 100, PAGE_MAX);
  if (offset === undefined) return { error: 'offset must be a whole number' };
  if (limit === undefined || limit === 0) return { error: `limit must be from 1 to ${PAGE_MAX}` };
  const filter = params.get('q') ?? '';
  if (filter.length > 256) return { error: 'q is longer than 256 characters' };
  return { filter, sort: sort as Column, descending: dir === 'desc', offset, limit };
}

/** A row with its search text, built once per list rather than once per request. */
export interface IndexedRow {
  row: PhoneRow;
  text: string;
}

export function indexRows(rows: readonly PhoneRow[]): IndexedRow[] {
  return rows.map((row) => ({ row, text: haystack(row) }));
}

function haystack(row: PhoneRow): string {
  return [
    row.node,
    row.slot,
    row.bot,
    row.type,
    row.model,
    row.serial,
    row.state,
    row.reason,
    row.diagnosis,
    row.held ? 'held' : '',
    row.staleHeartbeat ? 'stale' : '',
    row.longUptime ? 'long-uptime' : '',
    ...Object.values(row.dimensions).flat(),
  ]
    .filter((v) => v !== undefined && v !== '')
    .join(' ')
    .toLowerCase();
}

/** Every term must match: `word` anywhere, `column:value` in that column (or dimension). */
function matcher(filter: string): (indexed: IndexedRow) => boolean {
  const terms = filter
    .toLowerCase()
    .split(/\s+/)
    .filter((t) => t !== '');
  return ({ row, text }) => {
    return terms.every((term) => {
      const colon = term.indexOf(':');
      if (colon <= 0) return text.includes(term);
      const key = term.slice(0, colon);
      const value = term.slice(colon + 1);
      const field = (row as unknown as Record<string, unknown>)[key];
      const values =
        field !== undefined && typeof field !== 'object'
          ? [String(field)]
          : (row.dimensions[key] ?? []);
      return values.some((v) => v.toLowerCase() === value);
    });
  };
}

/** One collator for every comparison: localeCompare with options builds a new one per call. */
const NATURAL = new Intl.Collator('en', { numeric: true });

function compare(a: unknown, b: unknown): number {
  // Unknown values sort last whichever the direction.
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : 1;
  if (b === undefined || b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return NATURAL.compare(String(a), String(b));
}

export interface TablePage {
  total: number;
  matched: number;
  offset: number;
  rows: PhoneRow[];
}

export function tablePage(rows: readonly IndexedRow[], query: TableQuery): TablePage {
  const matched = rows.filter(matcher(query.filter)).map((r) => r.row);
  const sign = query.descending ? -1 : 1;
  matched.sort((a, b) => {
    const x = a[query.sort];
    const y = b[query.sort];
    const missing = x === undefined || x === null || y === undefined || y === null;
    return (
      (missing ? compare(x, y) : sign * compare(x, y)) ||
      compare(a.node, b.node) ||
      compare(a.slot, b.slot)
    );
  });
  return {
    total: rows.length,
    matched: matched.length,
    offset: query.offset,
    rows: matched.slice(query.offset, query.offset + query.limit),
  };
}
