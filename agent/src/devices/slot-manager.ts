import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { systemClock } from './clock.js';
import type { Clock } from './clock.js';
import type { AdbDevice, DeviceIO, DevicePresence } from './device-io.js';
import { DEFAULT_RECOVERY_THRESHOLDS, evaluateSlotHealth } from './health.js';
import type { RecoveryThresholds, SlotHealth, SlotObservation } from './health.js';
import {
  DEFAULT_INTERROGATION_TIMEOUTS,
  readDevicePath,
  readProps,
  readVitals,
} from './interrogate.js';
import type { InterrogationTimeouts, Reading, Vitals } from './interrogate.js';
import type { Battery } from './parse/battery.js';
import { maxTemperatureC } from './parse/thermal.js';
import type { ThermalReading } from './parse/thermal.js';
import { botIdFor, botIdPatternProblem, slotKey, slotName } from './slot.js';
import type { PersistedSlot, SlotPersistence } from './slot-store.js';
import { deriveAndroidDimensions, noDeviceDimensions } from './swarming-dimensions.js';
import type { DeviceDimensions } from './swarming-dimensions.js';

// The cluster reporter still imports the clock from here; its own split moves it to clock.js.
export { systemClock };
export type { Clock };

export interface Overrides {
  maintenance?: string;
  quarantine?: string;
}

export type AbsentOnPurpose = NonNullable<SlotObservation['absentOnPurpose']>;

/** One slot as the rest of the agent sees it: a copy, safe to keep. */
export interface Slot {
  /** `usb:1-1.3`, or a TCP device's serial. */
  key: string;
  name: string;
  index: number;
  botId: string;
  /** The phone in the slot, or the last one seen there. */
  serial?: string;
  /** adb's state for the phone; undefined while adb does not list it. */
  adbState?: string;
  /** The current phone's properties; undefined until read. */
  props?: ReadonlyMap<string, string>;
  /** The device-owned Swarming dimensions the slot reports now. */
  dimensions: DeviceDimensions;
  /** `device_type` of the last phone whose properties were read here. */
  deviceTypes: string[];
  battery?: Battery;
  /** Hottest Celsius reading of the battery and the thermal HAL. */
  temperatureC?: number;
  thermal?: ThermalReading[];
  uptimeSeconds?: number;
  bootCompleted: boolean;
  /** When adb last listed the phone (ms since the epoch). */
  lastSeen?: number;
  /**
   * Readings that failed in the last interrogation, by field (`battery`,
   * `thermal`, `uptimeSeconds`, `bootCompleted`, `props`): `battery unreadable: ...`.
   */
  readingErrors: Record<string, string>;
  health: SlotHealth;
  overrides: Overrides;
  taskRunning: boolean;
  absentOnPurpose?: AbsentOnPurpose;
}

export interface BotSlot {
  botId: string;
  slot: string;
  /** For `ANDROID_SERIAL`; undefined when the slot never had a phone since the agent started. */
  serial?: string;
}

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
  timeouts?: InterrogationTimeouts;
  clock?: Clock;
}

interface RebootInProgress {
  uptimeBefore?: number;
  /** adb stopped listing the phone as `device` since the reboot was asked for. */
  sawGone: boolean;
  timer: unknown;
}

/**
 * The mutable record behind a Slot: the same readings, plus what only the
 * manager needs. `health` is unset until the first evaluation; `deviceTypes`
 * and `absentOnPurpose` are derived when a Slot is handed out.
 */
