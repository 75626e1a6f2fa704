import type { BotDeviceView } from '@farm-agent/bot-config';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { systemClock } from '@farm-agent/bot-config/lib';
import type { Clock } from '@farm-agent/bot-config/lib';
import type { AdbDevice, DeviceIO, DevicePresence } from './device-io.js';
import type { RecoveryThresholds } from '../config/recovery-thresholds.js';
import type { WearThresholds } from '../config/battery-care.js';
import type { UsbPresence } from './usb-presence.js';
import type { RecoveryNote, SlotHealth } from './health.js';
import { DEFAULT_INTERROGATION_TIMEOUTS } from './interrogate.js';
import type { InterrogationTimeouts } from './interrogate.js';
import { RebootAfterTask } from './reboot-after-task.js';
import { botIdPatternProblem } from '../config/bot-id-pattern.js';
import { SlotAttach } from './slot-attach.js';
import { SlotRegistry } from './slot-registry.js';
import { SlotMetrics } from './slot-metrics.js';
import { SlotPublisher } from './slot-publisher.js';
import { SlotRefresh } from './slot-refresh.js';
import { forgetReadings } from './slot-readings.js';
import { healthOf, snapshot } from './slot-state.js';
import type { BotSlot, Overrides, Slot, SlotState } from './slot-state.js';
import type { SlotIdentity } from './slot-ref.js';
import type { SlotPersistence } from './slot-store.js';
import { noDeviceDimensions } from './swarming-dimensions.js';
import type { DeviceDimensions } from './swarming-dimensions.js';

export interface SlotManagerOptions {
  io: DeviceIO;
  presence: DevicePresence;
  store: SlotPersistence;
  /** The Kubernetes node name, `{node}` of the bot id pattern. */
  node: string;
  /** E.g. `{node}-{slot}`; see botIdPatternProblem. */
  botIdPattern: string;
  insideDocker: boolean;
  logger: Logger;
  registry: Registry;
  /** Battery, temperature, uptime and boot refresh of present phones. Default 30 s. */
  refreshIntervalMs?: number;
  /** Skia's behaviour: reboot the phone after every task. */
  rebootAfterTask?: boolean;
  /** How long a phone rebooted after a task may take to be back and booted. Default 5 min. */
  rebootDeadlineMs?: number;
  thresholds?: RecoveryThresholds;
  /** When a battery counts as worn. */
  wear?: WearThresholds;
  timeouts?: InterrogationTimeouts;
  clock?: Clock;
}

/**
 * Slots, from adb presence to what Swarming sees. A slot is a USB port (or a
 * TCP device's serial): a phone swapped into the port takes over its slot
 * and bot id. Presence changes apply at once (a pulled cable quarantines the
 * bot before its next poll); battery, heat, uptime and boot state are read
 * every refresh interval, and properties when a phone attaches, comes back or
 * has rebooted.
 */
export class SlotManager {
  private readonly registry: SlotRegistry;
  private readonly attach: SlotAttach;
  private readonly work = new Set<Promise<void>>();
  private readonly clock: Clock;
  private readonly timeouts: InterrogationTimeouts;
  private readonly log: Logger;
  private readonly publisher: SlotPublisher;
  private readonly reboots: RebootAfterTask;
  private readonly reads: SlotRefresh;
  private readonly noDevice: DeviceDimensions;
  private unsubscribe: (() => void) | undefined;
  private unsubscribeServer: (() => void) | undefined;
  /** Why the adb server cannot be asked now; every slot shows it until it can. */
  private adbDown: string | undefined;

