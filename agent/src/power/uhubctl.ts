import type { UhubctlTarget } from '../devices/slot.js';
import type { CommandRunner } from './commands.js';
import { cannotSwitchAlone, lastBlockOf, parseUhubctl } from './uhubctl-output.js';

export type PowerAction = 'on' | 'off' | 'cycle';

/** What a status run says of one port. */
export interface PortProbe {
  /** Why the port cannot be switched without touching others; undefined when it can. */
  cannotSwitchAlone: string | undefined;
  /** The port has power, as the hub reports it; undefined when it printed no line for it. */
  powered?: boolean;
}

export interface UhubctlOptions {
  run: CommandRunner;
  /** Bound on one on/off run; a cycle gets its off time on top. */
  timeoutMs: number;
  /** `Raspberry Pi 4 Model B Rev 1.4` (undefined until known): its own hubs lie about per-port switching. */
  machineModel?: (() => string | undefined) | undefined;
}

/**
 * uhubctl for one port at a time: every run names the hub and the port (never
 * "all hubs", which uhubctl would switch), is bounded in time, and is checked
 * against the port's line in uhubctl's own "New status" (uhubctl exits 0 even
 * when the hub ignored the request).
 */
export class Uhubctl {
  constructor(private readonly options: UhubctlOptions) {}

  /**
   * Undefined when the port can be switched without touching any other port;
   * otherwise why not. `-f` lists ganged hubs too (without it uhubctl hides them
   * behind "No compatible devices"), so the answer names the real cause.
   */
  async cannotSwitchAlone(target: UhubctlTarget): Promise<string | undefined> {
    return (await this.probe(target)).cannotSwitchAlone;
  }

  /**
   * One status run for the port (`-f`, no action): whether it can be switched
   * alone, and whether it has power now (undefined when uhubctl printed no line for it).
   */
  async probe(target: UhubctlTarget): Promise<PortProbe> {
    const output = await this.run(['-f', ...where(target)], this.options.timeoutMs);
    const block = lastBlockOf(parseUhubctl(output), target.hub);
    if (block === undefined) return { cannotSwitchAlone: `uhubctl did not list hub ${target.hub}` };
    const powered = block.ports.get(target.port)?.powered;
    return {
      cannotSwitchAlone: cannotSwitchAlone(block, target.port, this.options.machineModel?.()),
      ...(powered === undefined ? {} : { powered }),
    };
  }

  /** Switches the port and checks that it ended as asked; `cycle` ends powered. */
  async switch(target: UhubctlTarget, action: PowerAction, offMs = 0): Promise<void> {
    const args = [...where(target), '-a', action];
    // uhubctl takes the off time of a cycle in seconds (`-d`, default 2).
    if (action === 'cycle') args.push('-d', String(offMs / 1000));
    const output = await this.run(args, this.options.timeoutMs + offMs);
    const port = lastBlockOf(parseUhubctl(output), target.hub)?.ports.get(target.port);
    const label = `hub ${target.hub} port ${target.port}`;
    if (port === undefined) throw new Error(`uhubctl printed no status for ${label}: ${output}`);
    const wanted = action !== 'off';
    if (port.powered !== wanted) {
      throw new Error(
        `${label} is still ${port.powered ? 'on' : 'off'} after uhubctl -a ${action}`,
      );
    }
  }

  private run(args: string[], timeoutMs: number): Promise<string> {
    return this.options.run('uhubctl', args, timeoutMs);
  }
}

function where(target: UhubctlTarget): string[] {
  return ['-l', target.hub, '-p', String(target.port)];
}
