/** What the kernel says is plugged into a USB port (`/sys/bus/usb/devices/<port>/`). */
export type UsbPresence =
  | { present: false }
  | { present: true; idVendor?: string; idProduct?: string; serial?: string; product?: string };