interface SlotState extends Omit<Slot, 'health' | 'deviceTypes' | 'absentOnPurpose'> {
  /**
   * Dimensions derived from the last properties read in this slot (or loaded from the store):
   * they outlive the phone's absence, so a phone put to sleep keeps matching its tasks.
   */
  lastDimensions?: DeviceDimensions;
  /** Properties must be (re-)read: the phone attached, came back or rebooted. */
  propsStale: boolean;
  health?: SlotHealth;
  /** The lifecycle put the phone to sleep (any sleep action). */
  asleep: boolean;
  /** The agent cut the port's power (to sleep), or it is on again and the phone not back yet. */
  poweredOff: boolean;
  reboot?: RebootInProgress;
  /** The reboot after a task missed its deadline; cleared once the phone is back and booted. */
  rebootFailure?: string;
  refreshing?: Promise<void>;
  /** What listeners last saw, to emit only real changes. */
  emitted?: string;
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
  private readonly slotsByKey = new Map<string, SlotState>();
  /** Serials adb lists whose slot is known. */
  private readonly slotOfSerial = new Map<string, SlotState>();
  /** Serials whose slot is being looked up. */
  private readonly attaching = new Set<string>();
  /** Serials whose slot could not be found, and why; retried every refresh. */
  private readonly attachProblems = new Map<string, string>();
  private readonly slotListeners = new Set<(slot: Slot) => void>();
  private readonly botListeners = new Set<(bots: BotSlot[]) => void>();
  private readonly work = new Set<Promise<void>>();
  private readonly clock: Clock;
  private readonly timeouts: InterrogationTimeouts;
  private readonly log: Logger;
  private readonly stateGauge: Gauge<'slot' | 'state'>;
  private readonly batteryGauge: Gauge<'slot'>;
  private readonly temperatureGauge: Gauge<'slot'>;
  private readonly noDevice: DeviceDimensions;
  /** The state each slot's `farm_slot_state` series shows, to remove it on change. */
  private readonly statesShown = new Map<string, string>();
  private unsubscribe: (() => void) | undefined;
  private unsubscribeServer: (() => void) | undefined;
  /** Why the adb server cannot be asked now; every slot shows it until it can. */
  private adbDown: string | undefined;
  private refreshTimer: unknown;
  private persisted = '';
  private botsShown = '';

  constructor(private readonly options: SlotManagerOptions) {
    const problem = botIdPatternProblem(options.botIdPattern);
    if (problem !== undefined) throw new Error(problem);
    this.clock = options.clock ?? systemClock;
    this.timeouts = options.timeouts ?? DEFAULT_INTERROGATION_TIMEOUTS;
    this.log = options.logger;
    this.noDevice = noDeviceDimensions({}, options).dimensions;
    const registers = [options.registry];
    this.stateGauge = new Gauge({
      name: 'farm_slot_state',
      help: 'Health state of each slot: 1 for the current state.',
      labelNames: ['slot', 'state'],
      registers,
    });
    this.batteryGauge = new Gauge({
      name: 'farm_device_battery_percent',
      help: 'Battery charge of the phone in each slot.',
      labelNames: ['slot'],
      registers,
    });
    this.temperatureGauge = new Gauge({
      name: 'farm_device_temperature_celsius',
      help: 'Hottest battery or thermal HAL reading of the phone in each slot.',
      labelNames: ['slot'],
      registers,
    });
  }

  /** Loads the known slots, then follows adb presence and refreshes periodically. */
  async start(): Promise<void> {
    const { presence } = this.options;
    this.adbDown = presence.serverProblem();
    this.unsubscribeServer = presence.onServerChange((problem) => this.onServer(problem));
    for (const saved of await this.options.store.load()) this.restore(saved);
    this.unsubscribe = this.options.presence.onChange((serial, device) =>
      this.onPresence(serial, device),
    );
    // Listeners first, then the devices already there: none is missed in between.
    for (const [serial, device] of this.options.presence.devices()) {
      this.onPresence(serial, device);
    }
    this.scheduleRefresh();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.unsubscribeServer?.();
    this.unsubscribeServer = undefined;
    this.clock.clearTimeout(this.refreshTimer);
    for (const slot of this.slotsByKey.values()) this.clock.clearTimeout(slot.reboot?.timer);
    await this.idle();
  }

  /** Resolves once no interrogation is in flight. */
  async idle(): Promise<void> {
    while (this.work.size > 0) await Promise.all([...this.work]);
  }

  slots(): Slot[] {
    return [...this.slotsByKey.values()].sort((a, b) => a.index - b.index).map(snapshot);
  }

  slot(key: string): Slot | undefined {
    const slot = this.slotsByKey.get(key);
    return slot === undefined ? undefined : snapshot(slot);
  }

  slotOfBot(botId: string): Slot | undefined {
    return this.slots().find((slot) => slot.botId === botId);
  }

  /** One Swarming bot per slot, in slot order. */
  bots(): BotSlot[] {
    return this.slots().map(({ botId, key, serial }) =>
      serial === undefined ? { botId, slot: key } : { botId, slot: key, serial },
    );
  }

  /** Called on every real change of a slot. Returns an unsubscribe function. */
  onSlotChanged(listener: (slot: Slot) => void): () => void {
    this.slotListeners.add(listener);
    return () => this.slotListeners.delete(listener);
  }

