import type { Dimensions } from '@farm-agent/bot-config';

/**
 * Every dimension key the device side decides. The hook server replaces each
 * of these wholesale in the bot's own dimensions, so every function here
 * returns all of them, with an empty list for "remove this key": a key left
 * out would keep a stale value from the bot, e.g. the `device_type` of a
 * phone that has been swapped.
 *
 * `os` is owned too: without a phone the bot must not advertise the host's
 * `Linux` and pick up tasks meant for a plain Linux bot.
 */
export const DEVICE_DIMENSION_KEYS = [
  'android_devices',
  'device_os',
  'device_os_flavor',
  'device_os_type',
  'device_type',
  'inside_docker',
  'os',
] as const;
export type DeviceDimensionKey = (typeof DEVICE_DIMENSION_KEYS)[number];
export type DeviceDimensions = Record<DeviceDimensionKey, string[]>;

export interface DimensionOptions {
  /** Report `inside_docker: ["1", "containerd"]`, as Skia's containerised bots did. */
  insideDocker: boolean;
}

const INSIDE_DOCKER = ['1', 'containerd'];

/**
 * Skia's Android dimensions from `getprop` (machine/go/machine/processor).
 * Values are trimmed, empties dropped and duplicates removed after
 * normalising (Skia removed them before lower-casing the brand, so `Google`
 * and `google` gave a duplicate the Swarming server rejects). Length limits
 * are left to the hook server's merge, which drops what the server refuses.
 */
export function deriveAndroidDimensions(
  props: ReadonlyMap<string, string>,
  opts: DimensionOptions,
): DeviceDimensions {
  const prop = (key: string) => props.get(key)?.trim() ?? '';
  const deviceOs = deviceOsValues(prop('ro.build.id'), prop('ro.build.version.incremental'));
  const present = deviceOs.length > 0;
  return {
    android_devices: present ? ['1'] : [],
    device_os: deviceOs,
    device_os_flavor: distinct(
      [prop('ro.product.brand'), prop('ro.product.system.brand')].map(flavor),
    ),
    device_os_type: distinct([prop('ro.build.type')]),
    device_type: distinct([
      prop('ro.product.device'),
      prop('ro.build.product'),
      prop('ro.product.board'),
    ]),
    inside_docker: opts.insideDocker ? INSIDE_DOCKER : [],
    os: present ? ['Android'] : [],
  };
}

/**
 * `<id>`, `<id>_<incremental>` (Samsung ships builds that change only the
 * incremental) and the id's first letter when it is an upper-case letter
 * (the release letter, e.g. `Q`), sorted as Skia sorted them. Skia also
 * added a leading digit (its test was "upper-casing changes nothing"); a
 * digit is no release letter, so it is not added here.
 */
function deviceOsValues(id: string, incremental: string): string[] {
  if (id === '') return [];
  const values = [id];
  if (incremental !== '') values.push(`${id}_${incremental}`);
  const letter = id[0] ?? '';
  if (/^[A-Z]$/.test(letter)) values.push(letter);
  return values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function flavor(brand: string): string {
  const lower = brand.toLowerCase();
  return lower === 'aosp' ? 'android' : lower;
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values.filter((value) => value !== ''))];
}

export interface NoDeviceDimensions {
  dimensions: DeviceDimensions;
  /** Set when the slot had a phone that is gone: Skia's quarantine reason. */
  quarantined?: string;
}

/**
 * The dimensions of a slot without a phone: every device key emptied (so the
 * bot stops matching device tasks), host facts kept, and, when the previous
 * dimensions named a `device_type`, the quarantine Skia raised for it.
 */
export function noDeviceDimensions(
  previous: Dimensions,
  opts: DimensionOptions,
): NoDeviceDimensions {
  const empty = deriveAndroidDimensions(new Map(), opts);
  const quarantined = goneMissingReason(previous['device_type'] ?? []);
  return quarantined === undefined ? { dimensions: empty } : { dimensions: empty, quarantined };
}

/**
 * `Device "<type>" has gone missing`, naming the first `device_type`
 * (`ro.product.device`, the name people know the phone by; the others are
 * the deprecated product and the board). Skia formatted the whole list with
 * Go's %q, which printed `Device ["sargo"] has gone missing`; one quoted
 * name reads better and is what the design notes give.
 */
export function goneMissingReason(deviceTypes: readonly string[]): string | undefined {
  const first = deviceTypes.find((type) => type.trim() !== '');
  return first === undefined
    ? undefined
    : `Device ${JSON.stringify(first.trim())} has gone missing`;
}
