import type { DeviceFacts } from '@farm-agent/bot-config';
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
  start(): Promise<void>;
  stop(): Promise<void>;
}
