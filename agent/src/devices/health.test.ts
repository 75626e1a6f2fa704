import { describe, expect, it } from 'vitest';
import { recoveryThresholdsProblem } from '../config/recovery-thresholds.js';
import { DEFAULT_RECOVERY_THRESHOLDS, evaluateSlotHealth } from './health.js';
import type { HealthState, SlotHealth, SlotObservation } from './health.js';
import { ACTION } from '../../../test/rigs/health-texts.js';

/** A booted, cool, charged phone in a slot that has held a sargo. */
const healthy: SlotObservation = {
  adbState: 'device',
  bootCompleted: true,
  batteryPercent: 80,
  maxTemperatureC: 30,
  lastDeviceTypes: ['sargo'],
  asleep: false,
  taskRunning: false,
  operator: {},
};

const evaluate = (change: Partial<SlotObservation>, previous?: SlotHealth) =>
  evaluateSlotHealth({ ...healthy, ...change }, previous);

/** The verdict without the texts for people, which have tests of their own below. */
const verdict = (change: Partial<SlotObservation>, previous?: SlotHealth) => {
  const { diagnosis, explanation, suggestedAction, ...rest } = evaluate(change, previous);
  if (rest.state !== 'ready') {
    // Every state but ready explains itself.
    expect([diagnosis, explanation, suggestedAction].every((text) => text !== '')).toBe(true);
    expect(diagnosis).toBeDefined();
  }
  return rest;
};

/** Feeds each observation the previous health, as the agent's poll loop does. */
function walk(changes: Partial<SlotObservation>[]): SlotHealth[] {
  const out: SlotHealth[] = [];
  for (const change of changes) out.push(evaluate(change, out.at(-1)));
  return out;
}

const transitions = (states: HealthState[]) =>
  states.filter((state, i) => i > 0 && state !== states[i - 1]).length;

