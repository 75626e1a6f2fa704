import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { DeviceIO } from '../devices/device-io.js';
import { SlotBotDevices } from '../devices/slot-bot-devices.js';
import { systemClock } from '../devices/slot-manager.js';
import type { Clock, Slot, SlotManager } from '../devices/slot-manager.js';
import { resolveSlotRef } from '../devices/slot-ref.js';
import { uhubctlTarget } from '../devices/slot.js';
import type { UhubctlTarget } from '../devices/slot.js';
import { execCommand } from './commands.js';
import type { CommandRunner } from './commands.js';
import { idleCheck, woken } from './idle-counter.js';
import type { IdleCounterState, LifecycleState } from './idle-counter.js';
import { externalConnections } from './proc-net-tcp.js';

export const SLEEP_ACTIONS = ['screen', 'usb-power', 'none'] as const;
/** FARM_SLEEP_ACTION: what putting an idle phone to sleep does. */
export type SleepAction = (typeof SLEEP_ACTIONS)[number];
export type SleepReason = 'idle-checks' | 'operator';
export type WakeReason = 'operator' | 'task';

export type LifecycleEvent =
  | { type: 'slept'; slot: string; reason: SleepReason }
  | { type: 'woke'; slot: string; reason: WakeReason };

export const DEFAULT_IDLE_CHECK_INTERVAL_MS = 15 * 60_000;
export const DEFAULT_IDLE_CHECKS = 4;
/** adb server (5037) and adbd over TCP (5555). */
export const ADB_PORTS: readonly number[] = [5037, 5555];
export const PROC_NET_TCP: readonly string[] = ['/proc/net/tcp', '/proc/net/tcp6'];

export interface LifecycleOptions {
  manager: SlotManager;
  io: DeviceIO;
  action: SleepAction;
  /** FARM_IDLE_CHECK_INTERVAL. */
  intervalMs?: number;
  /** FARM_IDLE_CHECKS: idle checks in a row that put a slot to sleep. */
  idleChecks?: number;
  /** How long a woken slot counts as active. Default: one interval. */
  holdMs?: number;
  tcpTables?: readonly string[];
  adbPorts?: readonly number[];
  run?: CommandRunner;
  /**
   * The hub port that powers a slot's phone. Default: from the slot key
   * (`usb:1-1.3` → `-l 1-1 -p 3`); null for network phones.
   */
  powerTarget?: (slot: Slot) => UhubctlTarget | null;
  /** For `input keyevent` and `uhubctl`. Default 15 s. */
  commandTimeoutMs?: number;
  /** How long a powered-on phone may take to show in adb before it counts as missing. Default 60 s. */
  powerOnDeadlineMs?: number;
  logger: Logger;
  registry: Registry;
  clock?: Clock;
}

export interface WakeResult {
  /** Keys of the slots that were asleep and were woken. */
  woke: string[];
  /** Every slot asked for is awake and ready (or running a task). */
  ready: boolean;
}

export interface SleepResult {
  slept: string[];
  /** Slots left awake, and why. */
  skipped: { slot: string; reason: string }[];
}

/** A slot with its lifecycle, for the wake page and its JSON. */
export interface LifecycleSlot {
  slot: Slot;
  idleChecks: number;
  asleep: boolean;
  ready: boolean;
}

export class UnknownSlotError extends Error {
  constructor(
    readonly ref: string,
    readonly known: string[],
  ) {
    super(`no slot "${ref}"; known: ${known.length > 0 ? known.join(', ') : 'none'}`);
    this.name = 'UnknownSlotError';
  }
}

/** What a slot's sleep and wake do, decided from the farm's action and the slot. */
type Method = { kind: 'none' } | { kind: 'screen' } | { kind: 'usb-power'; target: UhubctlTarget };

/**
 * Idle sleep and wake for the phones of one node. Every interval each ready
 * slot is checked: idle checks in a row put it to sleep, activity resets its
 * counter, and a wake (a person, or a task about to start) brings it back. The state lives here; the cluster side
 * persists it from `onChange` and hands it back to `start()`.
 */
