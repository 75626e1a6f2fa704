/**
 * The Lease's annotations: idle counters and sleep state per slot (read back by the next agent
 * after a restart) and a compact device inventory within a byte budget.
 */
import { isRecord } from '@farm-agent/bot-config/lib';
import type { LifecycleState } from '../lifecycle/idle-counter.js';
import { PREFIX } from './cluster-model.js';
import type { ClusterSnapshot, SnapshotSlot } from './cluster-model.js';

export const ANNOTATION_IDLE_CHECKS = `${PREFIX}/idle-checks`;
export const ANNOTATION_LIFECYCLE = `${PREFIX}/lifecycle`;
export const ANNOTATION_INVENTORY = `${PREFIX}/inventory`;
/** `host:port` at which the farm gate reaches the agent (FARM_HOST_IP, FARM_HTTP_PORT). */
export const ANNOTATION_ADDRESS = `${PREFIX}/address`;

/** Budget for the inventory annotation; the API server's limit is 256 KiB for all of them. */
export const INVENTORY_MAX_BYTES = 16 * 1024;
/** Host facts beyond this are replaced by a note: they are meant to be a handful of numbers. */
export const HOST_MAX_BYTES = 2 * 1024;

interface InventorySlot {
  name: string;
  bot: string;
  state: string;
  reason?: string;
  type?: string;
  model?: string;
  battery?: number;
  tempC?: number;
  serial?: string;
  /** A task runs (the state says maintenance once the node is drained). */
  task?: true;
  dims?: Record<string, string[]>;
  /** The phone's uptime, seconds. */
  up?: number;
}

interface Inventory {
  slots: InventorySlot[];
  /** Slots left out to stay within the budget. */
  more?: number;
  host?: Record<string, unknown>;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

function inventorySlot(s: SnapshotSlot, withReason: boolean): InventorySlot {
  return {
    name: s.name,
    bot: s.botId,
    state: s.state,
    ...(withReason && s.reason !== undefined ? { reason: s.reason } : {}),
    ...(s.deviceType === undefined ? {} : { type: s.deviceType }),
    ...(s.model === undefined ? {} : { model: s.model }),
    ...(s.batteryPercent === undefined ? {} : { battery: Math.round(s.batteryPercent) }),
    ...(s.temperatureC === undefined ? {} : { tempC: round1(s.temperatureC) }),
    ...(s.serial === undefined ? {} : { serial: s.serial }),
    ...(s.taskRunning === true ? { task: true as const } : {}),
    ...(s.dimensions === undefined ? {} : { dims: s.dimensions }),
    ...(s.uptimeSeconds === undefined ? {} : { up: Math.round(s.uptimeSeconds) }),
  };
}

/**
 * Compact JSON of the slots and host facts, at most `maxBytes`: oversized host facts are
 * replaced by their size, then reasons (free text, the longest part) are dropped, then the
 * slots that do not fit are left out and counted in `more`.
 */
export function inventoryJson(
  snapshot: ClusterSnapshot,
  maxBytes: number = INVENTORY_MAX_BYTES,
): string {
  let host = snapshot.host;
  if (host !== undefined) {
    const size = Buffer.byteLength(JSON.stringify(host));
    if (size > HOST_MAX_BYTES) host = { omitted: `${size} bytes` };
  }
  const render = (slots: InventorySlot[], more: number): string => {
    const inv: Inventory = {
      slots,
      ...(more > 0 ? { more } : {}),
      ...(host === undefined ? {} : { host }),
    };
    return JSON.stringify(inv);
  };
  const fits = (json: string): boolean => Buffer.byteLength(json) <= maxBytes;
  const full = render(
    snapshot.slots.map((s) => inventorySlot(s, true)),
    0,
  );
  if (fits(full)) return full;
  const bare = snapshot.slots.map((s) => inventorySlot(s, false));
  for (let n = bare.length; n >= 0; n--) {
    const json = render(bare.slice(0, n), bare.length - n);
    if (fits(json)) return json;
  }
  return render([], bare.length);
}

/** The Lease's annotations: idle counters and sleep state per slot, and the inventory. */
export function leaseAnnotations(snapshot: ClusterSnapshot): Record<string, string> {
  const names = Object.keys(snapshot.lifecycle).sort();
  const idle = Object.fromEntries(names.map((n) => [n, snapshot.lifecycle[n]?.idleChecks ?? 0]));
  const life = Object.fromEntries(
    names.map((n) => [n, snapshot.lifecycle[n]?.asleep === true ? 'asleep' : 'awake']),
  );
  return {
    [ANNOTATION_IDLE_CHECKS]: JSON.stringify(idle),
    [ANNOTATION_LIFECYCLE]: JSON.stringify(life),
    [ANNOTATION_INVENTORY]: inventoryJson(snapshot),
    ...(snapshot.address === undefined ? {} : { [ANNOTATION_ADDRESS]: snapshot.address }),
  };
}

/**
 * What makes a Lease write worth doing now rather than at the next renewal: the lifecycle
 * (so a restart continues from the right count) and each slot's identity and state. Battery,
 * temperature, reasons and host facts change all the time and ride along with the renewals.
 */
export function urgentLeaseKey(snapshot: ClusterSnapshot): string {
  return JSON.stringify([
    leaseAnnotations({ ...snapshot, slots: [], host: undefined }),
    snapshot.slots.map((s) => [
      s.name,
      s.botId,
      s.state,
      s.deviceType,
      s.model,
      s.serial,
      s.taskRunning === true,
    ]),
  ]);
}

function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The lifecycle a previous agent left in the Lease. Entries that do not make sense (a negative
 * or fractional count, an unknown state) are skipped rather than trusted; undefined when
 * neither annotation is usable.
 */
export function parseLeaseLifecycle(
  annotations: Record<string, string> | undefined,
): LifecycleState | undefined {
  const idle = parseJsonObject(annotations?.[ANNOTATION_IDLE_CHECKS]);
  const life = parseJsonObject(annotations?.[ANNOTATION_LIFECYCLE]);
  if (idle === undefined && life === undefined) return undefined;
  const result: LifecycleState = {};
  for (const name of new Set([...Object.keys(idle ?? {}), ...Object.keys(life ?? {})])) {
    const count = idle?.[name];
    const state = life?.[name];
    const validCount = typeof count === 'number' && Number.isInteger(count) && count >= 0;
    const validState = state === 'asleep' || state === 'awake';
    if (!validCount && !validState) continue;
    result[name] = { idleChecks: validCount ? count : 0, asleep: state === 'asleep' };
  }
  return result;
}