describe('evaluateSlotHealth: each state and what Swarming sees', () => {
  it.each<[string, Partial<SlotObservation>, SlotHealth]>([
    ['ready', {}, { state: 'ready', swarming: { ready: true } }],
    [
      'busy',
      { taskRunning: true },
      { state: 'busy', reason: 'Running a task', swarming: { ready: false } },
    ],
    [
      'booting',
      { bootCompleted: false },
      {
        state: 'booting',
        reason: 'Device booting',
        swarming: { maintenance: `Device booting. ${ACTION.waitBoot}`, ready: false },
      },
    ],
    [
      'rebooting on purpose',
      { adbState: undefined, absentOnPurpose: 'rebooting' },
      {
        state: 'booting',
        reason: 'Device rebooting',
        swarming: { maintenance: `Device rebooting. ${ACTION.waitBoot}`, ready: false },
      },
    ],
    [
      'asleep',
      { adbState: undefined, absentOnPurpose: 'powered-off' },
      {
        state: 'asleep',
        reason: 'Powered off while idle; the next task wakes it',
        swarming: { ready: false },
      },
    ],
    [
      'missing',
      { adbState: undefined },
      {
        state: 'missing',
        reason: 'Device "sargo" has gone missing',
        swarming: {
          quarantined: `Device "sargo" has gone missing. ${ACTION.checkGone}`,
          ready: false,
        },
      },
    ],
    [
      'empty',
      { adbState: undefined, lastDeviceTypes: [] },
      {
        state: 'empty',
        reason: 'No device in this slot',
        swarming: {
          maintenance: `No device in this slot. ${ACTION.plugPhone}`,
          ready: false,
        },
      },
    ],
    [
      'unauthorized',
      { adbState: 'unauthorized' },
      {
        state: 'unauthorized',
        reason: 'Device unauthorized: accept the RSA key on the phone',
        swarming: {
          quarantined: `Device unauthorized: accept the RSA key on the phone. ${ACTION.acceptKey}`,
          ready: false,
        },
      },
    ],
    [
      'offline',
      { adbState: 'offline' },
      {
        state: 'offline',
        reason: 'Device offline',
        swarming: {
          quarantined: `Device offline. ${ACTION.waitOffline}`,
          ready: false,
        },
      },
    ],
    [
      'recovering',
      { batteryPercent: 22 },
      {
        state: 'recovering',
        reason: 'Recovering: battery 22% < 30%',
        recovery: 'battery 22% < 30%',
        swarming: {
          maintenance: `Recovering: battery 22% < 30%. ${ACTION.waitRecovering}`,
          ready: false,
        },
      },
    ],
    [
      'adb down',
      { adbDown: 'adb server unreachable: connect ECONNREFUSED 127.0.0.1:5037' },
      {
        state: 'adb-down',
        reason: 'adb server unreachable: connect ECONNREFUSED 127.0.0.1:5037',
        swarming: {
          maintenance: `adb server unreachable: connect ECONNREFUSED 127.0.0.1:5037. ${ACTION.waitAdb}`,
          ready: false,
        },
      },
    ],
    [
      'operator maintenance',
      { operator: { maintenance: 'swapping the cable' } },
      {
        state: 'maintenance',
        reason: 'swapping the cable',
        swarming: { maintenance: 'swapping the cable', ready: false },
      },
    ],
    [
      'operator quarantine',
      { operator: { quarantine: 'screen cracked' } },
      {
        state: 'quarantined',
        reason: 'screen cracked',
        swarming: { quarantined: 'screen cracked', ready: false },
      },
    ],
  ])('%s', (_, change, expected) => {
    expect(verdict(change)).toStrictEqual(expected);
  });

  it('ends every text the agent decided with what to do; the reason stays its first sentence', () => {
    const observations: Partial<SlotObservation>[] = [
      { bootCompleted: false },
      { adbState: undefined },
      { adbState: undefined, usb: { present: false } },
      { adbState: undefined, lastDeviceTypes: [] },
      { adbState: 'unauthorized' },
      { adbState: 'offline' },
      { adbState: 'recovery' },
      { adbState: 'connecting', rebootFailure: 'not back' },
      { batteryPercent: 22 },
      { batteryWorn: 'battery health Dead' },
      { propsUnreadable: 'properties unreadable: timeout' },
      { adbDown: 'adb server unreachable' },
      {
        recovery: {
          kind: 'failed',
          diagnosis: 'offline',
          explanation: 'tried x',
          suggestedAction: 'Replug.',
        },
      },
    ];
    for (const change of observations) {
      const health = evaluate(change);
      const text = health.swarming.quarantined ?? health.swarming.maintenance;
      expect(text).toBe(`${health.reason}. ${health.suggestedAction}`);
      // Shown in Swarming's bot list: a few sentences, never a page.
      expect(text?.length).toBeLessThanOrEqual(400);
    }
  });

  it('quarantines a phone the ladder gave up on with what was tried, then what to do', () => {
    const health = evaluate({
      adbState: 'offline',
      recovery: {
        kind: 'failed',
        diagnosis: 'adb lists it offline',
        explanation: 'tried adb reconnect offline (not back within 60 s)',
        suggestedAction: 'Replug the phone.',
      },
    });
    expect(health.reason).toBe(
      'adb lists it offline: tried adb reconnect offline (not back within 60 s)',
    );
    expect(health.swarming).toEqual({
      quarantined:
        'adb lists it offline: tried adb reconnect offline (not back within 60 s). Replug the phone.',
      ready: false,
    });
  });

  it('names why a known phone is missing, then what to do about it', () => {
    expect(evaluate({ adbState: undefined, usb: { present: false } }).swarming).toEqual({
      quarantined: `Device "sargo" has gone missing: not on USB (cable, hub or power). ${ACTION.notOnUsb}`,
      ready: false,
    });
  });

  it('gives an operator override with an empty reason a text Swarming treats as set', () => {
    expect(evaluate({ operator: { quarantine: '' } }).swarming.quarantined).toBe(
      'Quarantined by an operator',
    );
    expect(evaluate({ operator: { maintenance: '' } }).swarming.maintenance).toBe(
      'In maintenance by an operator',
    );
  });
});

