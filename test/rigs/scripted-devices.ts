import type { AdbDevice, DeviceIO, DevicePresence } from '../../agent/src/devices/device-io.js';
import type { Clock } from '@farm-agent/bot-config/lib';
import { AdbTimeoutError } from '../../agent/src/devices/adb/adb-io.js';

export interface ScriptedPhone {
  /** adb's state string: `device`, `offline`, `unauthorized`, ... */
  type: string;
  /** `usb:1-1.3`; undefined for a TCP device (`adb get-devpath` says `unknown`). */
  devicePath?: string;
  /** The shell's output for a command line, as the phone prints it. */
  answer: (command: string) => string;
  /** Command lines (or `get-devpath`, `reboot`) that never answer: they end by timeout. */
  hang: Set<string>;
}

type Pending = { serial: string; reject: (error: Error) => void };

/**
 * A strict stand-in for the adb layer: DeviceIO and DevicePresence over
 * scripted phones. It fails the way adb does: an unknown serial is `device
 * '<serial>' not found`, a command on a phone that is not in state `device`
 * fails with its state, a hung command rejects at its timeout, and commands
 * still running when the phone leaves fail (adb closes their streams).
 */
export class ScriptedDevices implements DeviceIO, DevicePresence {
  /** Every command asked of a phone, as `<serial> <command>`, in order. */
  readonly calls: string[] = [];
  private readonly phones = new Map<string, ScriptedPhone>();
  private readonly listeners = new Set<(serial: string, device: AdbDevice | undefined) => void>();
  private readonly pending = new Set<Pending>();
  private readonly serverListeners = new Set<(problem: string | undefined) => void>();
  private problem: string | undefined;

  constructor(private readonly clock: Clock) {}

  /** Plugs a phone in (or replaces its script) and tells the listeners. */
  attach(
    serial: string,
    phone: Omit<ScriptedPhone, 'hang' | 'type'> & Partial<ScriptedPhone>,
  ): ScriptedPhone {
    const scripted: ScriptedPhone = { type: 'device', hang: new Set(), ...phone };
    this.phones.set(serial, scripted);
    this.emit(serial);
    return scripted;
  }

  setType(serial: string, type: string): void {
    this.phone(serial).type = type;
    if (type !== 'device') this.closePending(serial);
    this.emit(serial);
  }

  detach(serial: string): void {
    this.phone(serial);
    this.phones.delete(serial);
    this.closePending(serial);
    this.emit(serial);
  }

  phone(serial: string): ScriptedPhone {
    const phone = this.phones.get(serial);
    if (phone === undefined) throw new Error(`no scripted phone ${serial}`);
    return phone;
  }

  devices(): ReadonlyMap<string, AdbDevice> {
    return new Map([...this.phones].map(([serial, { type }]) => [serial, { serial, type }]));
  }

  onChange(listener: (serial: string, device: AdbDevice | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  serverProblem(): string | undefined {
    return this.problem;
  }

  onServerChange(listener: (problem: string | undefined) => void): () => void {
    this.serverListeners.add(listener);
    return () => this.serverListeners.delete(listener);
  }

  /**
   * The adb server goes away (a reason) or is back (undefined). While it is away the
   * phones keep their last listed state and every command is refused, as adb's are.
   */
  setServerProblem(problem: string | undefined): void {
    this.problem = problem;
    if (problem !== undefined)
      for (const entry of [...this.pending]) entry.reject(new Error('closed'));
    for (const listener of [...this.serverListeners]) listener(problem);
  }

  async shell(serial: string, command: string, timeoutMs: number): Promise<string> {
    const phone = this.usable(serial, command);
    return this.answer(serial, command, timeoutMs, () => phone.answer(command));
  }

  async devicePath(serial: string, timeoutMs: number): Promise<string | undefined> {
    this.calls.push(`${serial} get-devpath`);
    // The server answers get-devpath itself, whatever state the phone is in.
    const phone = this.known(serial);
    return this.answer(serial, 'get-devpath', timeoutMs, () => phone.devicePath);
  }

  async reboot(serial: string, timeoutMs: number): Promise<void> {
    this.usable(serial, 'reboot');
    await this.answer(serial, 'reboot', timeoutMs, () => undefined);
  }

  private known(serial: string): ScriptedPhone {
    if (this.problem !== undefined) throw new Error('connect ECONNREFUSED');
    const phone = this.phones.get(serial);
    if (phone === undefined) throw new Error(`device '${serial}' not found`);
    return phone;
  }

  private usable(serial: string, command: string): ScriptedPhone {
    this.calls.push(`${serial} ${command}`);
    const phone = this.known(serial);
    if (phone.type !== 'device') throw new Error(`device ${phone.type}`);
    return phone;
  }

  private answer<T>(serial: string, command: string, timeoutMs: number, get: () => T): Promise<T> {
    if (!this.known(serial).hang.has(command)) return Promise.resolve(get());
    return new Promise<T>((_, reject) => {
      const entry: Pending = {
        serial,
        reject: (error) => {
          this.clock.clearTimeout(timer);
          this.pending.delete(entry);
          reject(error);
        },
      };
      const timer = this.clock.setTimeout(
        // What AdbDeviceIO rejects with (AdbTimeoutError), so symptoms read the same.
        () => entry.reject(new AdbTimeoutError(`${serial}: ${describe(command)}`, timeoutMs)),
        timeoutMs,
      );
      this.pending.add(entry);
    });
  }

  private closePending(serial: string): void {
    for (const entry of [...this.pending]) {
      if (entry.serial === serial) entry.reject(new Error('closed'));
    }
  }

  private emit(serial: string): void {
    const phone = this.phones.get(serial);
    const device = phone === undefined ? undefined : { serial, type: phone.type };
    for (const listener of [...this.listeners]) listener(serial, device);
  }
}

/** The request as AdbDeviceIO names it in its errors. */
function describe(command: string): string {
  return command === 'reboot' || command === 'get-devpath'
    ? command
    : `shell ${JSON.stringify(command)}`;
}
