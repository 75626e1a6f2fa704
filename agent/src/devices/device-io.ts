/**
 * The seam between the slot logic and adb. `adb/` implements it over
 * adbkit and a supervised adb server; tests of the slot logic use the real
 * implementation against fake phones, or a strict stand-in.
 */

/** One device as the adb server lists it; `type` is adb's open-ended state string. */
export interface AdbDevice {
  serial: string;
  /** `device`, `offline`, `unauthorized`, `authorizing`, `connecting`, `no permissions`, ... */
  type: string;
}

export interface DeviceIO {
  /**
   * Runs a shell command and returns its output (stdout and stderr merged: adb
   * without shell_v2 has no exit code). Rejects with a timeout error after
   * `timeoutMs`, destroying the stream so a hung command holds nothing.
   */
  shell(serial: string, command: string, timeoutMs: number): Promise<string>;
  /** The USB port path (`usb:1-1.3`), or undefined when adb has none (TCP devices). */
  devicePath(serial: string, timeoutMs: number): Promise<string | undefined>;
  /** Asks the device to reboot; resolves once the request is sent. */
  reboot(serial: string, timeoutMs: number): Promise<void>;
}

/** Presence as tracked from the adb server; `change` fires for every add, state change or removal. */
export interface DevicePresence {
  /** Current devices by serial. */
  devices(): ReadonlyMap<string, AdbDevice>;
  /** `device` is undefined when the serial left the server's list. Returns an unsubscribe function. */
  onChange(listener: (serial: string, device: AdbDevice | undefined) => void): () => void;
  /**
   * Why the adb server cannot be asked now (down, restarting, not reached yet); undefined
   * while the device list is live. While it is set, devices() is only the last list seen.
   */
  serverProblem(): string | undefined;
  /** Called each time serverProblem() changes. Returns an unsubscribe function. */
  onServerChange(listener: (problem: string | undefined) => void): () => void;
}
