import { describe, expect, it } from 'vitest';
import { defaultState, runShellCommand } from '../../../test/rigs/fake-adbd/shell.js';
import type { PhoneState } from '../../../test/rigs/fake-adbd/shell.js';
import { readDevicePath, readProps, readVitals } from './interrogate.js';
import { KERNEL_READS_COMMAND } from './parse/kernel-reads.js';
import { ManualClock } from '../../../test/rigs/manual-clock.js';
import { ScriptedDevices } from '../../../test/rigs/scripted-devices.js';

const TIMEOUTS = { commandMs: 1_000, getpropMs: 2_000 };

function phone(state: PhoneState = defaultState()) {
  const clock = new ManualClock();
  const devices = new ScriptedDevices(clock);
  const scripted = devices.attach('R58N', {
    devicePath: 'usb:1-1.3',
    answer: (command) => {
      const result = runShellCommand(state, command);
      if (result.kind === 'hang') throw new Error('the rig hangs; script hangs in the double');
      return result.text;
    },
  });
  return { clock, devices, scripted, state };
}

describe('readVitals', () => {
  it('reads every vital of a healthy phone', async () => {
    const { devices } = phone();
    const vitals = await readVitals(devices, 'R58N', TIMEOUTS);
    expect(vitals.battery.ok && vitals.battery.value.percent).toBe(85);
    expect(vitals.thermal.ok && vitals.thermal.value.readings.map((r) => r.name)).toEqual([
      'CPU0',
      'GPU',
      'battery',
      'skin',
    ]);
    expect(vitals.uptimeSeconds).toEqual({ ok: true, value: 12345.67 });
    expect(vitals.bootCompleted).toEqual({ ok: true, value: true });
  });

  it('loses only the hung reading, at its own timeout', async () => {
    const { clock, devices, scripted } = phone();
    scripted.hang.add('dumpsys battery');
    let done = false;
    const pending = readVitals(devices, 'R58N', TIMEOUTS).finally(() => (done = true));
    await clock.advance(999);
    expect(done).toBe(false);
    await clock.advance(1);
    const vitals = await pending;
    expect(vitals.battery).toEqual({
      ok: false,
      reason: 'battery unreadable: R58N: shell "dumpsys battery": no answer within 1000 ms',
    });
    expect(vitals.thermal.ok).toBe(true);
    expect(vitals.uptimeSeconds).toEqual({ ok: true, value: 12345.67 });
    expect(vitals.bootCompleted).toEqual({ ok: true, value: true });
  });

  it('names the reading whose output does not parse', async () => {
    const { devices, scripted, state } = phone();
    state.bootCompleted = false;
    // The uptime denied, dumpsys printing nothing.
    scripted.answer = (command) => {
      if (command.startsWith('dumpsys')) return '';
      const result = runShellCommand(state, command.replace('/proc/uptime', '/proc/uptime.x'));
      return result.kind === 'output' ? result.text : '';
    };
    const vitals = await readVitals(devices, 'R58N', TIMEOUTS);
    expect(vitals.uptimeSeconds).toEqual({
      ok: false,
      reason:
        'uptime unreadable: not /proc/uptime: "cat: /proc/uptime.x: No such file or directory"',
    });
    expect(vitals.battery).toEqual({
      ok: false,
      reason: 'battery unreadable: not a dumpsys battery dump: empty output',
    });
    // An empty boot_completed is a phone still booting, not a failure.
    expect(vitals.bootCompleted).toEqual({ ok: true, value: false });
    expect(vitals.powerSupply.ok).toBe(true);
  });

  it('reads uptime, boot state and battery files in one session, beside the two dumpsys', async () => {
    const { devices } = phone();
    await readVitals(devices, 'R58N', TIMEOUTS);
    expect(devices.calls.sort()).toEqual(
      ['dumpsys battery', 'dumpsys thermalservice', KERNEL_READS_COMMAND]
        .map((c) => `R58N ${c}`)
        .sort(),
    );
  });

  it('fails only the readings whose section the shared session did not print', async () => {
    const { devices, scripted, state } = phone();
    // The output stops after the boot state: the battery files are missing, nothing else.
    scripted.answer = (command) => {
      const result = runShellCommand(state, command);
      const text = result.kind === 'output' ? result.text : '';
      return command === KERNEL_READS_COMMAND
        ? text.slice(0, text.indexOf(':farm-agent:files'))
        : text;
    };
    const vitals = await readVitals(devices, 'R58N', TIMEOUTS);
    expect(vitals.powerSupply).toEqual({
      ok: false,
      reason: 'battery files unreadable: no files section in the output',
    });
    expect(vitals.uptimeSeconds).toEqual({ ok: true, value: 12345.67 });
    expect(vitals.bootCompleted).toEqual({ ok: true, value: true });
    expect(vitals.battery.ok).toBe(true);
  });

  it.each([
    ['unauthorized', 'battery unreadable: device unauthorized'],
    ['offline', 'battery unreadable: device offline'],
  ])('reports every reading of an %s phone as failed, with adb’s reason', async (type, reason) => {
    const { devices } = phone();
    devices.setType('R58N', type);
    const vitals = await readVitals(devices, 'R58N', TIMEOUTS);
    expect(vitals.battery).toEqual({ ok: false, reason });
    expect(Object.values(vitals).every((reading) => !reading.ok)).toBe(true);
  });
});

describe('readProps and readDevicePath', () => {
  it('read the properties and the USB path', async () => {
    const { devices } = phone();
    const props = await readProps(devices, 'R58N', TIMEOUTS);
    expect(props.ok && props.value.props.get('ro.product.device')).toBe('x1s');
    expect(await readDevicePath(devices, 'R58N', TIMEOUTS)).toEqual({
      ok: true,
      value: 'usb:1-1.3',
    });
  });

  it('give getprop its longer timeout', async () => {
    const { clock, devices, scripted } = phone();
    scripted.hang.add('getprop');
    const pending = readProps(devices, 'R58N', TIMEOUTS);
    await clock.advance(2_000);
    expect(await pending).toEqual({
      ok: false,
      reason: 'properties unreadable: R58N: shell "getprop": no answer within 2000 ms',
    });
  });

  it('report an unknown serial as adb does', async () => {
    const { devices } = phone();
    expect(await readDevicePath(devices, 'gone', TIMEOUTS)).toEqual({
      ok: false,
      reason: "device path unreadable: device 'gone' not found",
    });
  });
});