describe('evaluateSlotHealth: adb states', () => {
  it.each<[string | undefined, HealthState, string | undefined]>([
    ['device', 'ready', undefined],
    [' device\r', 'ready', undefined],
    [undefined, 'missing', 'Device "sargo" has gone missing'],
    ['', 'missing', 'Device "sargo" has gone missing'],
    ['unauthorized', 'unauthorized', 'Device unauthorized: accept the RSA key on the phone'],
    ['authorizing', 'booting', 'Device connecting to adb (authorizing)'],
    ['connecting', 'booting', 'Device connecting to adb (connecting)'],
    ['offline', 'offline', 'Device offline'],
    [
      'no permissions (user in plugdev group; are your udev rules wrong?); see [http://developer.android.com/tools/device.html]',
      'offline',
      'adb may not open the USB device: check the udev rules and that the pod is privileged',
    ],
    ['recovery', 'offline', 'Device in recovery mode'],
    ['sideload', 'offline', 'Device in sideload mode'],
    ['rescue', 'offline', 'Device in rescue mode'],
    ['bootloader', 'offline', 'Device in bootloader mode'],
    ['host', 'offline', 'Device in unknown adb state "host"'],
    ['some-future-state', 'offline', 'Device in unknown adb state "some-future-state"'],
  ])('%j -> %s', (adbState, state, reason) => {
    const health = evaluate({ adbState });
    expect(health.state).toBe(state);
    expect(health.reason).toBe(reason);
  });
});

describe('evaluateSlotHealth: precedence', () => {
  // Everything wrong at once; removing the winning cause each time must
  // reveal the next state in the documented order.
  const steps: [HealthState, Partial<SlotObservation>][] = [
    ['quarantined', { operator: { quarantine: 'q', maintenance: 'm' } }],
    ['maintenance', { operator: { maintenance: 'm' }, adbDown: 'adb server unreachable' }],
    ['adb-down', { operator: {} }],
    ['missing', { adbDown: undefined }],
    ['recovering', { adbState: 'device', batteryPercent: 10, maxTemperatureC: 40 }],
    ['booting', { batteryPercent: 80, maxTemperatureC: 30, bootCompleted: false }],
    ['recovering', { bootCompleted: true }],
    ['asleep', { propsUnreadable: undefined }],
    ['busy', { asleep: false }],
    ['ready', { taskRunning: false }],
  ];

  it('peels off one cause at a time', () => {
    let obs: SlotObservation = {
      ...healthy,
      adbState: undefined,
      bootCompleted: false,
      batteryPercent: 10,
      maxTemperatureC: 40,
      propsUnreadable: 'properties unreadable: timeout',
      asleep: true,
      taskRunning: true,
    };
    for (const [state, change] of steps) {
      obs = { ...obs, ...change };
      expect(evaluateSlotHealth(obs, undefined).state).toBe(state);
    }
  });

  it.each<[string, Partial<SlotObservation>, HealthState]>([
    [
      'quarantine beats a missing phone',
      { operator: { quarantine: 'q' }, adbState: undefined },
      'quarantined',
    ],
    [
      'maintenance hides a missing phone',
      { operator: { maintenance: 'm' }, adbState: undefined },
      'maintenance',
    ],
    [
      'maintenance hides unauthorized',
      { operator: { maintenance: 'm' }, adbState: 'unauthorized' },
      'maintenance',
    ],
    [
      'unauthorized beats low battery',
      { adbState: 'unauthorized', batteryPercent: 5 },
      'unauthorized',
    ],
    ['offline beats a running task', { adbState: 'offline', taskRunning: true }, 'offline'],
    ['adb down hides an offline phone', { adbDown: 'down', adbState: 'offline' }, 'adb-down'],
    ['adb down hides a running task', { adbDown: 'down', taskRunning: true }, 'adb-down'],
    ['adb down hides a ready phone', { adbDown: 'down' }, 'adb-down'],
    ['missing beats a running task', { adbState: undefined, taskRunning: true }, 'missing'],
    ['asleep is not missing', { adbState: undefined, absentOnPurpose: 'powered-off' }, 'asleep'],
    [
      'a phone back in adb is judged on adb, not on the power flag',
      { absentOnPurpose: 'powered-off' },
      'ready',
    ],
    ['recovering beats booting', { bootCompleted: false, maxTemperatureC: 36 }, 'recovering'],
    ['recovering beats busy', { taskRunning: true, batteryPercent: 29 }, 'recovering'],
    ['booting beats busy', { bootCompleted: false, taskRunning: true }, 'booting'],
    ['a screen-slept phone in adb is asleep', { asleep: true }, 'asleep'],
    [
      'a slept phone powered off is asleep',
      { asleep: true, adbState: undefined, absentOnPurpose: 'powered-off' },
      'asleep',
    ],
    [
      'a slept phone gone without being powered off is missing',
      { asleep: true, adbState: undefined },
      'missing',
    ],
    ['maintenance beats asleep', { asleep: true, operator: { maintenance: '' } }, 'maintenance'],
    ['a faulty adb state beats asleep', { asleep: true, adbState: 'unauthorized' }, 'unauthorized'],
    ['recovering beats asleep', { asleep: true, batteryPercent: 5 }, 'recovering'],
    ['booting beats asleep', { asleep: true, bootCompleted: false }, 'booting'],
    ['unreadable properties beat asleep', { asleep: true, propsUnreadable: 'x' }, 'recovering'],
    ['asleep beats busy', { asleep: true, taskRunning: true }, 'asleep'],
    ['unreadable properties beat busy', { propsUnreadable: 'x', taskRunning: true }, 'recovering'],
    [
      'unreadable properties do not hide booting',
      { propsUnreadable: 'x', bootCompleted: false },
      'booting',
    ],
  ])('%s', (_, change, state) => {
    expect(evaluate(change).state).toBe(state);
  });
});

