import type { CommandRunner } from '../../agent/src/lifecycle/commands.js';

/**
 * Called when what a port gives its phone changes: `data` (the phone is on the bus, so in adb)
 * and `vbus` (it gets power, so it charges).
 */
export type PowerListener = (
  hub: string,
  port: number,
  data: boolean,
  vbus: boolean,
) => void | Promise<void>;

/**
 * How a hub switches power, as uhubctl's hub descriptor says (`ppps`, `ganged`) or as it
 * does without saying: `vbus-kept` hubs report `ppps` and cut only data.
 *  - `ppps`: per-port power; off cuts data and VBUS.
 *  - `ganged`: a port switched off leaves the bus, but VBUS stays until every port is off
 *    (a Raspberry Pi 4's own ports).
 *  - `vbus-kept`: off cuts data only; the phone keeps charging.
 */
export type HubPower = 'ppps' | 'ganged' | 'vbus-kept';

export interface HubSpec {
  ports: number;
  power: HubPower;
}

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

  private readonly hubs: Record<string, HubSpec>;

  constructor(
    /** Ports per hub location (`{ '1-1': 4 }`: per-port power), or the hub's spec. */
    hubs: Record<string, number | HubSpec>,
    private readonly onPower: PowerListener = () => undefined,
  ) {
    this.hubs = Object.fromEntries(
      Object.entries(hubs).map(([hub, spec]) => [
        hub,
        typeof spec === 'number' ? { ports: spec, power: 'ppps' } : spec,
      ]),
    );
  }

  /** Whether the phone on the port gets VBUS now (it charges). */
  hasVbus(hub: string, port: number): boolean {
    const spec = this.hubs[hub];
    if (spec === undefined || spec.power === 'ppps') return this.isOn(hub, port);
    if (spec.power === 'vbus-kept') return true;
    return Array.from({ length: spec.ports }, (_, i) => this.isOn(hub, i + 1)).some(Boolean);
  }

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
    const spec = this.hubs[hub];
    if (spec === undefined || this.broken.has(hub)) {
      throw exit1(`No compatible devices detected at location ${hub}!`);
    }
    const port = Number(portText);
    if (!/^[1-9]\d*$/.test(portText) || port > spec.ports) {
      throw exit1(`No compatible devices detected at location ${hub} port ${portText}!`);
    }
    const was = this.isOn(hub, port);
    const descriptor = spec.power === 'ganged' ? 'ganged' : 'ppps';
    const show = (on: boolean, when?: string) => status(hub, port, on, descriptor, when);
    if (action === undefined) return show(was);
    if (action !== 'on' && action !== 'off') throw exit1('Error: invalid action');
    const on = action === 'on';
    const ports = Array.from({ length: spec.ports }, (_, i) => i + 1);
    const before = ports.map((p) => [this.isOn(hub, p), this.hasVbus(hub, p)]);
    this.powered.set(`${hub}:${port}`, on);
    for (const p of ports) {
      const [data, vbus] = [this.isOn(hub, p), this.hasVbus(hub, p)];
      const [dataBefore, vbusBefore] = before[p - 1] ?? [];
      if (data !== dataBefore || vbus !== vbusBefore) await this.onPower(hub, p, data, vbus);
    }
    return `${show(was, 'Current')}Sent power ${action} request\n${show(on, 'New')}`;
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

function status(
  hub: string,
  port: number,
  on: boolean,
  descriptor: string,
  when = 'Current',
): string {
  const bits = on ? '0503 power highspeed enable connect [18d1:4ee7 Google Pixel]' : '0000 off';
  return `${when} status for hub ${hub} [2109:3431 USB2.0 Hub, USB 2.10, 4 ports, ${descriptor}]\n  Port ${port}: ${bits}\n`;
}

function exit1(message: string): Error {
  return new Error(`uhubctl failed (1): ${message}`);
}