export class Lifecycle {
  private readonly states = new Map<string, IdleCounterState>();
  private readonly wokenAt = new Map<string, number>();
  /** Phones powered on whose return to adb is awaited, by slot key: cancel functions. */
  private readonly poweringOn = new Map<string, () => void>();
  private readonly changeListeners = new Set<(state: LifecycleState) => void>();
  private readonly eventListeners = new Set<(event: LifecycleEvent) => void>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly botDevices: SlotBotDevices;
  private readonly intervalMs: number;
  private readonly limit: number;
  private readonly holdMs: number;
  private readonly timeoutMs: number;
  private readonly adbPorts: ReadonlySet<number>;
  private readonly idleGauge: Gauge<'slot'>;
  private readonly asleepGauge: Gauge<'slot'>;
  private readonly wakes: Counter<'reason'>;
  private readonly sleeps: Counter<'reason'>;
  private readonly sleepFailures: Counter;
  private readonly wakeFailures: Counter;
  /** Sleeps, wakes and checks run one at a time: a wake never races the sleep it undoes. */
  private queue: Promise<unknown> = Promise.resolve();
  private timer: unknown;
  private published = '';

  constructor(private readonly options: LifecycleOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = options.logger;
    this.botDevices = new SlotBotDevices(options.manager, this.clock);
    this.intervalMs = options.intervalMs ?? DEFAULT_IDLE_CHECK_INTERVAL_MS;
    this.limit = options.idleChecks ?? DEFAULT_IDLE_CHECKS;
    this.holdMs = options.holdMs ?? this.intervalMs;
    this.timeoutMs = options.commandTimeoutMs ?? 15_000;
    this.adbPorts = new Set(options.adbPorts ?? ADB_PORTS);
    const registers = [options.registry];
    this.idleGauge = new Gauge({
      name: 'farm_idle_checks',
      help: 'Idle checks in a row of each slot; it sleeps at FARM_IDLE_CHECKS.',
      labelNames: ['slot'],
      registers,
    });
    this.asleepGauge = new Gauge({
      name: 'farm_slot_asleep',
      help: 'Whether the phone of each slot was put to sleep (1) or is awake (0).',
      labelNames: ['slot'],
      registers,
    });
    this.wakes = new Counter({
      name: 'farm_wakes_total',
      help: 'Slots woken from sleep, by who asked: operator (/wake, CLI) or task.',
      labelNames: ['reason'],
      registers,
    });
    this.sleeps = new Counter({
      name: 'farm_sleeps_total',
      help: 'Slots put to sleep, by why: idle-checks or operator.',
      labelNames: ['reason'],
      registers,
    });
    this.sleepFailures = new Counter({
      name: 'farm_sleep_failures_total',
      help: 'Sleep actions (KEYCODE_SLEEP, uhubctl off) that failed; the slot stayed awake.',
      registers,
    });
    this.wakeFailures = new Counter({
      name: 'farm_wake_failures_total',
      help: 'Wake actions (KEYCODE_WAKEUP, uhubctl on) that failed; the slot stayed asleep.',
      registers,
    });
  }

