import { systemClock } from '@farm-agent/bot-config/lib';
import type { Clock } from '@farm-agent/bot-config/lib';
import type { CommandRunner } from '../../agent/src/power/commands.js';

/** Called when a port's power changes, to take the phone behind it out of adb or back. */
export type PowerListener = (hub: string, port: number, on: boolean) => void | Promise<void>;

export interface FakeHub {
  ports: number;
  /** How the hub switches power, from its descriptor. Default `ppps`. */
  switching?: 'ppps' | 'ganged' | 'nops';
  /** The hub's own vendor:product. Default `2109:2817` (a VIA USB 2 hub). */
  usbId?: string;
  /** Cuts data but keeps VBUS on a port switched off (uhubctl's README warns of such hubs). */
  keepsVbus?: boolean;
}

/** uhubctl's `MAX_HUB_PORTS`: port numbers outside 1..14 are a bad port spec. */
const MAX_HUB_PORTS = 14;
const WITH_VALUE = new Set(['-l', '-L', '-n', '-s', '-H', '-p', '-a', '-d', '-r', '-w', '-y']);
const FLAGS = new Set(['-f', '-N', '-S', '-e', '-R', '-v', '-h']);
const ACTIONS: Record<string, 'off' | 'on' | 'cycle' | 'toggle' | 'flash'> = {
  off: 'off',
  '0': 'off',
  on: 'on',
  '1': 'on',
  cycle: 'cycle',
  '2': 'cycle',
  toggle: 'toggle',
  '3': 'toggle',
  flash: 'flash',
  '4': 'flash',
};

/**
 * A strict stand-in for `uhubctl` 2.6 (mvp/uhubctl `uhubctl.c`) behind a
 * CommandRunner, failing the way execCommand reports a real run. As the real
 * one: hubs without per-port switching are hidden unless `-f`; an unknown
 * location is "No compatible devices detected"; a port beyond the hub's
 * count prints nothing (exit 0), beyond 14 is a "Bad port spec"; an unknown
 * action only shows status; an action on several hubs at once is refused; a
 * ganged hub switches all its ports together; a cycle is off, `-d` seconds
 * (default 2), on. One deliberate difference: it refuses an action without
 * `-p` (real uhubctl would switch every port of the hub, which the agent must
 * never ask for).
 */
export class FakeUhubctl {
  /** Every argv received, in order, including refused ones. */
  readonly calls: string[][] = [];
  /** Locations whose hub stopped answering: it is gone from the bus. */
  readonly broken = new Set<string>();
  /** Locations whose hub hangs: the run never ends, until its timeout kills it. */
  readonly hung = new Set<string>();
  /** Locations whose hub ignores power requests (uhubctl still exits 0). */
  readonly ignoring = new Set<string>();
  private readonly powered = new Map<string, boolean>();
  private readonly hubs: Record<string, Required<FakeHub>>;

  constructor(
    /** Hubs by location, e.g. `{ '1-1': 4 }` (4 per-port switched ports) or a FakeHub. */
    hubs: Record<string, number | FakeHub>,
    private readonly onPower: PowerListener = () => undefined,
    private readonly clock: Clock = systemClock,
  ) {
    this.hubs = Object.fromEntries(
      Object.entries(hubs).map(([location, hub]) => {
        const spec = typeof hub === 'number' ? { ports: hub } : hub;
        return [location, { switching: 'ppps', usbId: '2109:2817', keepsVbus: false, ...spec }];
      }),
    );
  }

  /** Whether the port's power is on, as uhubctl reports it. */
  isOn(hub: string, port: number): boolean {
    return this.powered.get(`${hub}:${port}`) ?? true;
  }

  /** Whether the phone on the port gets 5 V: on, or off on a hub that keeps VBUS. */
  vbus(hub: string, port: number): boolean {
    return this.isOn(hub, port) || this.hubs[hub]?.keepsVbus === true;
  }

  /** A port that was switched off before the test began (by an agent that ran before). */
  leftOff(hub: string, port: number): void {
    this.powered.set(`${hub}:${port}`, false);
  }

