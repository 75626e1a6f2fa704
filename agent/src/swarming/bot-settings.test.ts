import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HOST_THRESHOLDS,
  diskFreeMinBytes,
  hostMaintenanceReason,
  HOST_OK,
  type HostThresholds,
} from '../host/host-maintenance.js';
import { botSettings, MAX_ISOLATED_CACHE_BYTES, type FreePartitionRule } from './bot-settings.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** What a "32 GB" SD card offers: 32·10⁹ bytes, about 29.8 GiB. */
const CARD_32GB = 32e9;

/**
 * The Swarming bot's documented free-space rule (bot_main `_min_free_disk`), restated: the
 * lowest non-zero of `size` and `max_percent` of the partition, raised to `min_percent` of it.
 */
function botFloor(partitionBytes: number, rule: FreePartitionRule): number {
  const bySize = rule.size;
  const byMax = Math.round((partitionBytes * rule.max_percent) / 100);
  const lowest = bySize && byMax ? Math.min(bySize, byMax) : bySize || byMax;
  return Math.max(lowest, Math.round((partitionBytes * rule.min_percent) / 100));
}

/** The bot's defaults for its own partition, which apply when get_settings says nothing. */
const BOT_DEFAULT_RULE: FreePartitionRule = {
  size: 4 * GiB,
  max_percent: 15,
  min_percent: 7,
};

/** The bot deep-merges get_settings into its defaults: given keys win, others stay. */
function mergedRule(settings: Record<string, unknown>, key: 'root' | 'bot'): FreePartitionRule {
  const given = (settings['free_partition'] as Record<string, Partial<FreePartitionRule>>)[key];
  return { ...BOT_DEFAULT_RULE, ...given };
}

describe('botSettings', () => {
  it('lets the bot run on a 32 GB card with 3 GiB free, where its defaults quarantine it', () => {
    const settings = botSettings(DEFAULT_HOST_THRESHOLDS, CARD_32GB);
    const free = 3 * GiB;
    // The agent's own verdict: above its floor (5 % = 1.6 GB), no maintenance.
    const agent = hostMaintenanceReason(
      { readAt: 0, errors: {}, disk: { path: '/var/lib', freeBytes: free, totalBytes: CARD_32GB } },
      DEFAULT_HOST_THRESHOLDS,
      HOST_OK,
    );
    expect(agent.diskLow).toBe(false);
    // The bot with our settings agrees for both partitions it checks...
    for (const key of ['root', 'bot'] as const) {
      expect(free).toBeGreaterThanOrEqual(botFloor(CARD_32GB, mergedRule(settings, key)));
    }
    // ...while its defaults would have wanted 4 GiB free and quarantined it.
    expect(botFloor(CARD_32GB, BOT_DEFAULT_RULE)).toBe(4 * GiB);
    expect(free).toBeLessThan(botFloor(CARD_32GB, BOT_DEFAULT_RULE));
  });

  it.each([
    ['8 GB card, default thresholds', 8e9, DEFAULT_HOST_THRESHOLDS],
    ['32 GB card, default thresholds', CARD_32GB, DEFAULT_HOST_THRESHOLDS],
    ['1 TB disk, default thresholds', 1e12, DEFAULT_HOST_THRESHOLDS],
    [
      '32 GB card, 10 % / 2 GiB',
      CARD_32GB,
      { ...DEFAULT_HOST_THRESHOLDS, diskFreeMinPercent: 10, diskFreeMinBytes: 2 * GiB },
    ],
    [
      '8 GB card, 5 % / 2 GiB (above the bot default 15 %)',
      8e9,
      { ...DEFAULT_HOST_THRESHOLDS, diskFreeMinBytes: 2 * GiB },
    ],
    [
      '64 GB card, 1 % / 3 GiB',
      64e9,
      { ...DEFAULT_HOST_THRESHOLDS, diskFreeMinPercent: 1, diskFreeMinBytes: 3 * GiB },
    ],
  ] as [string, number, HostThresholds][])(
    'the bot quarantines where the agent goes into maintenance: %s',
    (_name, total, thresholds) => {
      const settings = botSettings(thresholds, total);
      for (const key of ['root', 'bot'] as const) {
        // Within a byte: the bot rounds its percentages to whole bytes.
        expect(
          Math.abs(
            botFloor(total, mergedRule(settings, key)) - diskFreeMinBytes(total, thresholds),
          ),
        ).toBeLessThanOrEqual(1);
      }
    },
  );

  it('caps each bot cache at half the space above the floor, at most 8 GiB', () => {
    const cache = (total: number | undefined): unknown =>
      (botSettings(DEFAULT_HOST_THRESHOLDS, total)['caches'] as { isolated: { size: number } })
        .isolated.size;
    expect(cache(CARD_32GB)).toBe(MAX_ISOLATED_CACHE_BYTES);
    // 8 GB card: floor 500 MiB (5 % is only 400 MB).
    expect(cache(8e9)).toBe(Math.floor((8e9 - 500 * MiB) / 2));
    // A card smaller than the floor leaves nothing to cache.
    expect(cache(400 * MiB)).toBe(0);
    expect(cache(undefined)).toBe(MAX_ISOLATED_CACHE_BYTES);
  });

  it('keeps the upstream wiggle on the bot partition only', () => {
    const settings = botSettings(DEFAULT_HOST_THRESHOLDS, CARD_32GB);
    expect(settings['free_partition']).toEqual({
      root: { size: 500 * MiB, max_percent: 0, min_percent: 5 },
      bot: { size: 500 * MiB, max_percent: 0, min_percent: 5, wiggle: 250 * MiB },
    });
  });
});
