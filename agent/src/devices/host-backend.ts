import type { BotSpec } from '../swarming/swarming-host.js';
import type { DeviceBackend } from './backend.js';
import { InMemoryDeviceFacts } from './in-memory-facts.js';

/**
 * `FARM_DEVICES=none`: no phones. The host itself is the one device behind
 * one bot, always ready, with no device dimensions.
 */
export class HostBackend implements DeviceBackend {
  readonly facts = new InMemoryDeviceFacts();

  constructor(private readonly botId: string) {
    this.facts.set(botId, { dimensions: {}, ready: true });
  }

  bots(): BotSpec[] {
    return [{ botId: this.botId, env: {} }];
  }

  onBotsChanged(): () => void {
    return () => undefined;
  }

  describe(): unknown[] {
    return this.facts.activity();
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