  /** Called when bots() changes (a slot appears, or a new phone takes one over). */
  onBotsChanged(listener: (bots: BotSlot[]) => void): () => void {
    this.botListeners.add(listener);
    return () => this.botListeners.delete(listener);
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

  /** The lifecycle put the phone to sleep (true) or woke it (false). */
  setAsleep(key: string, asleep: boolean): void {
    const slot = this.get(key);
    slot.asleep = asleep;
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
    if (this.options.rebootAfterTask === true) await this.rebootAfterTask(slot);
  }

  private get(key: string): SlotState {
    const slot = this.slotsByKey.get(key);
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
    for (const slot of this.slotsByKey.values()) this.update(slot);
    if (problem === undefined) this.refreshAll();
  }

  /** Applies an adb presence change at once; interrogation follows in the background. */
  private onPresence(serial: string, device: AdbDevice | undefined): void {
    const slot = this.slotOfSerial.get(serial);
    if (slot === undefined) {
      if (device === undefined) this.attachProblems.delete(serial);
      else this.track(this.attach(serial));
      return;
    }
    const wasDevice = slot.adbState === 'device';
    slot.adbState = device?.type;
    if (device === undefined) {
      // It may come back in another port: find its slot afresh then.
      this.slotOfSerial.delete(serial);
      this.forgetReadings(slot);
    } else {
      slot.lastSeen = this.clock.now();
    }
    if (device?.type !== 'device') {
      if (slot.reboot !== undefined) slot.reboot.sawGone = true;
      slot.propsStale = true;
    }
    this.update(slot);
    if (device?.type === 'device' && !wasDevice) this.refresh(slot);
  }

  /** Finds the slot of a serial adb lists but no slot holds yet. */
  private async attach(serial: string): Promise<void> {
    if (this.attaching.has(serial)) return;
    this.attaching.add(serial);
    const path = await readDevicePath(this.options.io, serial, this.timeouts).finally(() =>
      this.attaching.delete(serial),
    );
    const device = this.options.presence.devices().get(serial);
    if (device === undefined || this.slotOfSerial.has(serial)) return;
    const found = path.ok ? this.slotFor(slotKey(path.value, serial)) : path;
    if (!found.ok) {
      // Retried every refresh; said once per distinct problem.
      if (this.attachProblems.get(serial) !== found.reason) {
        this.log.warn({ serial, reason: found.reason }, 'cannot find the slot of a device');
      }
      this.attachProblems.set(serial, found.reason);
      return;
    }
    this.attachProblems.delete(serial);
    const slot = found.value;
    if (slot.serial !== serial) this.takeOver(slot, serial);
    this.slotOfSerial.set(serial, slot);
    this.onPresence(serial, device);
  }

  /** A phone that is not the slot's last one moves in: nothing known of the old one holds. */
  private takeOver(slot: SlotState, serial: string): void {
    if (slot.serial !== undefined) {
      this.log.info({ slot: slot.key, from: slot.serial, to: serial }, 'new phone in slot');
    }
    for (const other of this.slotsByKey.values()) {
      // The phone moved here from another port: that slot no longer has it.
      if (other.serial === serial) delete other.serial;
    }
    this.cancelReboot(slot);
    delete slot.rebootFailure;
    delete slot.props;
    delete slot.uptimeSeconds;
    this.forgetReadings(slot);
    slot.serial = serial;
    // The caller applies the new phone's adb state and updates: no passing "missing".
    slot.adbState = undefined;
  }

  /** Readings describe a phone that is here; a phone that left has none. */
  private forgetReadings(slot: SlotState): void {
    delete slot.battery;
    delete slot.temperatureC;
    delete slot.thermal;
    slot.bootCompleted = false;
    slot.readingErrors = {};
  }

  private slotFor(key: string): Reading<SlotState> {
    const existing = this.slotsByKey.get(key);
    if (existing !== undefined) return { ok: true, value: existing };
    const used = new Set([...this.slotsByKey.values()].map((s) => s.index));
    let index = 0;
    while (used.has(index)) index++;
    return this.create(key, index);
  }

  private create(key: string, index: number): Reading<SlotState> {
    const id = botIdFor(this.options.botIdPattern, { node: this.options.node, slot: key, index });
    if (!id.ok) return { ok: false, reason: `slot ${key}: ${id.reason}` };
    const slot: SlotState = {
      key,
      name: slotName(key),
      index,
      botId: id.botId,
      dimensions: this.noDevice,
      propsStale: true,
      bootCompleted: false,
      readingErrors: {},
      overrides: {},
      taskRunning: false,
      asleep: false,
      poweredOff: false,
    };
    this.slotsByKey.set(key, slot);
    return { ok: true, value: slot };
  }

  private restore(saved: PersistedSlot): void {
    const created = this.create(saved.key, saved.index);
    if (!created.ok) {
      this.log.error({ slot: saved.key, reason: created.reason }, 'dropping a saved slot');
      return;
    }
    const slot = created.value;
    if (slot.botId !== saved.botId) {
      this.log.warn({ slot: slot.key, was: saved.botId, now: slot.botId }, 'bot id changed');
    }
    slot.lastDimensions = saved.dimensions;
    this.update(slot);
  }

  // --- interrogation ----------------------------------------------------

  private scheduleRefresh(): void {
    this.refreshTimer = this.clock.setTimeout(() => {
      this.refreshAll();
      this.scheduleRefresh();
    }, this.options.refreshIntervalMs ?? 30_000);
  }

  /**
   * Every interval: reconcile with what adb lists now (a tracker can miss a
   * change, e.g. a TCP phone turning offline), retry serials whose slot was
   * not found, and refresh the readings of present phones.
   */
  private refreshAll(): void {
    // Nothing can be read while the server is down; onServer() catches up after.
    if (this.adbDown !== undefined) return;
    const listed = this.options.presence.devices();
    for (const [serial, slot] of [...this.slotOfSerial]) {
      const device = listed.get(serial);
      if (device?.type !== slot.adbState) this.onPresence(serial, device);
    }
    for (const [serial, device] of listed) {
      if (!this.slotOfSerial.has(serial)) this.onPresence(serial, device);
    }
    for (const slot of this.slotOfSerial.values()) {
      if (slot.adbState === 'device') this.refresh(slot);
    }
  }

  /** Re-reads a present phone; a refresh already running for the slot is not doubled. */
  private refresh(slot: SlotState): void {
    if (slot.refreshing !== undefined || slot.serial === undefined) return;
    const serial = slot.serial;
    slot.refreshing = this.interrogate(slot, serial).finally(() => {
      delete slot.refreshing;
    });
    this.track(slot.refreshing);
  }

  private async interrogate(slot: SlotState, serial: string): Promise<void> {
    // Results only count while the same phone is still there to be read.
    const current = () => slot.serial === serial && slot.adbState === 'device';
    const [props, vitals] = await Promise.all([
      slot.propsStale ? this.readProps(slot, serial) : undefined,
      readVitals(this.options.io, serial, this.timeouts),
    ]);
    if (!current()) return;
    if (props !== undefined) this.applyProps(slot, props);
    const rebooted = this.applyVitals(slot, vitals);
    this.update(slot);
    // It rebooted between two reads and may be another build now.
    if (rebooted) {
      const fresh = await this.readProps(slot, serial);
      if (!current()) return;
      this.applyProps(slot, fresh);
      this.update(slot);
    }
  }

  private readProps(slot: SlotState, serial: string) {
    slot.propsStale = false;
    return readProps(this.options.io, serial, this.timeouts);
  }

  private applyProps(slot: SlotState, props: Awaited<ReturnType<typeof readProps>>): void {
    if (!props.ok) {
      slot.readingErrors['props'] = props.reason;
      // Try again next refresh: a phone still starting may not answer yet.
      slot.propsStale = true;
      return;
    }
    slot.readingErrors = without(slot.readingErrors, ['props']);
    slot.props = props.value.props;
    slot.lastDimensions = deriveAndroidDimensions(slot.props, this.options);
  }

  /** Applies the readings; true when the uptime went back (the phone rebooted). */
  private applyVitals(slot: SlotState, vitals: Vitals): boolean {
    const errors = without(slot.readingErrors, Object.keys(vitals));
    for (const [name, reading] of Object.entries(vitals)) {
      if (!reading.ok) errors[name] = reading.reason;
    }
    slot.readingErrors = errors;
    const { battery, thermal, uptimeSeconds, bootCompleted } = vitals;
    slot.battery = battery.ok ? battery.value : undefined;
    slot.thermal = thermal.ok ? thermal.value.readings : undefined;
    const hottest = [slot.battery?.temperatureC, maxTemperatureC(slot.thermal ?? [])].filter(
      (t) => t !== undefined,
    );
    slot.temperatureC = hottest.length > 0 ? Math.max(...hottest) : undefined;
    const rebooted =
      uptimeSeconds.ok &&
      slot.uptimeSeconds !== undefined &&
      uptimeSeconds.value < slot.uptimeSeconds;
    if (rebooted) this.log.info({ slot: slot.key, serial: slot.serial }, 'phone rebooted');
    if (uptimeSeconds.ok) slot.uptimeSeconds = uptimeSeconds.value;
    // Unreadable reads as not booted: the safe answer, it only delays tasks.
    slot.bootCompleted = bootCompleted.ok && bootCompleted.value;
    const reboot = slot.reboot;
    if (reboot !== undefined && slot.bootCompleted) {
      const rebooted =
        reboot.sawGone ||
        (reboot.uptimeBefore !== undefined &&
          slot.uptimeSeconds !== undefined &&
          slot.uptimeSeconds < reboot.uptimeBefore);
      if (rebooted) this.cancelReboot(slot);
    }
    if (slot.bootCompleted && slot.reboot === undefined) delete slot.rebootFailure;
    return rebooted;
  }

  // --- reboot after a task ------------------------------------------------

  private async rebootAfterTask(slot: SlotState): Promise<void> {
    const serial = slot.serial;
    if (serial === undefined || slot.adbState !== 'device') {
      this.log.warn({ slot: slot.key }, 'no phone to reboot after the task');
      return;
    }
    const deadlineMs = this.options.rebootDeadlineMs ?? 300_000;
    const reboot: RebootInProgress = {
      uptimeBefore: slot.uptimeSeconds,
      sawGone: false,
      timer: this.clock.setTimeout(() => {
        if (slot.reboot !== reboot) return;
        delete slot.reboot;
        slot.rebootFailure = `not back within ${deadlineMs / 1000} s of its reboot after a task`;
        this.update(slot);
      }, deadlineMs),
    };
    this.cancelReboot(slot);
    slot.reboot = reboot;
    this.update(slot);
    try {
      await this.options.io.reboot(serial, this.timeouts.commandMs);
    } catch (error) {
      this.log.warn({ slot: slot.key, serial, err: error }, 'reboot after task failed');
      // Never asked or never heard: the phone is what the next reading says it is.
      if (slot.reboot === reboot) this.cancelReboot(slot);
      this.update(slot);
      if (slot.adbState === 'device') this.refresh(slot);
    }
  }

  private cancelReboot(slot: SlotState): void {
    this.clock.clearTimeout(slot.reboot?.timer);
    delete slot.reboot;
  }

  // --- derived state and events ------------------------------------------

  /** Recomputes health and dimensions, then tells whoever cares about what changed. */
  private update(slot: SlotState): void {
    slot.health = this.evaluate(slot);
    slot.dimensions = this.dimensionsOf(slot);
    const shown = snapshot(slot);
    const fingerprint = JSON.stringify(shown, (key, value: unknown) =>
      UNCOMPARED.has(key) ? undefined : value,
    );
    if (fingerprint !== slot.emitted) {
      slot.emitted = fingerprint;
      this.updateMetrics(shown);
      for (const listener of [...this.slotListeners]) listener(shown);
    }
    this.persist();
    this.announceBots();
  }

  private evaluate(slot: SlotState): SlotHealth {
    const rebooting = slot.reboot !== undefined;
    const absentOnPurpose = absentOnPurposeOf(slot);
    const propsUnreadable = slot.readingErrors['props'];
    return evaluateSlotHealth(
      {
        ...(this.adbDown === undefined ? {} : { adbDown: this.adbDown }),
        // A phone we rebooted shows `offline` until it is back: it is away on purpose.
        adbState: rebooting && slot.adbState !== 'device' ? undefined : slot.adbState,
        // Until it has been seen to reboot, a boot_completed of 1 is the old boot's.
        bootCompleted: slot.bootCompleted && !rebooting,
        batteryPercent: slot.battery?.percent,
        maxTemperatureC: slot.temperatureC,
        lastDeviceTypes: slot.lastDimensions?.device_type ?? [],
        ...(absentOnPurpose === undefined ? {} : { absentOnPurpose }),
        asleep: slot.asleep,
        ...(slot.rebootFailure === undefined ? {} : { rebootFailure: slot.rebootFailure }),
        ...(propsUnreadable === undefined ? {} : { propsUnreadable }),
        taskRunning: slot.taskRunning,
        operator: slot.overrides,
      },
      slot.health,
      this.options.thresholds ?? DEFAULT_RECOVERY_THRESHOLDS,
    );
  }

  /**
   * The phone's dimensions while adb lists it and its properties are read,
   * or while it is away on purpose (an idle phone powered off must keep
   * matching its tasks: the next one wakes it); otherwise no device.
   */
  private dimensionsOf(slot: SlotState): DeviceDimensions {
    const phone =
      slot.adbState === undefined
        ? absentOnPurposeOf(slot) !== undefined
        : slot.props !== undefined;
    return phone && slot.lastDimensions !== undefined ? slot.lastDimensions : this.noDevice;
  }

  private updateMetrics(slot: Slot): void {
    const previous = this.statesShown.get(slot.name);
    if (previous !== undefined) this.stateGauge.remove({ slot: slot.name, state: previous });
    this.stateGauge.set({ slot: slot.name, state: slot.health.state }, 1);
    this.statesShown.set(slot.name, slot.health.state);
    setOrRemove(this.batteryGauge, slot.name, slot.battery?.percent);
    setOrRemove(this.temperatureGauge, slot.name, slot.temperatureC);
  }

  private persist(): void {
    const slots = [...this.slotsByKey.values()]
      .sort((a, b) => a.index - b.index)
      .flatMap(({ key, index, botId, lastDimensions }) =>
        lastDimensions === undefined ? [] : [{ key, index, botId, dimensions: lastDimensions }],
      );
    const text = JSON.stringify(slots);
    if (text === this.persisted) return;
    this.persisted = text;
    this.track(this.options.store.save(slots));
  }

  private announceBots(): void {
    const bots = this.bots();
    const text = JSON.stringify(bots);
    if (text === this.botsShown) return;
    this.botsShown = text;
    for (const listener of [...this.botListeners]) listener(bots);
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((err: unknown) => {
      this.log.error({ err }, 'slot work failed');
    });
    this.work.add(tracked);
    void tracked.finally(() => this.work.delete(tracked));
  }
}

/**
 * Fields that change without anything happening: the clock moves on every
 * listing and read, and props only change together with the dimensions.
 */
const UNCOMPARED = new Set(['lastSeen', 'uptimeSeconds', 'props']);

function without(record: Record<string, string>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !keys.includes(key)));
}

