import type { ClusterSnapshot, SnapshotSlot } from '../../agent/src/cluster/cluster-model.js';

/** Snapshot builders for the pure cluster rules' tests: one node, slots by name and state. */
export const slot = (
  name: string,
  state: string,
  extra: Partial<SnapshotSlot> = {},
): SnapshotSlot => ({
  name,
  key: `usb:${name}`,
  botId: `pi-1-${name}`,
  state,
  ...extra,
});

export const snap = (
  slots: SnapshotSlot[],
  lifecycle: ClusterSnapshot['lifecycle'] = {},
): ClusterSnapshot => ({
  node: 'pi-1',
  slots,
  lifecycle,
});
