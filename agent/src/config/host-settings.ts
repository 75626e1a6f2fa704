import { bytesIn, durationIn, parseCelsius, percentIn } from './parse.js';
import { setting } from './setting.js';

/** The Pi’s own health: how often it is read, and the limits that put every slot into maintenance. */
export const HOST_SETTINGS = {
  hostPollInterval: setting({
    env: 'FARM_HOST_POLL_INTERVAL',
    doc: 'How often the Pi’s own temperature, memory, disk and load are read.',
    parse: durationIn('1s', '1h'),
    default: '30s',
  }),
  hostTemperatureMax: setting({
    env: 'FARM_HOST_TEMPERATURE_MAX',
    doc: 'Above this SoC temperature (°C) every slot goes into maintenance (a Pi throttles at 80).',
    parse: parseCelsius,
    default: '80',
  }),
  hostTemperatureResume: setting({
    env: 'FARM_HOST_TEMPERATURE_RESUME',
    doc: 'The slots leave host maintenance once the SoC is below this (°C).',
    parse: parseCelsius,
    default: '75',
  }),
  hostDiskMinPercent: setting({
    env: 'FARM_HOST_DISK_MIN_PERCENT',
    doc: 'Maintenance (and the bots’ own `free_partition` quarantine) when less than this share of the state filesystem is free…',
    parse: percentIn(0, 50),
    default: '5',
  }),
  hostDiskMinFree: setting({
    env: 'FARM_HOST_DISK_MIN_FREE',
    doc: '…or less than this much, whichever is larger.',
    parse: bytesIn('0', '1Ti'),
    default: '500Mi',
  }),
};
