import type { Logger } from 'pino';
import { SerialQueue } from '@farm-agent/bot-config/lib';
import type { Clock } from '@farm-agent/bot-config/lib';
import type { ChargeBand } from '../config/battery-care.js';
import type { SlotManager } from '../devices/slot-manager.js';
import type { Slot } from '../devices/slot-state.js';
import { PowerOnWatch } from '../lifecycle/power-on-watch.js';
import type { ChargePort } from './charge-port.js';
import { chargeStep } from './charge-rule.js';
import type { ChargeEvent, ChargePhase, ChargeView } from './charge-rule.js';

export interface ChargeControlOptions {
  manager: SlotManager;
  port: ChargePort;
  band: ChargeBand;
  /** FARM_CHARGE_CHECK_INTERVAL: how long a cut lasts before power returns to read the level. */
  checkIntervalMs: number;
  /** After a cut, when a phone still in adb must show it is off power. Two device refreshes. */
  verifyAfterMs: number;
  /** How long a phone may take to show in adb once its power is back. */
  returnDeadlineMs: number;
  /** After a task or wake asked for a phone, how long charge control keeps off its port. */
  holdMs: number;
  clock: Clock;
  logger: Logger;
}

/** States in which nobody but charge control wants the phone. */
const IDLE_STATES = new Set(['ready', 'asleep']);

/**
 * Keeps idle phones' batteries in the band by switching their port's power: cut at the
 * top, power back every check interval to read the level (a cut phone leaves adb), on until
 * the top again once it is at the bottom. A task or `/wake` restores power at once. The
 * rule is charge-rule.ts; this does the timing, the port commands and the slot's `resting`.
 */
