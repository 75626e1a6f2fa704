import type { HookExchange } from '@farm-agent/bot-config';

/** What Swarming last received from one bot's hooks, by hook. */
export type LastExchanges = Partial<Record<HookExchange['hook'], HookExchange & { at: string }>>;

type Recorded = Partial<Record<HookExchange['hook'], { exchange: HookExchange; at: number }>>;

/**
 * Remembers each bot's last answered exchange per hook, for `/status`. Recording is on every
 * get_state/get_dimensions call, so it keeps the exchange and the time as they are: no copy
 * and no date text until `/status` is read.
 */
export class ExchangeLog {
  private readonly byBot = new Map<string, Recorded>();

  /** `at`: ms since the epoch. */
  record(exchange: HookExchange, at: number = Date.now()): void {
    let last = this.byBot.get(exchange.botId);
    if (last === undefined) this.byBot.set(exchange.botId, (last = {}));
    last[exchange.hook] = { exchange, at };
  }

  of(botId: string): LastExchanges {
    const out: LastExchanges = {};
    for (const [hook, { exchange, at }] of Object.entries(this.byBot.get(botId) ?? {})) {
      out[hook as HookExchange['hook']] = { ...exchange, at: new Date(at).toISOString() };
    }
    return out;
  }
}

/**
 * What each part reports, read at request time. The parts' own shapes pass
 * through untouched: `/status` is their union, documented in the README.
 */
export interface StatusParts {
  node: string;
  uptimeSeconds: number;
  /** Parts that do not run, with why (devices, swarming, cluster). */
  disabled: Readonly<Record<string, string>>;
  swarming: {
    server: string | undefined;
    pool: string | undefined;
    drain: Record<string, unknown>;
    /** Undefined when no Swarming bot is run. */
    bots: { botId: string }[] | undefined;
    exchanges: ExchangeLog;
  };
  host: unknown;
  /** Undefined without phones. */
  lifecycle: unknown;
  /** Undefined when standalone; the reason is then in `disabled.cluster`. */
  cluster: unknown;
  devices: Record<string, unknown>;
  slots: unknown[];
}

/** The `/status` document. */
export function statusDocument(parts: StatusParts): Record<string, unknown> {
  const { swarming } = parts;
  return {
    node: parts.node,
    uptimeSeconds: parts.uptimeSeconds,
    disabled: parts.disabled,
    swarming: {
      enabled: swarming.bots !== undefined,
      server: swarming.server ?? null,
      pool: swarming.pool ?? null,
      ...swarming.drain,
      bots: (swarming.bots ?? []).map((bot) => ({
        ...bot,
        lastAnswered: swarming.exchanges.of(bot.botId),
      })),
    },
    host: parts.host,
    lifecycle: parts.lifecycle ?? null,
    cluster: parts.cluster ?? { reachable: false, reason: parts.disabled.cluster },
    devices: parts.devices,
    slots: parts.slots,
  };
}