  constructor(private readonly options: SlotManagerOptions) {
    const problem = botIdPatternProblem(options.botIdPattern);
    if (problem !== undefined) throw new Error(problem);
    this.clock = options.clock ?? systemClock;
    this.timeouts = options.timeouts ?? DEFAULT_INTERROGATION_TIMEOUTS;
    this.log = options.logger;
    this.noDevice = noDeviceDimensions({}, options).dimensions;
    this.registry = new SlotRegistry({
      node: options.node,
      botIdPattern: options.botIdPattern,
      noDevice: this.noDevice,
      log: this.log,
    });
    this.publisher = new SlotPublisher({
      registry: this.registry,
      store: options.store,
      metrics: new SlotMetrics(options.registry),
      noDevice: this.noDevice,
      thresholds: options.thresholds,
      wear: options.wear,
      track: (work) => this.track(work),
    });
    this.reboots = new RebootAfterTask({
      io: options.io,
      clock: this.clock,
      log: this.log,
      commandMs: this.timeouts.commandMs,
      deadlineMs: options.rebootDeadlineMs ?? 300_000,
      changed: (slot) => this.update(slot),
      refresh: (slot) => this.reads.refresh(slot),
    });
    this.reads = new SlotRefresh({
      io: options.io,
      timeouts: this.timeouts,
      dimensions: options,
      log: this.log,
      reboots: this.reboots,
      changed: (slot) => this.update(slot),
      clock: this.clock,
      intervalMs: options.refreshIntervalMs ?? 30_000,
      track: (work) => this.track(work),
    });
    this.attach = new SlotAttach({
      io: options.io,
      presence: options.presence,
      registry: this.registry,
      reboots: this.reboots,
      timeouts: this.timeouts,
      log: this.log,
    });
  }

  /** Loads the known slots, then follows adb presence and refreshes periodically. */
  async start(): Promise<void> {
    const { presence } = this.options;
    this.adbDown = presence.serverProblem();
    this.unsubscribeServer = presence.onServerChange((problem) => this.onServer(problem));
    for (const saved of await this.options.store.load()) {
      const slot = this.registry.restore(saved);
      if (slot !== undefined) this.update(slot);
    }
    this.unsubscribe = this.options.presence.onChange((serial, device) =>
      this.onPresence(serial, device),
    );
    // Listeners first, then the devices already there: none is missed in between.
    for (const [serial, device] of this.options.presence.devices()) {
      this.onPresence(serial, device);
    }
    this.reads.start(() => this.refreshAll());
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.unsubscribeServer?.();
    this.unsubscribeServer = undefined;
    this.reads.stop();
    for (const slot of this.registry.all()) this.reboots.cancel(slot);
    await this.idle();
  }

  /** Resolves once no interrogation is in flight. */
  async idle(): Promise<void> {
    while (this.work.size > 0) await Promise.all([...this.work]);
  }

  slots(): Slot[] {
    return this.registry.all().map(snapshot);
  }

  slot(key: string): Slot | undefined {
    const slot = this.registry.get(key);
    return slot === undefined ? undefined : snapshot(slot);
  }

  // --- for the hooks: asked on every call, so they copy no slot ---------

  /** The key of the bot's slot; undefined for a bot no slot has. */
  keyOfBot(botId: string): string | undefined {
    return this.registry.ofBot(botId)?.key;
  }

  /** What the bot's hooks answer from: the slot's dimensions and its word to Swarming. */
  botView(botId: string): BotDeviceView | undefined {
    const slot = this.registry.ofBot(botId);
    return slot === undefined
      ? undefined
      : { dimensions: slot.dimensions, ...healthOf(slot).swarming };
  }

  /** The slot's health state now; undefined for a key no slot has. */
  healthState(key: string): SlotHealth['state'] | undefined {
    const slot = this.registry.get(key);
    return slot === undefined ? undefined : healthOf(slot).state;
  }

  /** The four names of every slot, in slot order (slot-ref.ts resolves references with them). */
  identities(): SlotIdentity[] {
    return this.registry.all().map(({ key, name, botId, index }) => ({ key, name, botId, index }));
  }

  /** One Swarming bot per slot, in slot order. */
  bots(): BotSlot[] {
    return this.publisher.bots();
  }

  /** Called on every real change of a slot. Returns an unsubscribe function. */
  onSlotChanged(listener: (slot: Slot) => void): () => void {
    return this.publisher.onSlotChanged(listener);
  }

  /**
   * Called on every real change of a slot after the turn of the event loop that made it, in
   * order: for listeners that only report (metrics, the cluster), not those acting on slots.
   */
  onSlotReported(listener: (slot: Slot) => void): () => void {
    return this.publisher.onSlotReported(listener);
  }

  /** Called when bots() changes (a slot appears, or a new phone takes one over). */
  onBotsChanged(listener: (bots: BotSlot[]) => void): () => void {
    return this.publisher.onBotsChanged(listener);
  }

  /** Operator overrides, replacing the previous ones. */
  setOverride(key: string, overrides: Overrides): void {
    const slot = this.get(key);
    slot.overrides = { ...overrides };
    this.update(slot);
  }

  /** The agent cut the port's power (true) or restored it (false). */
  setPoweredOff(key: string, poweredOff: boolean): void {
    const slot = this.get(key);
    slot.poweredOff = poweredOff;
    this.update(slot);
  }