describe('evaluateSlotHealth: rules once hidden in the slot manager', () => {
  it('shows a screen-slept phone as asleep: not ready, but no maintenance, so the next task comes', () => {
    expect(verdict({ asleep: true })).toEqual({
      state: 'asleep',
      reason: 'Asleep while idle; the next task wakes it',
      swarming: { ready: false },
    });
  });

  it('takes a ready or busy phone whose properties cannot be read out of service', () => {
    const reason = 'Recovering: device properties unreadable: timeout';
    for (const taskRunning of [false, true]) {
      expect(verdict({ propsUnreadable: 'properties unreadable: timeout', taskRunning })).toEqual({
        state: 'recovering',
        reason,
        swarming: { maintenance: `${reason}. ${ACTION.waitRecovering}`, ready: false },
      });
    }
  });

  it.each<[string, Partial<SlotObservation>, string, string]>([
    [
      'missing',
      { adbState: undefined },
      'Device "sargo" has gone missing: not back',
      ACTION.checkGone,
    ],
    ['booting', { bootCompleted: false }, 'Device not booted: not back', ACTION.rebootByHand],
    ['connecting', { adbState: 'connecting' }, 'Device not booted: not back', ACTION.rebootByHand],
  ])('quarantines a phone %s after its reboot missed the deadline', (_, change, reason, action) => {
    const health = evaluate({ ...change, rebootFailure: 'not back' });
    expect(health.reason).toBe(reason);
    expect(health.swarming).toEqual({ quarantined: `${reason}. ${action}`, ready: false });
  });

  it('leaves other states alone after a missed reboot deadline', () => {
    expect(evaluate({ rebootFailure: 'not back' }).state).toBe('ready');
    expect(evaluate({ rebootFailure: 'not back', batteryPercent: 5 }).swarming).toHaveProperty(
      'maintenance',
    );
  });
});

