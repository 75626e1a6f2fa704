import type { AdbDevice } from '../device-io.js';

/** One observed difference; `device` is undefined when the serial left the list. */
export interface DeviceChange {
  serial: string;
  device: AdbDevice | undefined;
}

/**
 * The devices as last seen. Every source (the tracker's lists, the seed, the periodic
 * reconcile) hands in a full list, and only real differences come out, so a source that
 * repeats what another already said produces no event.
 */
export class DeviceTable {
  private readonly table = new Map<string, AdbDevice>();

  get devices(): ReadonlyMap<string, AdbDevice> {
    return this.table;
  }

  /** Makes the table equal to `list`; returns additions and state changes, then removals. */
  replace(list: readonly AdbDevice[]): DeviceChange[] {
    const changes: DeviceChange[] = [];
    const seen = new Set<string>();
    for (const { serial, type } of list) {
      seen.add(serial);
      if (this.table.get(serial)?.type === type) continue;
      const device = { serial, type };
      this.table.set(serial, device);
      changes.push({ serial, device });
    }
    for (const serial of this.table.keys()) {
      if (seen.has(serial)) continue;
      this.table.delete(serial);
      changes.push({ serial, device: undefined });
    }
    return changes;
  }
}
