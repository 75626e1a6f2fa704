import type { BotDevices } from '@farm-agent/bot-config';
import type { BotActivity } from './in-memory-bot-devices.js';
import type { SlotStatus } from './slot-status.js';
import type { OverrideSet } from '../operator/overrides.js';

/** One bot the host should run, with what its environment adds (e.g. ANDROID_SERIAL). */
export interface BotSpec {
  botId: string;
  env: Record<string, string>;
}

/**
 * What the composition root needs from the device side, whichever backend:
 * the devices behind the bots (what the hooks read), the bots to run, and a picture for /status.
 */
export interface DeviceBackend {
  readonly botDevices: BotDevices;
  /** One Swarming bot per slot (or one for the host when there are no phones). */
  bots(): BotSpec[];
  onBotsChanged(listener: () => void): () => void;
  /** Every slot as /status and the CLI show it: a phone slot, or the host's one bot. */
  statusSlots(): SlotStatus[] | BotActivity[];
  /** Backend facts for /status (e.g. the adb server). */
  info(): Record<string, unknown>;
  /** Slot names, for operator commands; a slot is named by key, name, bot id or index. */
  slotNames(): string[];
  resolveSlot(wanted: string): string | undefined;
  /** Applies the operator overrides now, and to every slot that appears later. */
  applyOverrides(forSlot: (slotName: string) => OverrideSet): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}