  readonly run: CommandRunner = async (file, args, timeoutMs) => {
    this.calls.push([...args]);
    const fail = (why: string, output = ''): Error =>
      new Error(`${[file, ...args].join(' ')} failed (${why})${output && `: ${output}`}`);
    if (file !== 'uhubctl') throw fail('ENOENT');
    const options = parseArgs(args, (message) => fail('1', message));
    const location = options.get('-l');
    const portSpec = options.get('-p');
    // `-p all` is uhubctl's default: every port.
    const ports =
      portSpec === undefined || portSpec.toLowerCase() === 'all'
        ? undefined
        : portsOf(portSpec, (m) => fail('1', m));
    const action = ACTIONS[options.get('-a')?.toLowerCase() ?? ''];
    if (action !== undefined && ports === undefined) {
      throw fail('1', 'the fake refuses to switch every port: pass -l and -p');
    }
    const found = Object.keys(this.hubs).filter(
      (at) =>
        (location === undefined || at === location) &&
        !this.broken.has(at) &&
        (options.has('-f') || this.hubs[at]?.switching === 'ppps'),
    );
    if (found.some((at) => this.hung.has(at))) {
      await new Promise((resolve) => this.clock.setTimeout(() => resolve(undefined), timeoutMs));
      throw fail(`no answer within ${timeoutMs} ms`);
    }
    if (found.length === 0) {
      const where = location === undefined ? '' : ` at location ${location}`;
      throw fail('1', `No compatible devices detected${where}!\nRun with -h to get usage info.`);
    }
    if (action !== undefined && found.length > 1) {
      throw fail(
        '1',
        'Error: changing port state for multiple hubs at once is not supported.\nUse -l to limit operation to one hub!',
      );
    }
    if (action === undefined) return found.map((at) => this.block('Current', at, ports)).join('');
    const at = found[0] ?? '';
    const phases: boolean[] =
      action === 'cycle' ? [false, true] : action === 'flash' ? [true, false] : [action === 'on'];
    let output = '';
    for (const [k, on] of phases.entries()) {
      output += this.block('Current', at, ports);
      await this.power(at, ports ?? [], action === 'toggle' ? undefined : on);
      output += `Sent power ${on ? 'on' : 'off'} request\n${this.block('New', at, ports)}`;
      if (k === 0 && phases.length === 2) {
        const delayS = Number(options.get('-d') ?? '2');
        await new Promise((resolve) =>
          this.clock.setTimeout(() => resolve(undefined), delayS * 1000),
        );
      }
    }
    return output;
  };

  /** Switches the ports (all of a ganged hub's); `on` undefined toggles. */
  private async power(at: string, ports: number[], on: boolean | undefined): Promise<void> {
    const hub = this.hubs[at];
    if (hub === undefined || this.ignoring.has(at)) return;
    const wanted = ports.filter((port) => port <= hub.ports);
    if (wanted.length === 0) return;
    const affected =
      hub.switching === 'ganged' ? Array.from({ length: hub.ports }, (_, i) => i + 1) : wanted;
    const next = on ?? !this.isOn(at, wanted[0] ?? 1);
    for (const port of affected) {
      const was = this.isOn(at, port);
      this.powered.set(`${at}:${port}`, next);
      if (was !== next) await this.onPower(at, port, next);
    }
  }

  private block(phase: 'Current' | 'New', at: string, ports: number[] | undefined): string {
    const hub = this.hubs[at];
    if (hub === undefined) return '';
    const description = `${hub.usbId} Fake USB2.0 Hub, USB 2.10, ${hub.ports} ports, ${hub.switching}`;
    let text = `${phase} status for hub ${at} [${description}]\n`;
    for (let port = 1; port <= hub.ports; port++) {
      if (ports !== undefined && !ports.includes(port)) continue;
      const bits = this.isOn(at, port)
        ? '0503 power highspeed enable connect [18d1:4ee7 Google Pixel]'
        : '0000 off';
      text += `  Port ${port}: ${bits}\n`;
    }
    return text;
  }
}

/** getopt as uhubctl calls it, for the short options it knows. */
function parseArgs(args: readonly string[], fail: (message: string) => Error): Map<string, string> {
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const flag = args[i] ?? '';
    if (FLAGS.has(flag)) {
      options.set(flag, '');
    } else if (WITH_VALUE.has(flag)) {
      const value = args[++i];
      if (value === undefined) {
        throw fail(
          `uhubctl: option requires an argument -- '${flag[1]}'\nRun with -h to get usage info.`,
        );
      }
      options.set(flag, value);
    } else if (flag.startsWith('-')) {
      throw fail(`uhubctl: invalid option -- '${flag.slice(1)}'\nRun with -h to get usage info.`);
    } else {
      throw fail('Invalid command line syntax!\nRun with -h to get usage info.');
    }
  }
  return options;
}

/** uhubctl's ports2bitmap: `3`, `1,3` or `1-4`, each from 1 to 14 (`atoi`, so junk is 0). */
function portsOf(spec: string, fail: (message: string) => Error): number[] {
  const ports: number[] = [];
  for (const part of spec.split(',')) {
    const [first = '', last] = part.split('-');
    const a = Number.parseInt(first, 10) || 0;
    const b = last === undefined ? a : Number.parseInt(last, 10) || 0;
    if (a > b) throw fail(`Bad port spec ${a}-${b}, first port must be less than last`);
    if (a <= 0 || b > MAX_HUB_PORTS) {
      throw fail(`Bad port spec ${a}-${b}, port numbers must be from 1 to ${MAX_HUB_PORTS}`);
    }
    for (let port = a; port <= b; port++) ports.push(port);
  }
  return ports;
}
