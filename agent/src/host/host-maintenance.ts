import type { Config } from '../config/settings.js';
import type { HostFacts } from './host-facts.js';

export interface HostThresholds {
  /** Above this SoC temperature (°C) the host goes into maintenance. */
  temperatureMaxC: number;
  /** ...and leaves it only once below this one, so a Pi hovering at the limit does not flap. */
  temperatureResumeC: number;
  /** Maintenance when less than this share of the state filesystem is free... */
  diskFreeMinPercent: number;
  /** ...or less than this many bytes, whichever is larger. */
  diskFreeMinBytes: number;
}

const MiB = 1024 * 1024;

/**
 * 80 °C is where a Pi 4/5 firmware starts soft-throttling the ARM cores (85 °C is the hard
 * limit), so tasks timed on a throttled Pi would be misleading; 5 °C of hysteresis is about
 * what a throttled, idle Pi sheds in a minute or two.
 *
 * Disk: 5 % scales with the card (1.6 GB of a 32 GB SD card), but on a small card 5 % is less
 * than one bot's working set (the bot zip, isolated cache entries, task outputs and logs run to
 * hundreds of MB), hence the 500 MiB floor; the larger of the two wins so neither a small card
 * nor a big disk is let run dry. Note the kubelet evicts pods on its own `nodefs.available`
 * threshold (10 % upstream): where the state directory shares the node's root filesystem,
 * operators should set this above their kubelet's so slots stop before the pod is evicted.
 */
export const DEFAULT_HOST_THRESHOLDS: HostThresholds = {
  temperatureMaxC: 80,
  temperatureResumeC: 75,
  diskFreeMinPercent: 5,
  diskFreeMinBytes: 500 * MiB,
};

/** The thresholds FARM_HOST_TEMPERATURE_* and FARM_HOST_DISK_* set. */
export function hostThresholds(config: Config): HostThresholds {
  return {
    temperatureMaxC: config.hostTemperatureMax,
    temperatureResumeC: config.hostTemperatureResume,
    diskFreeMinPercent: config.hostDiskMinPercent,
    diskFreeMinBytes: config.hostDiskMinFree,
  };
}

/** The verdict, and the state the next call needs for its hysteresis. */
export interface HostMaintenance {
  hot: boolean;
  diskLow: boolean;
  /** Why every slot should be in maintenance; undefined when the host is fine. */
  reason: string | undefined;
}

export const HOST_OK: HostMaintenance = { hot: false, diskLow: false, reason: undefined };

function formatBytes(bytes: number): string {
  return bytes >= 1024 * MiB
    ? `${(bytes / (1024 * MiB)).toFixed(1)} GiB`
    : `${Math.round(bytes / MiB)} MiB`;
}

/** The free-space floor for a filesystem of `totalBytes`. */
export function diskFreeMinBytes(totalBytes: number, thresholds: HostThresholds): number {
  return Math.max((totalBytes * thresholds.diskFreeMinPercent) / 100, thresholds.diskFreeMinBytes);
}

/**
 * Pure rule: whether the host is too hot or its disk nearly full, given the previous verdict.
 * A fact that could not be read keeps the previous state: one failed probe neither starts nor
 * ends maintenance.
 */
export function hostMaintenanceReason(
  facts: HostFacts,
  thresholds: HostThresholds,
  previous: HostMaintenance,
): HostMaintenance {
  const temperature = facts.temperatureC;
  const hot =
    temperature === undefined
      ? previous.hot
      : previous.hot
        ? temperature >= thresholds.temperatureResumeC
        : temperature > thresholds.temperatureMaxC;
  const disk = facts.disk;
  const minFree = disk && diskFreeMinBytes(disk.totalBytes, thresholds);
  const diskLow =
    disk === undefined || minFree === undefined ? previous.diskLow : disk.freeBytes < minFree;

  const reasons: string[] = [];
  if (hot) {
    const reading = temperature === undefined ? 'unreadable' : `${temperature.toFixed(1)} °C`;
    reasons.push(
      `host too hot: SoC ${reading} (limit ${thresholds.temperatureMaxC} °C, resumes below ${thresholds.temperatureResumeC} °C)`,
    );
  }
  if (diskLow) {
    reasons.push(
      disk === undefined || minFree === undefined
        ? 'host disk nearly full: free space unreadable since it was low'
        : `host disk nearly full: ${formatBytes(disk.freeBytes)} free of ${formatBytes(disk.totalBytes)} on ${disk.path} (minimum ${formatBytes(minFree)})`,
    );
  }
  return { hot, diskLow, reason: reasons.length > 0 ? reasons.join('; ') : undefined };
}
