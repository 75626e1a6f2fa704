import type { Logger } from 'pino';
import type { Config } from '../config/settings.js';
import type { OverrideSet } from '../operator/overrides.js';
import type { AdbServerProcess } from './adb/adb-server.js';
import { reconnectTcp } from './adb/tcp-devices.js';
import type { AdbTracker } from './adb/tracker.js';
import type { BotSpec, DeviceBackend } from './backend.js';
import type { SlotBotDevices } from './slot-bot-devices.js';
import type { SlotManager } from './slot-manager.js';
import type { Slot } from './slot-state.js';
import { describeSlot, type SlotStatus } from './slot-status.js';
import { resolveSlotRef } from './slot-ref.js';

/** `adb connect` of a phone that never answers blocks for 10 s; do not wait longer. */
const TCP_CONNECT_TIMEOUT_MS = 12_000;

/** The parts the adb backend runs, built by the composition root. */
export interface AdbBackendParts {
  config: Pick<Config, 'adbPort' | 'adbExternal' | 'adbTcpDevices'>;
  logger: Logger;
  server: AdbServerProcess;
  tracker: AdbTracker;
  manager: SlotManager;
  botDevices: SlotBotDevices;
}

/**
 * `FARM_DEVICES=adb`: the supervised adb server, the device tracker, and the
 * slots built on them. Each slot runs its own bot with ANDROID_SERIAL set.
 */
export class AdbBackend implements DeviceBackend {
  readonly botDevices: SlotBotDevices;
  private readonly config: AdbBackendParts['config'];
  private readonly logger: Logger;
  private readonly server: AdbServerProcess;
  private readonly tracker: AdbTracker;
  private readonly manager: SlotManager;
  private overridesFor: (slotName: string) => OverrideSet = () => ({});

  constructor(parts: AdbBackendParts) {
    ({
      config: this.config,
      logger: this.logger,
      server: this.server,
      tracker: this.tracker,
      manager: this.manager,
      botDevices: this.botDevices,
    } = parts);
    // A slot that appears (or reappears) gets the overrides already in force.
    this.manager.onSlotChanged((slot) => this.syncOverrides(slot));
  }

  /** The adb server (re)started: wire it up to the slots again. */
  serverReady(): void {
    // Track the new server now, not at the end of the tracker's backoff.
    this.tracker.reconnectNow();
    // A restarted server forgets network phones: connect them again.
    void this.connectTcpDevices();
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
