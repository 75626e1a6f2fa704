import type { OverrideSet } from '../operator/overrides.js';
import type { BotSpec, DeviceBackend } from './backend.js';
import { resolveSlotRef } from './slot-ref.js';
import { type BotActivity, InMemoryBotDevices } from './in-memory-bot-devices.js';

/** Operator commands name the host's one slot like this. */
const HOST_SLOT = 'host';

/**
 * `FARM_DEVICES=none`: no phones. The host itself is the one device behind
 * one bot, ready unless an operator says otherwise, with no device dimensions.
 */
export class HostBackend implements DeviceBackend {
  readonly botDevices = new InMemoryBotDevices();

  constructor(private readonly botId: string) {
    this.applyOverrides(() => ({}));
  }

  info(): Record<string, unknown> {
    return { devices: 'none' };
  }

  slotNames(): string[] {
    return [HOST_SLOT];
  }

  resolveSlot(wanted: string): string | undefined {
    const slot = { key: HOST_SLOT, name: HOST_SLOT, botId: this.botId, index: 0 };
    return resolveSlotRef([slot], wanted, (s) => s)?.name;
  }

  applyOverrides(forSlot: (slotName: string) => OverrideSet): void {
    const { maintenance, quarantine } = forSlot(HOST_SLOT);
    this.botDevices.set(this.botId, {
      dimensions: {},
      ready: maintenance === undefined && quarantine === undefined,
      ...(maintenance === undefined ? {} : { maintenance }),
      ...(quarantine === undefined ? {} : { quarantined: quarantine }),
    });
  }

  bots(): BotSpec[] {
    return [{ botId: this.botId, env: {} }];
  }

  onBotsChanged(): () => void {
    return () => undefined;
  }

  statusSlots(): BotActivity[] {
    return this.botDevices.activity();
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