  /**
   * Call after the slot manager has started (it knows the saved slots then),
   * with what the Lease held when the agent last ran.
   */
  start(initial: LifecycleState = {}): void {
    for (const [key, state] of Object.entries(initial)) {
      this.states.set(key, { idleChecks: state.idleChecks, asleep: state.asleep });
    }
    for (const slot of this.options.manager.slots()) {
      if (!this.stateOf(slot.key).asleep) continue;
      this.options.manager.setAsleep(slot.key, true);
      // The port is still off from the last run: its phone is asleep, not missing.
      if (this.methodOf(slot).kind === 'usb-power') {
        this.options.manager.setPoweredOff(slot.key, true);
      }
    }
    this.publish();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const cancel of [...this.poweringOn.values()]) cancel();
    await this.idle();
  }

  /** Resolves once no check, sleep or wake is in flight. */
  async idle(): Promise<void> {
    let seen: Promise<unknown> | undefined;
    while (seen !== this.queue) {
      seen = this.queue;
      await seen;
    }
  }

  snapshot(): LifecycleState {
    const keys = new Set([
      ...this.states.keys(),
      ...this.options.manager.slots().map((s) => s.key),
    ]);
    return Object.fromEntries([...keys].sort().map((key) => [key, { ...this.stateOf(key) }]));
  }

  /** Called with the whole state whenever a counter or sleep flag changes. */
  onChange(listener: (state: LifecycleState) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Called for every slot that slept or woke. */
  onEvent(listener: (event: LifecycleEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  slots(): LifecycleSlot[] {
    return this.options.manager.slots().map((slot) => {
      const state = this.stateOf(slot.key);
      return { slot, ...state, ready: isReady(slot, state) };
    });
  }

  /** One idle check of every slot; runs by itself every interval after start(). */
  check(): Promise<void> {
    return this.exclusive(async () => {
      const external = await this.externalActivity();
      const now = this.clock.now();
      for (const slot of this.options.manager.slots()) {
        const previous = this.stateOf(slot.key);
        const wokenAt = this.wokenAt.get(slot.key);
        const active =
          slot.taskRunning || external || (wokenAt !== undefined && now - wokenAt < this.holdMs);
        // Only idle phones count: one booting, recovering, missing or in
        // maintenance keeps its count until it is ready again, as the
        // emulator's sleeper skipped a pod that was not running.
        if (!active && !previous.asleep && slot.health.state !== 'ready') continue;
        const { next, action } = idleCheck(previous, active, this.limit);
        if (action === 'sleep') await this.putToSleep(slot.key, 'idle-checks');
        else this.states.set(slot.key, next);
      }
      this.publish();
    });
  }

  /** Wakes one slot (key, name, bot id or index) or every slot, and restarts their idle counts. */
  async wake(ref?: string, reason: WakeReason = 'operator'): Promise<WakeResult> {
    const keys = this.resolve(ref);
    const woke = await this.exclusive(async () => {
      const woke: string[] = [];
      for (const key of keys) {
        if (await this.wakeSlot(key, reason)) woke.push(key);
      }
      this.publish();
      return woke;
    });
    return { woke, ready: keys.every((key) => this.readyNow(key)) };
  }

  /** Puts one slot or every slot to sleep now; busy, booting or faulty ones are left alone. */
  async sleep(ref?: string): Promise<SleepResult> {
    const keys = this.resolve(ref);
    return this.exclusive(async () => {
      const result: SleepResult = { slept: [], skipped: [] };
      for (const key of keys) {
        const why = this.stateOf(key).asleep
          ? 'already asleep'
          : await this.putToSleep(key, 'operator');
        if (why === undefined) result.slept.push(key);
        else result.skipped.push({ slot: key, reason: why });
      }
      this.publish();
      return result;
    });
  }

  /**
   * For on_before_task: wakes the slot if it sleeps, then resolves true once
   * it is ready (or already running the task), false at the timeout or abort.
   */
  async whenAwakeAndReady(ref: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const key = this.resolveOne(ref);
    const started = this.clock.now();
    if (this.stateOf(key).asleep) await this.wake(key, 'task');
    const left = Math.max(0, timeoutMs - (this.clock.now() - started));
    return this.botDevices.whenReady(this.slotOf(key).botId, left, signal);
  }

  // --- sleep and wake of one slot ---------------------------------------

  /** Undefined when the slot sleeps now, else why it stays awake. */
  private async putToSleep(key: string, reason: SleepReason): Promise<string | undefined> {
    const slot = this.options.manager.slot(key);
    // Read afresh: the phone may have taken a task or left since the check began.
    if (slot === undefined || slot.health.state !== 'ready') {
      this.states.set(key, woken());
      return `not ready (${slot?.health.state ?? 'unknown'})`;
    }
    try {
      await this.sleepAction(slot);
    } catch (error) {
      this.sleepFailures.inc();
      this.log.warn({ slot: key, err: error }, 'could not put the phone to sleep; it stays awake');
      // Counting starts over: the next try comes after another full idle period.
      this.states.set(key, woken());
      return `sleep failed: ${(error as Error).message}`;
    }
    this.states.set(key, { idleChecks: 0, asleep: true });
    this.options.manager.setAsleep(key, true);
    this.wokenAt.delete(key);
    this.sleeps.inc({ reason });
    this.log.info({ slot: key, reason }, 'slot asleep');
    this.emit({ type: 'slept', slot: key, reason });
    return undefined;
  }

  /** True when the slot was asleep and woke. */
  private async wakeSlot(key: string, reason: WakeReason): Promise<boolean> {
    // A wake holds the slot awake for a while even when it was not asleep:
    // whoever asked is about to use it.
    this.wokenAt.set(key, this.clock.now());
    if (!this.stateOf(key).asleep) {
      this.states.set(key, woken());
      return false;
    }
    try {
      await this.wakeAction(this.slotOf(key));
    } catch (error) {
      this.wakeFailures.inc();
      this.log.warn({ slot: key, err: error }, 'could not wake the phone; it stays asleep');
      return false;
    }
    this.states.set(key, woken());
    this.options.manager.setAsleep(key, false);
    this.wakes.inc({ reason });
    this.log.info({ slot: key, reason }, 'slot woke');
    this.emit({ type: 'woke', slot: key, reason });
    return true;
  }

  private async sleepAction(slot: Slot): Promise<void> {
    const method = this.methodOf(slot);
    if (method.kind === 'screen') await this.keyevent(slot, 'KEYCODE_SLEEP');
    if (method.kind !== 'usb-power') return;
    this.poweringOn.get(slot.key)?.();
    // Said before the power goes: the phone leaving adb must never read as missing.
    this.options.manager.setPoweredOff(slot.key, true);
    try {
      await this.uhubctl(method.target, 'off');
    } catch (error) {
      this.options.manager.setPoweredOff(slot.key, false);
      throw error;
    }
  }

  private async wakeAction(slot: Slot): Promise<void> {
    const method = this.methodOf(slot);
    if (method.kind === 'screen') await this.keyevent(slot, 'KEYCODE_WAKEUP');
    if (method.kind !== 'usb-power') return;
    await this.uhubctl(method.target, 'on');
    this.awaitPowerOn(slot.key);
  }

  /**
   * A powered port takes seconds to enumerate its phone: until adb lists it
   * (or the deadline passes) it stays "powered off" for the slot manager, so
   * it shows asleep, never missing, on its way back.
   */
  private awaitPowerOn(key: string): void {
    const manager = this.options.manager;
    // Back means usable: a phone shows `offline` while it connects, and one
    // that comes back in a faulty state shows that state at the deadline.
    const back = (slot: Slot | undefined) => slot?.adbState === 'device';
    const done = () => {
      this.clock.clearTimeout(timer);
      unsubscribe();
      this.poweringOn.delete(key);
    };
    const finish = () => {
      done();
      manager.setPoweredOff(key, false);
    };
    const deadlineMs = this.options.powerOnDeadlineMs ?? 60_000;
    const timer = this.clock.setTimeout(() => {
      this.log.warn(
        { slot: key, deadlineMs },
        'phone not back in adb after its port was powered on',
      );
      finish();
    }, deadlineMs);
    const unsubscribe = manager.onSlotChanged((slot) => {
      if (slot.key === key && back(slot)) finish();
    });
    this.poweringOn.set(key, done);
    if (back(manager.slot(key))) finish();
  }

  /**
   * `usb-power` needs a USB port: a network phone in a usb-power farm
   * sleeps its screen instead.
   */
  private methodOf(slot: Slot): Method {
    const action = this.options.action;
    if (action !== 'usb-power') return { kind: action };
    const target = (this.options.powerTarget ?? ((s: Slot) => uhubctlTarget(s.key)))(slot);
    return target === null ? { kind: 'screen' } : { kind: 'usb-power', target };
  }

  private async keyevent(slot: Slot, code: 'KEYCODE_SLEEP' | 'KEYCODE_WAKEUP'): Promise<void> {
    if (slot.serial === undefined || slot.adbState !== 'device') {
      throw new Error(`no phone in adb to send ${code} to`);
    }
    const out = await this.options.io.shell(slot.serial, `input keyevent ${code}`, this.timeoutMs);
    // adb gives no exit code: `input` prints nothing on success, its error otherwise.
    if (out.trim() !== '') throw new Error(`input keyevent ${code}: ${out.trim()}`);
  }

  private async uhubctl(target: UhubctlTarget, action: 'on' | 'off'): Promise<void> {
    const run = this.options.run ?? execCommand;
    const args = ['-l', target.hub, '-p', String(target.port), '-a', action];
    await run('uhubctl', args, this.timeoutMs);
  }

  // --- activity -----------------------------------------------------------

  /**
   * Whether anyone outside the node holds an adb connection. A connection
   * cannot be tied to one phone (a remote adb client talks to the server on
   * 5037 for every phone, and adbd on 5555 is the phone's but its socket is
   * the server's), so one keeps every slot awake. Tables that cannot be
   * read count as activity: never sleep a phone someone may be using.
   */
  private async externalActivity(): Promise<boolean> {
    try {
      const tables = await Promise.all((this.options.tcpTables ?? PROC_NET_TCP).map(readTable));
      const found = tables.flatMap((table) => externalConnections(table, this.adbPorts));
      if (found.length > 0) {
        const peers = found.map((s) => `${s.remote}:${s.remotePort}->${s.localPort}`);
        this.log.info({ peers }, 'external adb connections: every slot counts as active');
      }
      return found.length > 0;
    } catch (error) {
      this.log.warn({ err: error }, 'cannot read the TCP tables; every slot counts as active');
      return true;
    }
  }

  // --- state, events, metrics ----------------------------------------------

  private stateOf(key: string): IdleCounterState {
    return this.states.get(key) ?? woken();
  }

  private readyNow(key: string): boolean {
    const slot = this.options.manager.slot(key);
    return slot !== undefined && isReady(slot, this.stateOf(key));
  }

  /** Every slot's key for undefined. */
  private resolve(ref: string | undefined): string[] {
    if (ref === undefined) return this.options.manager.slots().map((s) => s.key);
    return [this.resolveOne(ref)];
  }

  /** The key of the slot with this key, name, bot id or index. */
  private resolveOne(ref: string): string {
    const slots = this.options.manager.slots();
    const found = resolveSlotRef(slots, ref, (s) => s);
    if (found === undefined) {
      throw new UnknownSlotError(
        ref,
        slots.map((s) => s.name),
      );
    }
    return found.key;
  }

  /** Slots are never forgotten by the manager: a key once resolved stays known. */
  private slotOf(key: string): Slot {
    const slot = this.options.manager.slot(key);
    if (slot === undefined) throw new UnknownSlotError(key, []);
    return slot;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      // The next check is due an interval after this one started, however long this one takes.
      this.schedule();
      this.check().catch((err: unknown) => this.log.error({ err }, 'idle check failed'));
    }, this.intervalMs);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private emit(event: LifecycleEvent): void {
    for (const listener of [...this.eventListeners]) listener(event);
  }

  /** Metrics always; listeners only when the state changed. */
  private publish(): void {
    const state = this.snapshot();
    for (const slot of this.options.manager.slots()) {
      const { idleChecks, asleep } = this.stateOf(slot.key);
      this.idleGauge.set({ slot: slot.name }, idleChecks);
      this.asleepGauge.set({ slot: slot.name }, asleep ? 1 : 0);
    }
    const text = JSON.stringify(state);
    if (text === this.published) return;
    this.published = text;
    for (const listener of [...this.changeListeners]) listener(state);
  }
}

/** Awake, and ready for a task or running one. */
function isReady(slot: Slot, state: IdleCounterState): boolean {
  return !state.asleep && (slot.health.state === 'ready' || slot.health.state === 'busy');
}

async function readTable(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    // No tcp6 table on a kernel without IPv6: no connections of that family.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}
