import type { Config } from '../config/settings.js';
import { operatorHeaders } from './agent-client.js';
import { findSlot, type SlotSummary } from './devices.js';

interface BotStatus {
  botId: string;
  lastAnswered?: { get_dimensions?: { botOwn: unknown }; get_state?: { botOwn: unknown } };
}

export interface AgentStatusForDims {
  slots: (SlotSummary & { name?: string })[];
  swarming: { bots: BotStatus[] };
}

/**
 * What Swarming will receive for each bot, computed by the running agent's
 * own hook server from the bot's last own values: the same code path as the
 * bot's next poll, not a re-implementation.
 */
export async function swarmingView(
  config: Config,
  status: AgentStatusForDims,
  wanted: string | undefined,
): Promise<Record<string, unknown>> {
  const slots = wanted === undefined ? status.slots : [findSlot(status.slots, wanted)];
  if (slots.some((s) => s === undefined)) {
    const known = status.slots.map((s) => s.slot ?? s.botId).join(', ') || 'none';
    throw new Error(`no slot or bot "${wanted}" (known: ${known})`);
  }
  const out: Record<string, unknown> = {};
  for (const slot of slots as SlotSummary[]) {
    const last = status.swarming.bots.find((b) => b.botId === slot.botId)?.lastAnswered;
    out[slot.botId] = {
      dimensions: await askHook(config, 'get_dimensions', slot.botId, last?.get_dimensions?.botOwn),
      state: await askHook(config, 'get_state', slot.botId, last?.get_state?.botOwn),
      basedOn: last?.get_dimensions ? "the bot's last reported values" : 'no bot values yet ({})',
    };
  }
  return out;
}

async function askHook(
  config: Config,
  hook: 'get_dimensions' | 'get_state',
  botId: string,
  botOwn: unknown,
): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${config.hookPort}/${hook}`, {
    method: 'POST',
    // The operator may preview any bot's answers; the hooks refuse other callers.
    headers: {
      'content-type': 'application/json',
      'x-farm-bot-id': botId,
      ...(await operatorHeaders(config)),
    },
    body: JSON.stringify(botOwn ?? {}),
    signal: AbortSignal.timeout(10_000),
  });
  const body: unknown = await response.json();
  if (!response.ok)
    throw new Error(`/${hook} answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}
