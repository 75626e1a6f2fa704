import { describe, expect, it } from 'vitest';
import { NOW, node, phone } from '../../../test/rigs/fleet-fixtures.js';
import {
  indexRows,
  parseTableQuery,
  phoneRows,
  tablePage,
  type TableQuery,
} from './phone-table.js';

const fleet = [
  node('pi-2', [
    phone('pi-2', 'usb-1', { battery: 20, uptimeSeconds: 26 * 3600 }),
    phone('pi-2', 'usb-2', {
      state: 'busy',
      type: 'walleye',
      dimensions: { device_type: ['walleye'] },
    }),
  ]),
  node('pi-10', [phone('pi-10', 'usb-1', { battery: 90 })], { heartbeat: NOW - 61_000 }),
  node('pi-1', [phone('pi-1', 'usb-1')], { heartbeat: undefined }),
];
const rows = phoneRows(fleet, NOW);
const query = (q: string): TableQuery => {
  const parsed = parseTableQuery(new URLSearchParams(q));
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
};
const indexed = indexRows(rows);
const ids = (q: string) => tablePage(indexed, query(q)).rows.map((r) => `${r.node}/${r.slot}`);

describe('the phone table', () => {
  it('flags stale heartbeats (over 60 s or never) and uptimes over 25 h', () => {
    expect(rows.map((r) => [r.node, r.heartbeatAge, r.staleHeartbeat, r.longUptime])).toEqual([
      ['pi-2', 5, false, true],
      ['pi-2', 5, false, false],
      ['pi-10', 61, true, false],
      ['pi-1', null, true, false],
    ]);
  });

  it('sorts by any column in natural order, unknown values last in both directions', () => {
    expect(ids('')).toEqual(['pi-1/usb-1', 'pi-2/usb-1', 'pi-2/usb-2', 'pi-10/usb-1']);
    expect(ids('sort=battery&dir=desc')).toEqual([
      'pi-10/usb-1',
      'pi-2/usb-1',
      'pi-1/usb-1',
      'pi-2/usb-2',
    ]);
    expect(ids('sort=battery')).toEqual(['pi-2/usb-1', 'pi-10/usb-1', 'pi-1/usb-1', 'pi-2/usb-2']);
  });

  it('filters by words and column:value terms (dimensions too), and pages', () => {
    expect(ids('q=walleye')).toEqual(['pi-2/usb-2']);
    expect(ids('q=state:ready stale')).toEqual(['pi-1/usb-1', 'pi-10/usb-1']);
    expect(ids('q=device_type:sargo node:pi-2')).toEqual(['pi-2/usb-1']);
    expect(ids('q=long-uptime')).toEqual(['pi-2/usb-1']);
    const page = tablePage(indexed, query('offset=1&limit=2'));
    expect(page).toMatchObject({ total: 4, matched: 4, offset: 1 });
    expect(page.rows).toHaveLength(2);
  });

  it('refuses a malformed query with the reason', () => {
    expect(parseTableQuery(new URLSearchParams('sort=owner'))).toHaveProperty('error');
    expect(parseTableQuery(new URLSearchParams('dir=up'))).toEqual({
      error: 'dir must be asc or desc',
    });
    expect(parseTableQuery(new URLSearchParams('limit=0'))).toHaveProperty('error');
    expect(parseTableQuery(new URLSearchParams('limit=501'))).toHaveProperty('error');
    expect(parseTableQuery(new URLSearchParams('offset=-1'))).toHaveProperty('error');
  });
});
