import { POWER_SUPPLY_COMMAND } from './power-supply.js';
import { outputLines } from './result.js';

/**
 * The readings that come from the kernel and the property area, not from a service: the
 * uptime (`/proc/uptime`), the boot state (`getprop sys.boot_completed`, read from the
 * property area mapped into every process) and the battery files (sysfs, see
 * power-supply.ts). They are read in one shell session instead of three: each session is a
 * connection, a transport switch and a stream through the adb server, which is what a refresh
 * spends its CPU on. This is safe where it would not be for `dumpsys`: no command here waits
 * for another process (a `dumpsys` asks a system service over binder, which can hang), so this
 * session hangs only when the transport does, and then separate sessions would hang too.
 */

/** Printed between two sections; no section's own output can be this line. */
const MARK = ':farm-agent:';

export type KernelSection = 'uptime' | 'boot' | 'files';

const SECTIONS: readonly KernelSection[] = ['uptime', 'boot', 'files'];

/** The commands, in section order; `echo` prints the mark before each section after the first. */
export const KERNEL_READS_COMMAND = [
  'cat /proc/uptime',
  `echo ${MARK}boot`,
  'getprop sys.boot_completed',
  `echo ${MARK}files`,
  POWER_SUPPLY_COMMAND,
].join('; ');

/**
 * Each section's output, as its own command would have printed it. A section whose mark never
 * came (the output ended early, or is not this command's) is missing; text before the first
 * mark is the uptime's.
 */
export function splitKernelReads(text: string): Partial<Record<KernelSection, string>> {
  const sections: Partial<Record<KernelSection, string>> = {};
  let current: KernelSection = 'uptime';
  let lines: string[] = [];
  for (const line of outputLines(text)) {
    const next = line.startsWith(MARK) ? line.slice(MARK.length).trim() : undefined;
    const after: KernelSection | undefined = SECTIONS[SECTIONS.indexOf(current) + 1];
    if (next !== undefined && next === after) {
      sections[current] = lines.join('\n');
      current = after;
      lines = [];
    } else {
      lines.push(line);
    }
  }
  sections[current] = lines.join('\n');
  return sections;
}
