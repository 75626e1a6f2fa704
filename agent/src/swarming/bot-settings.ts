import { diskFreeMinBytes, type HostThresholds } from '../host/host-maintenance.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Skia's isolated cache cap; also the most any one bot's cache gets on a big disk. */
export const MAX_ISOLATED_CACHE_BYTES = 8 * GiB;
/**
 * run_isolated trims the caches to keep the bot's floor plus this much free, so a task's
 * downloads stop short of the floor instead of quarantining the bot; upstream's default.
 */
export const FREE_SPACE_WIGGLE_BYTES = 250 * MiB;

/**
 * One `free_partition` rule of the bot's settings. The bot's own floor for a partition of
 * `size_mb` is the lowest non-zero of `size` and `max_percent` of it, but at least
 * `min_percent` of it.
 */
export interface FreePartitionRule {
  size: number;
  max_percent: number;
  min_percent: number;
}

/**
 * The agent's floor, `diskFreeMinBytes`, as a rule the bot applies itself: `size` is the byte
 * floor, `max_percent` 0 leaves `size` as the only cap (a 0 overrides the bot's default of
 * 15 % when it deep-merges our settings), and `min_percent` raises it to the percentage floor.
 * So the bot quarantines itself at exactly the free space where the agent puts it into
 * maintenance, instead of at its default ~4 GiB, which on a 32 GB card is most of the space.
 */
export function freePartitionRule(thresholds: HostThresholds): FreePartitionRule {
  return {
    size: thresholds.diskFreeMinBytes,
    max_percent: 0,
    min_percent: thresholds.diskFreeMinPercent,
  };
}

/**
 * Cap of each bot's isolated (CAS) cache: half of what lies above the floor on the state
 * filesystem, at most 8 GiB. Half, because the phones' bots share the card and each keeps its
 * own cache; whatever the caps add up to, run_isolated evicts to keep the floor plus the wiggle
 * free. Without a disk reading yet, 8 GiB.
 */
export function isolatedCacheBytes(
  thresholds: HostThresholds,
  totalBytes: number | undefined,
): number {
  if (totalBytes === undefined) return MAX_ISOLATED_CACHE_BYTES;
  const aboveFloor = Math.max(0, totalBytes - diskFreeMinBytes(totalBytes, thresholds));
  return Math.min(MAX_ISOLATED_CACHE_BYTES, Math.floor(aboveFloor / 2));
}

/**
 * What `get_settings` answers: the bot deep-merges it into its defaults. Derived from the same
 * FARM_HOST_DISK_MIN_PERCENT / FARM_HOST_DISK_MIN_FREE as the agent's own disk floor, for the
 * root partition and the bot's own (the same filesystem in the pod, or the state hostPath).
 */
export function botSettings(
  thresholds: HostThresholds,
  totalBytes: number | undefined,
): Record<string, unknown> {
  const rule = freePartitionRule(thresholds);
  return {
    free_partition: { root: rule, bot: { ...rule, wiggle: FREE_SPACE_WIGGLE_BYTES } },
    caches: { isolated: { size: isolatedCacheBytes(thresholds, totalBytes) } },
  };
}
