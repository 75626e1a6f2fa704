import type { DeviceFacts } from '@farm-agent/bot-config';
import type { OverrideSet } from '../operator/overrides.js';
import type { BotSpec } from '../swarming/swarming-host.js';

/**
 * What the composition root needs from the device side, whichever backend:
 * the facts the hooks read, the bots to run, and a picture for /status.
 */
export interface DeviceBackend {
  readonly facts: DeviceFacts;
  /** One Swarming bot per slot (or one for the host when there are no phones). */
  bots(): BotSpec[];
  onBotsChanged(listener: () => void): () => void;
  /** JSON-ready description of every slot, for /status and the CLI. */
  describe(): unknown[];
  /** Backend facts for /status (e.g. the adb server). */
  info(): Record<string, unknown>;
  /** Slot names, for operator commands; a slot is named by key, name or bot id. */
  slotNames(): string[];
  resolveSlot(wanted: string): string | undefined;
  /** Applies the operator overrides now, and to every slot that appears later. */
  applyOverrides(forSlot: (slotName: string) => OverrideSet): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}
