import type { Logger } from 'pino';
import { systemClock } from '@farm-agent/bot-config/lib';
import type { Clock } from '@farm-agent/bot-config/lib';
import { SlotBotDevices } from '../devices/slot-bot-devices.js';
import type { Slot } from '../devices/slot-state.js';
import { UnknownSlotError, requireSlotRef, type SlotIdentity } from '../devices/slot-ref.js';
import { ADB_PORTS, PROC_NET_TCP, externalAdbActivity } from './external-activity.js';
import { idleCheck, isReady, woken } from './idle-counter.js';
import type { IdleCounterState, LifecycleState } from './idle-counter.js';
import { LifecycleMetrics } from './lifecycle-metrics.js';
import { LifecycleReport } from './lifecycle-report.js';
import type {
  LifecycleEvent,
  LifecycleOptions,
  LifecycleSlot,
  SleepReason,
  SleepResult,
  WakeReason,
  WakeResult,
} from './lifecycle-types.js';
import { PortPower } from '../power/port-power.js';
import { PowerOnWatch } from './power-on-watch.js';
import { SleepActions } from './sleep-actions.js';
import { SerialQueue } from '@farm-agent/bot-config/lib';

export const DEFAULT_IDLE_CHECK_INTERVAL_MS = 15 * 60_000;
export const DEFAULT_IDLE_CHECKS = 4;

/**
 * Idle sleep and wake for the phones of one node. Every interval each ready
 * slot is checked: idle checks in a row put it to sleep, activity resets its
 * counter, and a wake (a person, or a task about to start) brings it back. The state lives here; the cluster side
 * persists it from `onChange` and hands it back to `start()`.
 */
export class Lifecycle {
  private readonly states = new Map<string, IdleCounterState>();
  private readonly wokenAt = new Map<string, number>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly botDevices: SlotBotDevices;
  private readonly intervalMs: number;
  private readonly limit: number;
  private readonly holdMs: number;
  private readonly adbPorts: ReadonlySet<number>;
  private readonly metrics: LifecycleMetrics;
  private readonly report: LifecycleReport;
  private readonly powerOn: PowerOnWatch;
  private readonly actions: SleepActions;
  /** Sleeps, wakes and checks run one at a time: a wake never races the sleep it undoes. */
  private readonly queue = new SerialQueue();
  private timer: unknown;

  constructor(private readonly options: LifecycleOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = options.logger;
    this.botDevices = new SlotBotDevices(options.manager, this.clock);
    this.intervalMs = options.intervalMs ?? DEFAULT_IDLE_CHECK_INTERVAL_MS;
    this.limit = options.idleChecks ?? DEFAULT_IDLE_CHECKS;
    this.holdMs = options.holdMs ?? this.intervalMs;
    this.adbPorts = new Set(options.adbPorts ?? ADB_PORTS);
    this.metrics = new LifecycleMetrics(options.registry);
    this.report = new LifecycleReport(this.metrics);
    this.powerOn = new PowerOnWatch(
      options.manager,
      this.clock,
      this.log,
      options.powerOnDeadlineMs ?? 60_000,
    );
    this.actions = new SleepActions({
      action: options.action,
      io: options.io,
      manager: options.manager,
      powerOn: this.powerOn,
      power:
        options.power ??
        new PortPower({
          run: options.run,
          timeoutMs: options.commandTimeoutMs ?? 15_000,
          clock: this.clock,
          logger: this.log,
        }),
      wakeHoldMs: this.holdMs,
      clock: this.clock,
      powerTarget: options.powerTarget,
      timeoutMs: options.commandTimeoutMs ?? 15_000,
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
      if (this.actions.powersOff(slot)) {
        this.options.manager.setPoweredOff(slot.key, true);
      }
    }
    this.publish();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.powerOn.cancelAll();
    await this.idle();
  }

  /** Resolves once no check, sleep or wake is in flight. */
  idle(): Promise<void> {
    return this.queue.idle();
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
    return this.report.onChange(listener);
  }

  /** Called for every slot that slept or woke. */
  onEvent(listener: (event: LifecycleEvent) => void): () => void {
    return this.report.onEvent(listener);
  }

  slots(): LifecycleSlot[] {
    return this.options.manager.slots().map((slot) => {
      const state = this.stateOf(slot.key);
      return { slot, ...state, ready: isReady(slot, state) };
    });
  }

  /** One idle check of every slot; runs by itself every interval after start(). */
  check(): Promise<void> {
    return this.queue.run(async () => {
      const external = externalAdbActivity(
        this.options.tcpTables ?? PROC_NET_TCP,
        this.adbPorts,
        this.log,
      );
      const now = this.clock.now();
      for (const slot of this.options.manager.slots()) {
        const previous = this.stateOf(slot.key);
        const wokenAt = this.wokenAt.get(slot.key);
        const active =
          slot.taskRunning ||
          external ||
          (wokenAt !== undefined && now - wokenAt < this.holdMs) ||
          this.options.heldAwake?.(slot) === true;
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
    for (const key of keys) await this.options.beforeWake?.(key, reason);
    const woke = await this.queue.run(async () => {
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
    return this.queue.run(async () => {
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
    const { key, botId } = this.identify(ref);
    const started = this.clock.now();
    await this.options.beforeWake?.(key, 'task');
    if (this.stateOf(key).asleep) await this.wake(key, 'task');
    const left = Math.max(0, timeoutMs - (this.clock.now() - started));
    return this.botDevices.whenReady(botId, left, signal);
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
      await this.actions.sleep(slot);
    } catch (error) {
      this.metrics.sleepFailed();
      this.log.warn({ slot: key, err: error }, 'could not put the phone to sleep; it stays awake');
      // Counting starts over: the next try comes after another full idle period.
      this.states.set(key, woken());
      return `sleep failed: ${(error as Error).message}`;
    }
    this.states.set(key, { idleChecks: 0, asleep: true });
    this.options.manager.setAsleep(key, true);
    this.wokenAt.delete(key);
    this.metrics.slept(reason);
    this.log.info({ slot: key, reason }, 'slot asleep');
    this.report.emit({ type: 'slept', slot: key, reason });
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
      await this.actions.wake(this.slotOf(key));
    } catch (error) {
      this.metrics.wakeFailed();
      this.log.warn({ slot: key, err: error }, 'could not wake the phone; it stays asleep');
      return false;
    }
    this.states.set(key, woken());
    this.options.manager.setAsleep(key, false);
    this.metrics.woke(reason);
    this.log.info({ slot: key, reason }, 'slot woke');
    this.report.emit({ type: 'woke', slot: key, reason });
    return true;
  }

  // --- state and slots ------------------------------------------------------

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
    return this.identify(ref).key;
  }

  /** The slot with this key, name, bot id or index (on every on_before_task: no slot copied). */
  private identify(ref: string): SlotIdentity {
    return requireSlotRef(this.options.manager.identities(), ref);
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

  private publish(): void {
    this.report.publish(this.snapshot(), this.options.manager.slots());
  }
}
