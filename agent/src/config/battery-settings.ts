import { durationIn, parseBoolean, parseCelsius, percentIn } from './parse.js';
import { setting } from './setting.js';

/** Battery care: when a battery counts as worn, and the charge band charge control keeps. */
export const BATTERY_SETTINGS = {
  batteryHotCharging: setting({
    env: 'FARM_BATTERY_HOT_CHARGING',
    doc: 'A battery hotter than this (°C) while on power is worn: the slot goes to maintenance (`worn`) with an Event.',
    parse: parseCelsius,
    default: '45',
  }),
  batteryCapacityMin: setting({
    env: 'FARM_BATTERY_CAPACITY_MIN',
    doc: 'A battery whose full charge holds less than this share of its design capacity is worn.',
    parse: percentIn(0, 100),
    default: '80',
  }),
  chargeControl: setting({
    env: 'FARM_CHARGE_CONTROL',
    doc: 'Keep idle phones in the charge band by switching their hub port’s power (uhubctl, per-port hubs only).',
    parse: parseBoolean,
    default: 'false',
  }),
  chargeBandLow: setting({
    env: 'FARM_CHARGE_BAND_LOW',
    doc: 'Charge control restores an idle phone’s power when its battery falls to this percentage.',
    parse: percentIn(1, 99),
    default: '40',
  }),
  chargeBandHigh: setting({
    env: 'FARM_CHARGE_BAND_HIGH',
    doc: 'Charge control cuts an idle phone’s power when its battery reaches this percentage.',
    parse: percentIn(2, 100),
    default: '80',
  }),
  chargeCheckInterval: setting({
    env: 'FARM_CHARGE_CHECK_INTERVAL',
    doc: 'How long a resting phone stays cut before its power comes back to read its level (a cut phone leaves adb).',
    parse: durationIn('1m', '6h'),
    default: '30m',
  }),
};
