import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UsbPresence } from '../devices/usb-presence.js';

const USB_PATH = /^usb:(\d+-[\d.]+)$/;

/**
 * What the kernel lists on a slot's USB port: `usb:1-1.3` is
 * `<root>/1-1.3/{idVendor,idProduct,serial,product}`. Undefined for a slot
 * that is no USB port (a TCP phone). The directory exists exactly while a
 * device is enumerated there, whatever adb thinks of it.
 */
export async function readUsbPresence(
  root: string,
  slotKey: string,
): Promise<UsbPresence | undefined> {
  const port = USB_PATH.exec(slotKey)?.[1];
  if (port === undefined) return undefined;
  const dir = join(root, port);
  const idVendor = await attribute(dir, 'idVendor');
  if (idVendor === undefined) return { present: false };
  const presence: UsbPresence = { present: true, idVendor };
  for (const name of ['idProduct', 'serial', 'product'] as const) {
    const value = await attribute(dir, name);
    if (value !== undefined) presence[name] = value;
  }
  return presence;
}

async function attribute(dir: string, name: string): Promise<string | undefined> {
  try {
    return (await readFile(join(dir, name), 'utf8')).trim();
  } catch {
    // No such device (ENOENT), or a device without that string descriptor.
    return undefined;
  }
}
