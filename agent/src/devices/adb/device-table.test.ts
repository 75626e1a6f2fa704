import { describe, expect, it } from 'vitest';
import { DeviceTable } from './device-table.js';

const dev = (serial: string, type: string) => ({ serial, type });

describe('DeviceTable', () => {
  it('reports additions, state changes and removals once', () => {
    const table = new DeviceTable();
    expect(table.replace([dev('a', 'offline'), dev('b', 'device')])).toEqual([
      { serial: 'a', device: dev('a', 'offline') },
      { serial: 'b', device: dev('b', 'device') },
    ]);
    expect(table.replace([dev('a', 'device')])).toEqual([
      { serial: 'a', device: dev('a', 'device') },
      { serial: 'b', device: undefined },
    ]);
    expect([...table.devices.values()]).toEqual([dev('a', 'device')]);
  });

  it('is silent when a list repeats what is known, in any order', () => {
    const table = new DeviceTable();
    table.replace([dev('a', 'device'), dev('b', 'unauthorized')]);
    expect(table.replace([dev('b', 'unauthorized'), dev('a', 'device')])).toEqual([]);
  });

  it('keeps open-ended adb states as they are', () => {
    const table = new DeviceTable();
    expect(table.replace([dev('x', 'no permissions')])).toEqual([
      { serial: 'x', device: dev('x', 'no permissions') },
    ]);
    expect(table.replace([])).toEqual([{ serial: 'x', device: undefined }]);
  });

  it('hands out copies: a caller mutating a list does not change the table', () => {
    const table = new DeviceTable();
    const list = [dev('a', 'device')];
    table.replace(list);
    (list[0] as { type: string }).type = 'offline';
    expect(table.devices.get('a')?.type).toBe('device');
  });
});