function absentOnPurposeOf(slot: SlotState): AbsentOnPurpose | undefined {
  if (slot.reboot !== undefined) return 'rebooting';
  return slot.poweredOff ? 'powered-off' : undefined;
}

function setOrRemove(gauge: Gauge<'slot'>, slot: string, value: number | undefined): void {
  if (value === undefined) gauge.remove({ slot });
  else gauge.set({ slot }, value);
}

function snapshot(slot: SlotState): Slot {
  const health = slot.health;
  if (health === undefined) throw new Error(`slot ${slot.key} was never evaluated`);
  const copy: Slot = {
    key: slot.key,
    name: slot.name,
    index: slot.index,
    botId: slot.botId,
    dimensions: copyDimensions(slot.dimensions),
    deviceTypes: [...(slot.lastDimensions?.device_type ?? [])],
    bootCompleted: slot.bootCompleted,
    readingErrors: { ...slot.readingErrors },
    health,
    overrides: { ...slot.overrides },
    taskRunning: slot.taskRunning,
  };
  const absentOnPurpose = absentOnPurposeOf(slot);
  if (slot.serial !== undefined) copy.serial = slot.serial;
  if (slot.adbState !== undefined) copy.adbState = slot.adbState;
  if (slot.props !== undefined) copy.props = slot.props;
  if (slot.battery !== undefined) copy.battery = slot.battery;
  if (slot.temperatureC !== undefined) copy.temperatureC = slot.temperatureC;
  if (slot.thermal !== undefined) copy.thermal = slot.thermal;
  if (slot.uptimeSeconds !== undefined) copy.uptimeSeconds = slot.uptimeSeconds;
  if (slot.lastSeen !== undefined) copy.lastSeen = slot.lastSeen;
  if (absentOnPurpose !== undefined) copy.absentOnPurpose = absentOnPurpose;
  return copy;
}

function copyDimensions(dimensions: DeviceDimensions): DeviceDimensions {
  return Object.fromEntries(
    Object.entries(dimensions).map(([key, values]) => [key, [...values]]),
  ) as DeviceDimensions;
}