export class ChargeControl {
  private readonly phases = new Map<string, ChargePhase>();
  private readonly timers = new Map<string, unknown>();
  private readonly queue = new SerialQueue();
  private readonly returns: PowerOnWatch;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: ChargeControlOptions) {
    const { manager, clock, logger, returnDeadlineMs } = options;
    this.returns = new PowerOnWatch(manager, clock, logger, returnDeadlineMs, (key) =>
      manager.setResting(key, false),
    );
  }

  /**
   * Starts following the slots. A phone absent at start may sit behind a port an earlier
   * run cut: its power comes back, and it rests (not missing) until it shows.
   */
  start(): void {
    const { manager } = this.options;
    this.unsubscribe = manager.onSlotChanged((slot) => this.read(slot.key));
    for (const slot of manager.slots()) {
      // Phones already at the top are cut without waiting for a change.
      this.read(slot.key);
      if (slot.adbState !== undefined || slot.absentOnPurpose !== undefined) continue;
      if (this.options.port.unavailable(slot) !== undefined) continue;
      manager.setResting(slot.key, true);
      void this.queue.run(async () => {
        // Not awaited: the queue does not wait out a phone that is truly gone.
        void this.restore(slot.key);
      });
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    for (const timer of this.timers.values()) this.options.clock.clearTimeout(timer);
    this.timers.clear();
    this.returns.cancelAll();
    await this.queue.idle();
  }

  /** Resolves once no port command is in flight. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /**
   * A task or `/wake` wants the phone: its power comes back if charge control cut it.
   * Resolves once the phone is back in adb (true), or was never away; false at the deadline.
   */
  async restoreFor(key: string, why: string): Promise<boolean> {
    let back: Promise<boolean> = Promise.resolve(true);
    await this.queue.run(async () => {
      const holdUntil = this.options.clock.now() + this.options.holdMs;
      if (this.advance(key, { type: 'demand', holdUntil }) === 'restore') {
        this.options.logger.info({ slot: key, why }, 'power restored for work');
        back = this.restore(key);
      }
    });
    return back;
  }

  /**
   * Where charge control stands with the slot, for /status beside the port owner's `power`:
   * resting and why, or "charge control unavailable: <why>"; undefined while it holds nothing.
   */
  describe(key: string): string | undefined {
    const slot = this.options.manager.slot(key);
    return slot === undefined ? undefined : describe(this.phaseOf(slot), this.options.band);
  }

  // --- steps ----------------------------------------------------------------

  /** Feeds the slot's readings as they are when the queue gets to them. */
  private read(key: string): void {
    this.feed(key, () => {
      const slot = this.options.manager.slot(key);
      return { type: 'reading', view: slot === undefined ? GONE : viewOf(slot) };
    });
  }

  private feed(key: string, event: () => ChargeEvent): void {
    void this.queue.run(async () => {
      const action = this.advance(key, event());
      if (action === 'cut') await this.cut(key);
      if (action === 'restore') void this.restore(key);
    });
  }

  /** Applies one event; returns the port action it calls for. */
  private advance(key: string, event: ChargeEvent): 'cut' | 'restore' | undefined {
    const slot = this.options.manager.slot(key);
    if (slot === undefined) return undefined;
    const previous = this.phaseOf(slot);
    const { next, action } = chargeStep(
      previous,
      event,
      this.options.band,
      this.options.clock.now(),
    );
    this.phases.set(key, next);
    if (next.kind !== previous.kind) this.schedule(key, next);
    if (next.kind === 'unavailable' && previous.kind !== 'unavailable') {
      this.options.logger.warn({ slot: key, reason: next.reason }, 'charge control unavailable');
    }
    return action;
  }

  private async cut(key: string): Promise<void> {
    const { manager, port, logger, band } = this.options;
    const slot = manager.slot(key);
    if (slot === undefined) return;
    // Said before the power goes: the phone leaving adb must read as resting, not missing.
    manager.setResting(key, true);
    const percent = slot.battery?.percent;
    const result = await port.cut(
      slot,
      `battery at ${percent ?? '?'}%: resting until ${band.lowPercent}% (band ${band.lowPercent}–${band.highPercent}%)`,
    );
    if (result.kind === 'cut') {
      logger.info({ slot: key, percent }, 'port cut: battery at the band top');
      return;
    }
    manager.setResting(key, false);
    const next: ChargePhase =
      result.kind === 'held'
        ? { kind: 'charging', heldUntil: this.options.clock.now() + this.options.holdMs }
        : { kind: 'unavailable', reason: result.why };
    this.phases.set(key, next);
    this.schedule(key, next);
    if (next.kind === 'unavailable') {
      logger.warn({ slot: key, reason: next.reason }, 'charge control unavailable');
    }
  }

  /** Power back on; resolves once the phone is back (true) or at the deadline. */
  private async restore(key: string): Promise<boolean> {
    const slot = this.options.manager.slot(key);
    if (slot === undefined) return false;
    try {
      await this.options.port.restore(slot);
    } catch (error) {
      this.options.logger.error({ slot: key, err: error }, 'could not restore port power');
      this.options.manager.setResting(key, false);
      return false;
    }
    return this.returns.watch(key);
  }

  /** Timers that belong to the phase just entered. */
  private schedule(key: string, phase: ChargePhase): void {
    const { clock } = this.options;
    clock.clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    if (phase.kind === 'checking') {
      // A phone that never settles is decided at readBy even if its slot changes no more.
      this.timers.set(
        key,
        clock.setTimeout(() => this.read(key), phase.readBy - clock.now()),
      );
      return;
    }
    if (phase.kind !== 'resting') return;
    const verify = clock.setTimeout(() => {
      this.feed(key, () => {
        const slot = this.options.manager.slot(key);
        return { type: 'verify-due', view: slot === undefined ? GONE : viewOf(slot) };
      });
      this.timers.set(
        key,
        clock.setTimeout(
          () =>
            this.feed(key, () => ({
              type: 'check-due',
              readBy: clock.now() + this.options.returnDeadlineMs + this.options.verifyAfterMs,
            })),
          this.options.checkIntervalMs - this.options.verifyAfterMs,
        ),
      );
    }, this.options.verifyAfterMs);
    this.timers.set(key, verify);
  }

  private phaseOf(slot: Slot): ChargePhase {
    const known = this.phases.get(slot.key);
    if (known !== undefined) return known;
    const why = this.options.port.unavailable(slot);
    const phase: ChargePhase =
      why === undefined ? { kind: 'charging' } : { kind: 'unavailable', reason: why };
    this.phases.set(slot.key, phase);
    return phase;
  }
}

const GONE: ChargeView = { visible: false, idle: false };

function viewOf(slot: Slot): ChargeView {
  const view: ChargeView = {
    visible: slot.adbState === 'device',
    idle: !slot.taskRunning && IDLE_STATES.has(slot.health.state),
  };
  if (!slot.taskRunning && slot.health.state === 'booting') view.settling = true;
  if (slot.battery?.percent !== undefined) view.percent = slot.battery.percent;
  if (slot.battery !== undefined) view.powered = slot.battery.plugged.length > 0;
  return view;
}

function describe(phase: ChargePhase, band: ChargeBand): string | undefined {
  switch (phase.kind) {
    case 'charging':
      return undefined;
    case 'resting':
      return `charge control holds the port off: battery reached ${phase.cutPercent}% (band ${band.lowPercent}–${band.highPercent}%)`;
    case 'checking':
      return 'charge control restored the port to read the battery';
    case 'unavailable':
      return `charge control unavailable: ${phase.reason}`;
  }
}
