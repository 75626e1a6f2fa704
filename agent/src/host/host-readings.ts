/**
 * The host's kernel files, parsed: /proc/meminfo and the thermal zones of /sys/class/thermal.
 * Pure: host-facts.ts reads the files.
 */

export interface MemoryReading {
  totalBytes: number;
  /** MemAvailable; on kernels before 3.14, which lack it, MemFree + Buffers + Cached. */
  availableBytes: number;
}

/** /proc/meminfo (`MemTotal:  3884376 kB` lines); undefined without MemTotal. */
export function parseMemInfo(text: string): MemoryReading | undefined {
  const kB = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s+(\d+) kB$/.exec(line.trim());
    if (match) kB.set(match[1] as string, Number(match[2]));
  }
  const total = kB.get('MemTotal');
  if (total === undefined) return undefined;
  const available =
    kB.get('MemAvailable') ??
    (kB.get('MemFree') ?? 0) + (kB.get('Buffers') ?? 0) + (kB.get('Cached') ?? 0);
  return { totalBytes: total * 1024, availableBytes: available * 1024 };
}

export interface ThermalZone {
  /** The zone's `type`: `cpu-thermal` on a Pi, `x86_pkg_temp`, `acpitz`… */
  type: string;
  /** Its `temp` file: millidegrees Celsius. */
  milliCelsius: number;
}

/** The CPU's own zone (cpu-thermal, soc-thermal, x86_pkg_temp), else the first zone, in °C. */
export function cpuTemperatureOf(zones: readonly ThermalZone[]): number | undefined {
  const cpu = zones.find((z) => /cpu|soc|x86_pkg/i.test(z.type)) ?? zones[0];
  return cpu === undefined ? undefined : Math.round(cpu.milliCelsius / 100) / 10;
}
