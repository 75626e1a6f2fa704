import { describe, expect, it } from 'vitest';
import { cannotSwitchAlone, lastBlockOf, parseUhubctl } from './uhubctl-output.js';

// Output as uhubctl.c prints it (printf formats of print_port_status and main).
const SWITCHED_OFF = `Current status for hub 1-1.4 [2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps]
  Port 3: 0503 power highspeed enable connect [18d1:4ee7 Google Pixel 7 28021FDH2005GM]
Sent power off request
New status for hub 1-1.4 [2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps]
  Port 3: 0000 off
`;
const USB3_DUAL = `Current status for hub 2-1.4 [2109:0817 VIA Labs, Inc. USB3.0 Hub, USB 3.00, 4 ports, ppps]
  Port 3: 02a0 power 5gbps Rx.Detect
Current status for hub 1-1.4 [2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps]
  Port 3: 0100 power
`;

describe('parseUhubctl', () => {
  it('reads each hub block and its port lines; the last block is the state after the run', () => {
    const blocks = parseUhubctl(SWITCHED_OFF);
    expect(blocks.map((b) => [b.phase, b.location, b.usbId, b.switching])).toEqual([
      ['Current', '1-1.4', '2109:2817', 'ppps'],
      ['New', '1-1.4', '2109:2817', 'ppps'],
    ]);
    expect(blocks[0]?.ports.get(3)).toEqual({ status: '0503', powered: true, connected: true });
    expect(lastBlockOf(blocks, '1-1.4')?.ports.get(3)).toEqual({
      status: '0000',
      powered: false,
      connected: false,
    });
  });

  it('keeps a USB 3 hub and its USB 2 twin apart; a device description never counts as bits', () => {
    const blocks = parseUhubctl(USB3_DUAL);
    expect(lastBlockOf(blocks, '1-1.4')?.ports.get(3)).toMatchObject({ powered: true });
    expect(lastBlockOf(blocks, '2-1.4')?.ports.get(3)).toMatchObject({ powered: true });
    const tricky = parseUhubctl(
      'Current status for hub 1 [1d6b:0002 Linux Foundation 2.0 root hub, USB 2.00, 1 ports, ppps]\n  Port 1: 0000 off [0000:0000 power connect]\n',
    );
    expect(tricky[0]?.ports.get(1)).toMatchObject({ powered: false, connected: false });
  });
});

describe('cannotSwitchAlone', () => {
  const block = (line: string, port = '  Port 2: 0503 power highspeed enable connect') => {
    const parsed = parseUhubctl(`Current status for hub ${line}\n${port}\n`)[0];
    if (parsed === undefined) throw new Error(`not a hub line: ${line}`);
    return parsed;
  };
  const EXTERNAL = block('1-1.4 [2109:2817 VIA Labs USB2.0 Hub, USB 2.10, 4 ports, ppps]');

  it('allows a per-port switched hub, on a Pi or elsewhere', () => {
    expect(cannotSwitchAlone(EXTERNAL, 2, 'Raspberry Pi 4 Model B Rev 1.4')).toBeUndefined();
    expect(cannotSwitchAlone(EXTERNAL, 2, 'LENOVO ThinkCentre')).toBeUndefined();
  });

  it.each([
    [
      '1-1 [0424:2514 USB2.0 Hub, USB 2.00, 4 ports, ganged]',
      'Raspberry Pi 3 Model B Plus',
      'switches all its ports together (ganged)',
    ],
    ['1-1 [05e3:0608 USB2.0 Hub, USB 2.00, 4 ports, nops]', 'PC', "cannot switch its ports' power"],
    // uhubctl overrides the Pi 4's VL805 to ppps; the README says its 4 ports are ganged.
    [
      '1-1 [2109:3431 USB2.0 Hub, USB 2.10, 4 ports, ppps]',
      'Raspberry Pi 4 Model B Rev 1.4',
      'own USB',
    ],
    // The Pi 5's root hubs all advertise per-port switching; all 4 ports are one group.
    [
      '3 [1d6b:0002 Linux Foundation 2.0 root hub, USB 2.00, 2 ports, ppps]',
      'Raspberry Pi 5 Model B Rev 1.0',
      'own USB',
    ],
    // Model not read yet: a root hub counts as the Pi's own.
    ['1 [1d6b:0002 Linux Foundation 2.0 root hub, USB 2.00, 2 ports, ppps]', undefined, 'own USB'],
  ])('refuses %s (%s)', (line, model, why) => {
    expect(cannotSwitchAlone(block(line), 2, model)).toContain(why);
  });

  it('refuses a port the hub does not have (uhubctl prints no line for it, exit 0)', () => {
    expect(cannotSwitchAlone(EXTERNAL, 7, 'Raspberry Pi 4 Model B Rev 1.4')).toContain(
      'has no port 7',
    );
  });

  it('does not take a VIA hub plugged into a Pi 5 for a Pi 4 onboard hub', () => {
    const via = block('1-1 [2109:3431 USB2.0 Hub, USB 2.10, 4 ports, ppps]');
    expect(cannotSwitchAlone(via, 2, 'Raspberry Pi 5 Model B Rev 1.0')).toBeUndefined();
  });
});