  /** Charge control cut the port (true), or the phone is back after it restored it (false). */
  setResting(key: string, resting: boolean): void {
    const slot = this.get(key);
    slot.resting = resting;
    this.update(slot);
  }

  /** The lifecycle put the phone to sleep (true) or woke it (false). */
  setAsleep(key: string, asleep: boolean): void {
    const slot = this.get(key);
    slot.asleep = asleep;
    this.update(slot);
  }

  /** The recovery ladder's word on the slot (undefined: none), and the kernel's view of its port. */
  setRecovery(key: string, note: RecoveryNote | undefined, usb?: UsbPresence): void {
    const slot = this.get(key);
    if (note === undefined) delete slot.recovery;
    else slot.recovery = note;
    if (usb === undefined) delete slot.usb;
    else slot.usb = usb;
    this.update(slot);
  }

  taskStarted(key: string): void {
    const slot = this.get(key);
    slot.taskRunning = true;
    this.update(slot);
  }

  /** Marks the slot idle and, with `rebootAfterTask`, reboots its phone. */
  async taskEnded(key: string): Promise<void> {
    const slot = this.get(key);
    slot.taskRunning = false;
    this.update(slot);
    if (this.rebootsAfterTask) await this.reboots.start(slot);
  }

  /** Whether the end of a task starts a reboot of its phone, which taskEnded waits for. */
  get rebootsAfterTask(): boolean {
    return this.options.rebootAfterTask === true;
  }

  private get(key: string): SlotState {
    const slot = this.registry.get(key);
    if (slot === undefined) throw new Error(`no slot "${key}"`);
    return slot;
  }

  // --- presence ---------------------------------------------------------

  /**
   * The adb server went away or came back. Every slot says so at once; once it is
   * back, presence is reconciled and the phones are read again, so a slot is ready
   * again as soon as its phone answers, not at the next refresh.
   */
  private onServer(problem: string | undefined): void {
    if (problem === this.adbDown) return;
    this.adbDown = problem;
    if (problem === undefined) this.log.info('adb server reachable again');
    else this.log.warn({ reason: problem }, 'adb server down: no slot is ready');
    for (const slot of this.registry.all()) this.update(slot);
    if (problem === undefined) this.refreshAll();
  }

  /** Applies an adb presence change at once; interrogation follows in the background. */
  private onPresence(serial: string, device: AdbDevice | undefined): void {
    const slot = this.attach.slotOf(serial);
    if (slot === undefined) {
      if (device === undefined) this.attach.detach(serial);
      else this.track(this.attach.attach(serial, (found) => this.onPresence(serial, found)));
      return;
    }
    const wasDevice = slot.adbState === 'device';
    slot.adbState = device?.type;
    if (device === undefined) {
      this.attach.detach(serial);
      forgetReadings(slot);
    } else {
      slot.lastSeen = this.clock.now();
    }
    if (device?.type !== 'device') {
      this.reboots.leftAdb(slot);
      slot.propsStale = true;
    }
    this.update(slot);
    if (device?.type === 'device' && !wasDevice) this.reads.refresh(slot);
  }

  // --- every refresh interval -------------------------------------------

  /**
   * Every interval: reconcile with what adb lists now (a tracker can miss a
   * change, e.g. a TCP phone turning offline), retry serials whose slot was
   * not found, and refresh the readings of present phones.
   */
  private refreshAll(): void {
    // Nothing can be read while the server is down; onServer() catches up after.
    if (this.adbDown !== undefined) return;
    const listed = this.options.presence.devices();
    for (const [serial, slot] of this.attach.attached()) {
      const device = listed.get(serial);
      if (device?.type !== slot.adbState) this.onPresence(serial, device);
    }
    for (const [serial, device] of listed) {
      if (this.attach.slotOf(serial) === undefined) this.onPresence(serial, device);
    }
    for (const [, slot] of this.attach.attached()) {
      if (slot.adbState === 'device') this.reads.refresh(slot);
    }
  }

  /** Recomputes health and dimensions, then tells whoever cares about what changed. */
  private update(slot: SlotState): void {
    this.publisher.changed(slot, this.adbDown, this.clock.now());
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((err: unknown) => {
      this.log.error({ err }, 'slot work failed');
    });
    this.work.add(tracked);
    void tracked.finally(() => this.work.delete(tracked));
  }
}
