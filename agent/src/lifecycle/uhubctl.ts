import type { UhubctlTarget } from '../devices/slot.js';
import type { CommandRunner } from './commands.js';

/** Switches one hub port with uhubctl; resolves with what uhubctl printed. */
export function switchPort(
  run: CommandRunner,
  target: UhubctlTarget,
  action: 'on' | 'off',
  timeoutMs: number,
): Promise<string> {
  return run('uhubctl', ['-l', target.hub, '-p', String(target.port), '-a', action], timeoutMs);
}

/**
 * Why switching this hub's ports cannot cut one phone's power, from the hub descriptor
 * uhubctl prints (`[2109:3431 USB2.0 Hub, USB 2.10, 4 ports, ppps]`): `ganged` hubs switch
 * VBUS only when every port is off, `nops` hubs cannot switch at all. Undefined for `ppps`.
 */
export function hubSwitchingProblem(output: string, hub: string): string | undefined {
  const descriptor = /\bports?, (ppps|ganged|nops)\]/.exec(output)?.[1];
  if (descriptor === 'ganged') return `hub ${hub} switches its ports' power together (ganged)`;
  if (descriptor === 'nops') return `hub ${hub} cannot switch port power (nops)`;
  return undefined;
}
