/**
 * The answers to the bot's get_state and get_dimensions: its own values
 * merged with what the device side and the supervisor hold against it.
 */
import type { Logger } from 'pino';
import { errorMessage } from './lib/async.js';
import { TimeoutGroup } from './lib/timeout-group.js';
import type { BotDeviceView, BotDevices, Dimensions } from './bot-devices.js';
import { MAX_VALUE_LENGTH, mergeDimensions } from './dimensions.js';
import { joinReasons, mergeState } from './state.js';

/**
 * How long get_state/get_dimensions wait for the device view. Shorter than the
 * shim's own 5 s timeout so the bot gets our reason rather than a bare timeout,
 * and a wedged device layer cannot pile up one pending request per poll.
 */
const VIEW_TIMEOUT_MS = 4000;

export interface HookExchange {
  hook: 'get_state' | 'get_dimensions';
  botId: string;
  botOwn: Record<string, unknown>;
  answer: Record<string, unknown>;
}

export interface BotAnswersOptions {
  devices: Pick<BotDevices, 'view'>;
  /** A reason the supervisor holds against the bot itself (e.g. a crash loop), if any. */
  botQuarantine: (botId: string) => string | undefined;
  /** FARM_POOL: when set, replaces the bot's own `pool`; undefined keeps the bot's. */
  pool?: string;
  /** Every answer, with the bot's own values it was built from. */
  onAnswered?: (exchange: HookExchange) => void;
  logger: Logger;
}

export class BotAnswers {
  /** Last drop reasons per bot, so a persistent bad dimension is logged once, not every poll. */
  private readonly lastDropped = new Map<string, string>();
  /** One timer for every view read, not one per hook call. */
  private readonly viewDeadline = new TimeoutGroup(VIEW_TIMEOUT_MS);

  constructor(private readonly options: BotAnswersOptions) {}

  async state(botId: string, own: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { view, quarantined } = await this.readView(botId);
    const answer = mergeState(own, { quarantined, maintenance: view?.maintenance });
    this.options.onAnswered?.({ hook: 'get_state', botId, botOwn: own, answer });
    return answer;
  }

  async dimensions(botId: string, own: Dimensions): Promise<Dimensions> {
    const { view, quarantined } = await this.readView(botId);
    const agentOwned: Dimensions = { ...view?.dimensions };
    if (quarantined) {
      // The full reason travels in the state; the dimension only has to be
      // a valid, truthy value, so ours is shortened rather than dropped.
      agentOwned['quarantined'] = [
        ...(agentOwned['quarantined'] ?? []),
        clip(quarantined, MAX_VALUE_LENGTH),
      ];
    }
    const merged = mergeDimensions(own, agentOwned, { botId, pool: this.options.pool });
    const dropped = merged.dropped.join('\n');
    if (dropped !== (this.lastDropped.get(botId) ?? '')) {
      if (dropped) {
        this.options.logger.warn(
          { botId, dropped: merged.dropped },
          'dimensions Swarming would reject',
        );
      }
      this.lastDropped.set(botId, dropped);
    }
    this.options.onAnswered?.({
      hook: 'get_dimensions',
      botId,
      botOwn: own,
      answer: merged.dimensions,
    });
    return merged.dimensions;
  }

  /** The device view and every quarantine reason; a view that cannot be read is one. */
  private async readView(botId: string): Promise<{ view?: BotDeviceView; quarantined?: string }> {
    const supervisor = this.options.botQuarantine(botId);
    try {
      const view = await this.viewDeadline.within(this.options.devices.view(botId));
      return { view, quarantined: joinReasons(supervisor, view.quarantined) };
    } catch (err) {
      this.options.logger.warn({ botId, err }, 'cannot read the device view');
      const reason = `farm-agent cannot read devices: ${errorMessage(err)}`;
      return { quarantined: joinReasons(supervisor, reason) };
    }
  }
}

/** At most `max` characters (code points, as Swarming counts them), marked when cut. */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
