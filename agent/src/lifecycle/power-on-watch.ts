import type { Logger } from 'pino';
import type { Clock } from '@farm-agent/bot-config/lib';
import type { SlotManager } from '../devices/slot-manager.js';
import type { Slot } from '../devices/slot-state.js';

/**
 * A powered port takes seconds to enumerate its phone: until adb lists it
 * (or the deadline passes) it stays "powered off" for the slot manager, so
 * it shows asleep, never missing, on its way back.
 */
export class PowerOnWatch {
  /** Phones powered on whose return to adb is awaited, by slot key: cancel functions. */
  private readonly pending = new Map<string, (returned?: boolean) => void>();

  constructor(
    private readonly manager: SlotManager,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly deadlineMs: number,
    /** What ends "away on purpose" for the slot; default: the sleep action's powered-off flag. */
    private readonly back: (key: string) => void = (key) => manager.setPoweredOff(key, false),
  ) {}

  /**
   * The slot's port was just powered on. Resolves true once the phone is back in adb, false
   * at the deadline or when cancelled.
   */
  watch(key: string): Promise<boolean> {
    this.cancel(key);
    let settle: (back: boolean) => void = () => undefined;
    const result = new Promise<boolean>((resolve) => (settle = resolve));
    // Back means usable: a phone shows `offline` while it connects, and one
    // that comes back in a faulty state shows that state at the deadline.
    const back = (slot: Slot | undefined) => slot?.adbState === 'device';
    const done = (returned = false) => {
      this.clock.clearTimeout(timer);
      unsubscribe();
      this.pending.delete(key);
      settle(returned);
    };
    const finish = (returned: boolean) => {
      done(returned);
      this.back(key);
    };
    const deadlineMs = this.deadlineMs;
    const timer = this.clock.setTimeout(() => {
      this.log.warn(
        { slot: key, deadlineMs },
        'phone not back in adb after its port was powered on',
      );
      finish(false);
    }, deadlineMs);
    const unsubscribe = this.manager.onSlotChanged((slot) => {
      if (slot.key === key && back(slot)) finish(true);
    });
    this.pending.set(key, done);
    if (back(this.manager.slot(key))) finish(true);
    return result;
  }

  /** Stops waiting for the slot's phone; its powered-off flag stays as it is. */
  cancel(key: string): void {
    this.pending.get(key)?.(false);
  }

  cancelAll(): void {
    for (const cancel of [...this.pending.values()]) cancel();
  }
}
