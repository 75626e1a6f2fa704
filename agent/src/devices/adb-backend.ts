import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { systemClock } from '@farm-agent/bot-config/lib';
import { BatteryMetrics } from '../battery/battery-metrics.js';
import type { Config } from '../config/settings.js';
import type { OverrideSet } from '../operator/overrides.js';
import type { BotSpec } from '../swarming/swarming-host.js';
import { AdbDeviceIO } from './adb/adb-io.js';
import { AdbServerProcess } from './adb/adb-server.js';
import { reconnectTcp } from './adb/tcp-devices.js';
import { AdbTracker } from './adb/tracker.js';
import type { DeviceBackend } from './backend.js';
import { SlotBotDevices } from './slot-bot-devices.js';
import { SlotManager } from './slot-manager.js';
import type { Slot } from './slot-state.js';
import { describeSlot, type SlotStatus } from './slot-status.js';
import { SlotStore } from './slot-store.js';
import { resolveSlotRef } from './slot-ref.js';

/** `adb connect` of a phone that never answers blocks for 10 s; do not wait longer. */
const TCP_CONNECT_TIMEOUT_MS = 12_000;

/**
 * `FARM_DEVICES=adb`: the supervised adb server, the device tracker, and the
 * slots built on them. Each slot runs its own bot with ANDROID_SERIAL set.
 */
export class AdbBackend implements DeviceBackend {
  readonly botDevices: SlotBotDevices;
  readonly manager: SlotManager;
  readonly io: AdbDeviceIO;
  private readonly server: AdbServerProcess;
  private readonly tracker: AdbTracker;
  private overridesFor: (slotName: string) => OverrideSet = () => ({});

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    const port = config.adbPort;
    this.server = new AdbServerProcess({
      port,
      listen: config.adbListen,
      bin: config.adbBin,
      external: config.adbExternal,
      logger: logger.child({ component: 'adb-server' }),
      registry,
      onReady: () => {
        // Track the new server now, not at the end of the tracker's backoff.
        this.tracker.reconnectNow();
        // A restarted server forgets network phones: connect them again.
        void this.connectTcpDevices();
      },
    });
    this.tracker = new AdbTracker({
      port,
      logger: logger.child({ component: 'adb-tracker' }),
      registry,
    });
    this.io = new AdbDeviceIO({ port });
    this.manager = new SlotManager({
      io: this.io,
      presence: this.tracker,
      store: new SlotStore({ stateDir: config.stateDir, logger }),
      node: config.nodeName,
      botIdPattern: config.botIdPattern,
      // The image creates /.dockerenv, as the Swarming bot itself checks.
      insideDocker: existsSync('/.dockerenv'),
      logger: logger.child({ component: 'slots' }),
      registry,
      refreshIntervalMs: config.deviceRefresh,
      rebootAfterTask: config.rebootAfterTask,
      thresholds: {
        minBatteryPercent: config.batteryMin,
        resumeBatteryPercent: config.batteryResume,
        maxTemperatureC: config.temperatureMax,
        resumeTemperatureC: config.temperatureResume,
      },
      wear: {
        hotChargingC: config.batteryHotCharging,
        capacityMinPercent: config.batteryCapacityMin,
      },
    });
    this.botDevices = new SlotBotDevices(this.manager);
    const batteryMetrics = new BatteryMetrics(
      registry,
      { lowPercent: config.chargeBandLow, highPercent: config.chargeBandHigh },
      systemClock,
    );
    this.manager.onSlotChanged((slot) => batteryMetrics.observe(slot));
    // A slot that appears (or reappears) gets the overrides already in force.
    this.manager.onSlotChanged((slot) => this.syncOverrides(slot));
  }

  info(): Record<string, unknown> {
    const { adbPort, adbExternal } = this.config;
    return {
      devices: 'adb',
      adbServer: { port: adbPort, external: adbExternal, pid: this.server.pid },
    };
  }

  slotNames(): string[] {
    return this.manager.slots().map((s) => s.name);
  }

  resolveSlot(wanted: string): string | undefined {
    return resolveSlotRef(this.manager.slots(), wanted, (s) => s)?.name;
  }

  applyOverrides(forSlot: (slotName: string) => OverrideSet): void {
    this.overridesFor = forSlot;
    for (const slot of this.manager.slots()) this.syncOverrides(slot);
  }

  private syncOverrides(slot: Slot): void {
    const wanted = this.overridesFor(slot.name);
    const current = slot.overrides;
    if (wanted.maintenance !== current.maintenance || wanted.quarantine !== current.quarantine) {
      this.manager.setOverride(slot.key, wanted);
    }
  }

  bots(): BotSpec[] {
    return this.botDevices.bots().map((bot): BotSpec => ({
      botId: bot.botId,
      env: bot.serial ? { ANDROID_SERIAL: bot.serial } : {},
    }));
  }

  onBotsChanged(listener: () => void): () => void {
    return this.botDevices.onBotsChanged(listener);
  }

  statusSlots(): SlotStatus[] {
    return this.manager.slots().map(describeSlot);
  }

  async start(): Promise<void> {
    this.server.start();
    this.tracker.start();
    await this.manager.start();
    if (this.config.adbExternal) await this.connectTcpDevices();
  }

  async stop(): Promise<void> {
    await this.manager.stop();
    await this.tracker.stop();
    await this.server.stop();
  }

  private async connectTcpDevices(): Promise<void> {
    const serials = this.config.adbTcpDevices;
    if (serials.length === 0) return;
    const results = await reconnectTcp(
      { port: this.config.adbPort },
      serials,
      TCP_CONNECT_TIMEOUT_MS,
    );
    for (const { serial, error } of results) {
      if (error) this.logger.warn({ serial, error }, 'adb connect failed; adb retries by itself');
      else this.logger.info({ serial }, 'adb connected network phone');
    }
  }
}
