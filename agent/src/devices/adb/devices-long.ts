/**
 * Serial → USB port path (undefined for TCP devices) from `host:devices-l`
 * lines, which name the USB port of a device in every state
 * (`get-devpath` refuses an offline or unauthorized one, and adbkit's own
 * parser of this list misreads TCP and unauthorized devices):
 *
 *   R58M12ABCDE            device usb:1-1.3 product:x1sxx model:SM_G980F device:x1s transport_id:3
 *   R58M12ABCDE            unauthorized usb:1-1.3 transport_id:4
 *   0123456789ABCDEF       no permissions (user in plugdev group; ...); see [http://...] usb:1-1.4 transport_id:5
 *   127.0.0.1:5555         offline transport_id:6
 */
export function parseDeviceList(text: string): Map<string, string | undefined> {
  const paths = new Map<string, string | undefined>();
  for (const line of text.split('\n')) {
    const serial = /^(\S+)\s+\S/.exec(line)?.[1];
    if (serial === undefined) continue;
    // The state can contain spaces ("no permissions (...)"): look for the usb: token anywhere after it.
    paths.set(serial, /\s(usb:[0-9][0-9.-]*)(?:\s|$)/.exec(line)?.[1]);
  }
  return paths;
}
