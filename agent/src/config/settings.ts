import { AGENT_SETTINGS } from './agent-settings.js';
import { CLUSTER_SETTINGS } from './cluster-settings.js';
import { DEVICE_SETTINGS } from './device-settings.js';
import { HOST_SETTINGS } from './host-settings.js';
import { SWARMING_SETTINGS } from './swarming-settings.js';

/**
 * Every setting the agent reads, assembled from one table per domain in this
 * order. The README's configuration table is generated from this list
 * (`farm-agent config --markdown`), so the two cannot drift apart.
 */
export const SETTINGS = {
  ...AGENT_SETTINGS,
  ...SWARMING_SETTINGS,
  ...DEVICE_SETTINGS,
  ...CLUSTER_SETTINGS,
  ...HOST_SETTINGS,
};

export type SettingKey = keyof typeof SETTINGS;
type Parsed<K extends SettingKey> = ReturnType<(typeof SETTINGS)[K]['parse']>;
type HasDefault<K extends SettingKey> = (typeof SETTINGS)[K] extends { default: unknown }
  ? true
  : false;

/** The validated configuration: settings with a default are always present. */
export type Config = {
  [K in SettingKey]: HasDefault<K> extends true ? Parsed<K> : Parsed<K> | undefined;
};
