import type { CommandRunner } from '../../agent/src/lifecycle/commands.js';

/** Called when a port's power changes, to take the phone behind it out of adb or back. */
export type PowerListener = (hub: string, port: number, on: boolean) => void | Promise<void>;

/**
 * A strict stand-in for `uhubctl` 2.5 behind a CommandRunner: a few hubs
 * with numbered ports, all powered at start. It fails the way uhubctl does
 * (exit 1 with its message) on an unknown option, an unknown location or an
 * action it does not know, and it refuses calls without `-l` or `-p`: real
 * uhubctl would then switch every port of every hub, which the agent must
 * never ask for.
 */
export class FakeUhubctl {
  /** Every argv received, in order, including refused ones. */
  readonly calls: string[][] = [];
  /** Locations whose hub stops answering: the call fails as a hub that vanished would. */
  readonly broken = new Set<string>();
  private readonly powered = new Map<string, boolean>();

  constructor(
    /** Ports per hub location, e.g. `{ '1-1': 4 }`. */
    private readonly hubs: Record<string, number>,
    private readonly onPower: PowerListener = () => undefined,
  ) {}

  /** Whether the port has power now. */
  isOn(hub: string, port: number): boolean {
    return this.powered.get(`${hub}:${port}`) ?? true;
  }

  /** A port that was switched off before the test began (by an agent that ran before). */
  leftOff(hub: string, port: number): void {
    this.powered.set(`${hub}:${port}`, false);
  }

  readonly run: CommandRunner = async (file, args) => {
    this.calls.push([...args]);
    if (file !== 'uhubctl') throw new Error(`spawn ${file} ENOENT`);
    const options = parseArgs(args);
    const hub = options.get('-l');
    const portText = options.get('-p');
    const action = options.get('-a');
    if (hub === undefined || portText === undefined) {
      throw exit1('the fake refuses to switch every port: pass -l and -p');
    }
    const ports = this.hubs[hub];
    if (ports === undefined || this.broken.has(hub)) {
      throw exit1(`No compatible devices detected at location ${hub}!`);
    }
    const port = Number(portText);
    if (!/^[1-9]\d*$/.test(portText) || port > ports) {
      throw exit1(`No compatible devices detected at location ${hub} port ${portText}!`);
    }
    const was = this.isOn(hub, port);
    if (action === undefined) return status(hub, port, was);
    if (action !== 'on' && action !== 'off') throw exit1('Error: invalid action');
    const on = action === 'on';
    this.powered.set(`${hub}:${port}`, on);
    if (was !== on) await this.onPower(hub, port, on);
    return `${status(hub, port, was, 'Current')}Sent power ${action} request\n${status(hub, port, on, 'New')}`;
  };
}

function parseArgs(args: readonly string[]): Map<string, string> {
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] ?? '';
    const value = args[i + 1];
    if (!['-l', '-p', '-a'].includes(flag) || options.has(flag)) {
      throw exit1(`uhubctl: invalid option -- '${flag.replace(/^-/, '')}'`);
    }
    if (value === undefined) throw exit1(`uhubctl: option requires an argument -- '${flag[1]}'`);
    options.set(flag, value);
  }
  return options;
}

function status(hub: string, port: number, on: boolean, when = 'Current'): string {
  const bits = on ? '0503 power highspeed enable connect [18d1:4ee7 Google Pixel]' : '0000 off';
  return `${when} status for hub ${hub} [2109:3431 USB2.0 Hub, USB 2.10, 4 ports, ppps]\n  Port ${port}: ${bits}\n`;
}

function exit1(message: string): Error {
  return new Error(`uhubctl failed (1): ${message}`);
}
