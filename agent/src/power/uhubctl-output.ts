/**
 * What uhubctl (2.5–2.6, `mvp/uhubctl`) prints, read back. Every run prints
 * one block per hub it acts on:
 *
 *   Current status for hub 1-1 [2109:3431 VIA Labs USB2.0 Hub, USB 2.10, 4 ports, ppps]
 *     Port 3: 0503 power highspeed enable connect [18d1:4ee7 Google Pixel 7 28021FDH2005GM]
 *   Sent power off request
 *   New status for hub 1-1 [...]
 *     Port 3: 0000 off
 *
 * uhubctl exits 0 even when the hub ignored the request, prints no line for a
 * port the hub does not have, and treats an action it does not know as "show
 * status": only the port's line in the last block says what happened.
 */

/** How a hub switches its ports' power (`wHubCharacteristics`), as uhubctl names it. */
export type PowerSwitching = 'ppps' | 'ganged' | 'nops';

export interface HubBlock {
  /** `Current` before an action, `New` after it. */
  phase: 'Current' | 'New';
  /** `1-1`, or the bus number for a root hub. */
  location: string;
  /** `2109:3431`: vendor and product of the hub itself. */
  usbId: string;
  description: string;
  /** Undefined when uhubctl could not read the hub descriptor. */
  switching?: PowerSwitching;
  ports: Map<number, PortLine>;
}

export interface PortLine {
  /** The status word in hex, as printed. */
  status: string;
  /** The port has power (the `power` bit), as the hub reports it. */
  powered: boolean;
  /** A device answers on the port (`connect`). */
  connected: boolean;
}

const HUB_LINE = /^(Current|New) status for hub (\S+) \[([0-9a-f]{4}:[0-9a-f]{4})(.*)\]$/i;
const PORT_LINE = /^\s+Port (\d+): ([0-9a-f]{4})(.*)$/i;
const SWITCHING = /, (ppps|ganged|nops)$/;

/** Every hub block of one uhubctl run, in the order printed. */
export function parseUhubctl(output: string): HubBlock[] {
  const blocks: HubBlock[] = [];
  for (const line of output.split('\n')) {
    const hub = HUB_LINE.exec(line);
    if (hub !== null) {
      const [, phase = '', location = '', usbId = '', rest = ''] = hub;
      const switching = SWITCHING.exec(rest)?.[1] as PowerSwitching | undefined;
      blocks.push({
        phase: phase as HubBlock['phase'],
        location,
        usbId: usbId.toLowerCase(),
        description: `${usbId}${rest}`,
        ...(switching === undefined ? {} : { switching }),
        ports: new Map(),
      });
      continue;
    }
    const port = PORT_LINE.exec(line);
    const block = blocks.at(-1);
    if (port === null || block === undefined) continue;
    const [, number = '', status = '', words = ''] = port;
    // The device's own description follows in brackets; only the words before it are bits.
    const bits = words.replace(/\[.*$/, '').trim().split(/\s+/);
    block.ports.set(Number(number), {
      status,
      powered: bits.includes('power'),
      connected: bits.includes('connect'),
    });
  }
  return blocks;
}

/** The last block printed for the hub: its state after the run. */
export function lastBlockOf(blocks: readonly HubBlock[], location: string): HubBlock | undefined {
  return blocks.filter((block) => block.location === location).at(-1);
}

/**
 * A Raspberry Pi's own hubs: its root hubs (Linux Foundation `1d6b:*`, locations
 * `1`, `2`...) and, on a Pi 4, the VL805 hub at `1-1` behind the root port. An
 * unknown model counts as a Pi: cutting a phone must never cut its neighbours.
 */
function isPiOnboardHub(block: HubBlock, machineModel: string | undefined): boolean {
  const model = machineModel ?? 'Raspberry Pi (model unknown)';
  if (!model.startsWith('Raspberry Pi')) return false;
  if (block.usbId.startsWith('1d6b:') && !block.location.includes('-')) return true;
  const pi4 = machineModel === undefined || model.startsWith('Raspberry Pi 4');
  return pi4 && block.usbId === '2109:3431' && block.location === '1-1';
}

/**
 * Why one port of this hub cannot be switched on its own, or undefined when it
 * can. Ganged and non-switching hubs say so in their descriptor. A Raspberry
 * Pi's own hubs claim per-port switching but cut all four ports together
 * (uhubctl's README: Pi 4B "4 ports ganged", Pi 5 "all 4 ports are ganged
 * together"): cutting one phone there would cut every phone on the Pi.
 */
export function cannotSwitchAlone(
  block: HubBlock,
  port: number,
  machineModel: string | undefined,
): string | undefined {
  const hub = `hub ${block.location} [${block.description}]`;
  if (!block.ports.has(port)) return `${hub} has no port ${port}`;
  if (block.switching === 'ganged') {
    return `${hub} switches all its ports together (ganged): cutting port ${port} would cut every phone on it`;
  }
  if (block.switching !== 'ppps') return `${hub} cannot switch its ports' power`;
  if (isPiOnboardHub(block, machineModel)) {
    return `${hub} is the ${machineModel ?? 'computer'}'s own USB: a Raspberry Pi switches those ports all together, whatever the hub reports`;
  }
  return undefined;
}