describe('evaluateSlotHealth: recovery hysteresis', () => {
  it('enters below 30 % and leaves only at 35 %', () => {
    const battery = [40, 31, 30, 29, 30, 32, 34, 35, 33, 31, 30, 29.9];
    const states = walk(battery.map((batteryPercent) => ({ batteryPercent }))).map((h) => h.state);
    expect(states).toEqual([
      'ready',
      'ready',
      'ready',
      'recovering',
      'recovering',
      'recovering',
      'recovering',
      'ready',
      'ready',
      'ready',
      'ready',
      'recovering',
    ]);
  });

  it('enters above 35 °C and leaves only at 33 °C', () => {
    const temperatures = [34, 35, 35.1, 35, 34, 33.5, 33, 34.9, 35.2];
    const states = walk(temperatures.map((maxTemperatureC) => ({ maxTemperatureC }))).map(
      (h) => h.state,
    );
    expect(states).toEqual([
      'ready',
      'ready',
      'recovering',
      'recovering',
      'recovering',
      'recovering',
      'ready',
      'ready',
      'recovering',
    ]);
  });

  it.each<[string, Partial<SlotObservation>[]]>([
    ['battery around 30 %', [29.5, 30.5].flatMap((b) => Array(10).fill({ batteryPercent: b }))],
    [
      'temperature around 35 °C',
      Array.from({ length: 20 }, (_, i) => ({ maxTemperatureC: i % 2 === 0 ? 35.4 : 34.6 })),
    ],
    [
      'battery and temperature jittering together',
      Array.from({ length: 20 }, (_, i) => ({
        batteryPercent: 30 + (i % 3) - 1,
        maxTemperatureC: 35 + ((i % 4) - 1.5) / 2,
      })),
    ],
  ])('does not flap with %s', (_, changes) => {
    // From a ready phone: one way into recovery, no way out.
    const states = walk([{}, ...changes]).map((h) => h.state);
    expect(states).toContain('recovering');
    expect(transitions(states)).toBe(1);
  });

  it('flaps without hysteresis (the test above can fail)', () => {
    const flat = { ...DEFAULT_RECOVERY_THRESHOLDS, resumeBatteryPercent: 30 };
    let previous: SlotHealth | undefined;
    const states = [29.5, 30.5, 29.5, 30.5].map((batteryPercent) => {
      previous = evaluateSlotHealth({ ...healthy, batteryPercent }, previous, flat);
      return previous.state;
    });
    expect(transitions(states)).toBe(3);
  });

  it('names every cause, with the threshold that applies now', () => {
    const [entered, staying] = walk([
      { batteryPercent: 22, maxTemperatureC: 36.25 },
      { batteryPercent: 100 / 3, maxTemperatureC: 34 },
    ]);
    expect(entered?.recovery).toBe('battery 22% < 30%, temperature 36.25 °C > 35 °C');
    expect(staying?.recovery).toBe('battery 33.33% < 35%, temperature 34 °C > 33 °C');
  });

  it('keeps recovery through a spell without readings, even while another state wins', () => {
    const states = walk([
      { batteryPercent: 20 },
      { batteryPercent: undefined, maxTemperatureC: undefined },
      { adbState: undefined, batteryPercent: undefined, maxTemperatureC: undefined },
      { batteryPercent: 32 },
      { batteryPercent: 36 },
    ]);
    expect(states.map((h) => [h.state, h.recovery])).toEqual([
      ['recovering', 'battery 20% < 30%'],
      ['recovering', 'battery 20% < 30%'],
      ['missing', 'battery 20% < 30%'],
      ['recovering', 'battery 32% < 35%'],
      ['ready', undefined],
    ]);
  });

  it('does not enter recovery without readings', () => {
    expect(evaluate({ batteryPercent: undefined, maxTemperatureC: undefined }).state).toBe('ready');
  });

  it('uses custom thresholds', () => {
    const t = {
      minBatteryPercent: 50,
      maxTemperatureC: 40,
      resumeBatteryPercent: 60,
      resumeTemperatureC: 38,
    };
    expect(evaluateSlotHealth({ ...healthy, batteryPercent: 49 }, undefined, t).recovery).toBe(
      'battery 49% < 50%',
    );
    expect(evaluateSlotHealth({ ...healthy, maxTemperatureC: 39 }, undefined, t).state).toBe(
      'ready',
    );
  });
});

describe('recoveryThresholdsProblem', () => {
  it.each([
    [DEFAULT_RECOVERY_THRESHOLDS, undefined],
    [{ ...DEFAULT_RECOVERY_THRESHOLDS, resumeBatteryPercent: 30 }, undefined],
    [
      { ...DEFAULT_RECOVERY_THRESHOLDS, resumeBatteryPercent: 25 },
      'resume battery 25% is below the minimum 30%: recovery would flap',
    ],
    [
      { ...DEFAULT_RECOVERY_THRESHOLDS, resumeTemperatureC: 36 },
      'resume temperature 36 °C is above the maximum 35 °C: recovery would flap',
    ],
    [
      { ...DEFAULT_RECOVERY_THRESHOLDS, maxTemperatureC: Number.NaN },
      'recovery thresholds must be finite numbers',
    ],
  ])('%j -> %s', (thresholds, problem) => {
    expect(recoveryThresholdsProblem(thresholds)).toBe(problem);
  });
});
