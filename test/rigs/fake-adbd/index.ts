/**
 * A scriptable fake phone: an adbd of our own on 127.0.0.1 that the real adb server
 * reaches with `adb connect 127.0.0.1:<port>`.
 *
 * What Debian's adb 29.0.6 server does with it (measured on this rig, see
 * fake-adbd.test.ts; the numbers are adb's own, the rig adds no sleeps):
 *   - `adb connect` to an authorized phone: "connected to", `device` within ~10 ms.
 *     The server lists a TCP device `offline` first and `device` after our CNXN, so
 *     adbkit's tracker reports add(offline) then change(device).
 *   - unauthorized: the server signs our token with its one key, we ask again, it sends
 *     its public key; `adb connect` prints "failed to authenticate to ..." at once
 *     (~20 ms) and lists `unauthorized`. Setting mode = 'authorized' (tapping "Allow")
 *     turns it `device` within ~10 ms on the same connection.
 *   - offline: `adb connect` blocks 10 s, prints "failed to connect to ...", and the
 *     server keeps listing the device `offline` (it does not drop the TCP connection).
 *     AdbServerHandle.connectNoWait gets the listing without the 10 s wait.
 *   - dropped connection, port still open: `offline` within ~10 ms; adb reconnects by
 *     itself after ~250 ms and is `device` again at ~260 ms.
 *   - reboot (port closed while away): `offline` at once; adb's first retry comes at
 *     ~250 ms, and once refused it retries every 10 s (back at 10.2-10.4 s after a 1-3 s
 *     reboot). `adb connect` meanwhile answers "already connected" and does not hurry
 *     it; `adb disconnect` + `adb connect` reconnects at once. adbkit's trackDevices()
 *     says nothing while the device is away (`adb devices` shows `offline`); it reports
 *     change(offline), change(device) only when the transport comes back.
 *   - killing the server: the phone sees its connection close within ~5 ms; adbkit's
 *     tracker emits error "Connection closed" and ends. The phone keeps listening and a
 *     new server can connect to it.
 *   - adb 29 fills in data_check on its first CNXN but sends 0 on the CNXN of an
 *     automatic reconnect; a fake that checked sums before the handshake never comes back.
 *   - `adb devices -l` rewrites the model: `SM-G980F` shows as `model:SM_G980F`.
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { once } from 'node:events';
import { DeviceSession } from './session.js';
import type { PhoneEvent, PhoneMode, ServiceAnswer } from './session.js';
import { deviceBanner } from './protocol.js';
import { freePort } from '../ports.js';
import { defaultState, runShellCommand } from './shell.js';
import type { BatteryState, PhoneState, PowerSupplyFiles, ThermalReading } from './shell.js';

export type { PhoneEvent, PhoneMode } from './session.js';
export type {
  BatteryPlugged,
  BatteryState,
  PhoneState,
  PowerSupplyFiles,
  ThermalReading,
} from './shell.js';
export {
  formatDumpsysBattery,
  formatDumpsysThermal,
  formatGetprop,
  formatUptime,
} from './shell.js';

export type HangRule = Set<string> | ((command: string) => boolean);

export interface PhoneScript {
  mode?: PhoneMode;
  /** Merged over a Samsung S20 (Android 10) property set. */
  props?: Record<string, string>;
  battery?: Partial<BatteryState>;
  /** Replaces the default kernel battery files. */
  powerSupply?: PowerSupplyFiles;
  thermal?: ThermalReading[];
  uptimeSeconds?: number;
  bootCompleted?: boolean;
  /** Shell commands (exact command lines, or a predicate) that never answer. */
  hang?: HangRule;
  /** Shell commands during which adbd dies: part of the output, then every connection drops. */
  dies?: HangRule;
  /** Consulted before the built-in table; return undefined to fall through. */
  onShell?: (command: string) => string | undefined;
  /** How long the phone is unreachable after `reboot:` (port closed: connection refused). */
  rebootAwayMs?: number;
  /** After it is back, how long until sys.boot_completed becomes 1; Infinity: never (hung boot). */
  bootDelayMs?: number;
}

export interface FakePhone {
  readonly port: number;
  /** The adb serial of a TCP device: `127.0.0.1:<port>`. */
  readonly serial: string;
  /** Live state: changes apply to the next command. */
  readonly state: PhoneState;
  /**
   * Read on every CNXN. Setting `authorized` also completes handshakes left waiting
   * (unauthorized: the user tapped "Allow"; offline: adbd recovered).
   */
  mode: PhoneMode;
  hang: HangRule;
  dies: HangRule;
  onShell: ((command: string) => string | undefined) | undefined;
  rebootAwayMs: number;
  bootDelayMs: number;
  /** How many times `reboot:` was asked for. */
  readonly reboots: number;
  /** Every `shell:` command line received, in order. */
  readonly shellCommands: string[];
  readonly events: PhoneEvent[];
  /** Streams currently open across all connections (a hung command keeps one open). */
  openStreams(): number;
  connections(): number;
  /** Closes every adb connection (like a cable pull); the port keeps accepting. */
  dropConnection(): void;
  /** Reboots as if `reboot:` had been opened; resolves when the port accepts again. */
  reboot(): Promise<void>;
  /** Resolves once an event matching `predicate` has been recorded. */
  waitForEvent(predicate: (event: PhoneEvent) => boolean, timeoutMs?: number): Promise<PhoneEvent>;
  close(): Promise<void>;
}

/** Uptime a freshly rebooted phone reports. */
const UPTIME_AFTER_BOOT = 8.5;

class Phone implements FakePhone {
  readonly state: PhoneState;
  private currentMode: PhoneMode;
  hang: HangRule;
  dies: HangRule;
  onShell: ((command: string) => string | undefined) | undefined;
  rebootAwayMs: number;
  bootDelayMs: number;
  reboots = 0;
  readonly shellCommands: string[] = [];
  readonly events: PhoneEvent[] = [];
  private readonly sessions = new Map<Socket, DeviceSession>();
  private readonly waiters = new Set<(event: PhoneEvent) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server: Server | undefined;
  private rebooting: Promise<void> | undefined;
  private closed = false;
  /** In `wedged` mode: a connection has seen the wedge, so the next one is answered. */
  private wedgeSeen = false;

  constructor(
    readonly port: number,
    script: PhoneScript,
  ) {
    const base = defaultState();
    this.state = {
      props: { ...base.props, ...script.props },
      battery: { ...base.battery, ...script.battery },
      powerSupply: script.powerSupply ?? base.powerSupply,
      thermal: script.thermal ?? base.thermal,
      uptimeSeconds: script.uptimeSeconds ?? base.uptimeSeconds,
      bootCompleted: script.bootCompleted ?? base.bootCompleted,
    };
    this.currentMode = script.mode ?? 'authorized';
    this.hang = script.hang ?? new Set();
    this.dies = script.dies ?? new Set();
    this.onShell = script.onShell;
    this.rebootAwayMs = script.rebootAwayMs ?? 1000;
    this.bootDelayMs = script.bootDelayMs ?? 500;
  }

  get serial(): string {
    return `127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
  }

  private accept(socket: Socket): void {
    if (this.currentMode === 'wedged') {
      if (this.wedgeSeen) this.currentMode = 'authorized';
      this.wedgeSeen = true;
    }
    const session = new DeviceSession(socket, {
      mode: () => this.mode,
      banner: () => deviceBanner(this.state.props, ['cmd']),
      answer: (service) => this.answer(service),
      reboot: () => void this.reboot(),
      die: () => this.dropConnection(),
      record: (event) => this.record(event),
    });
    this.sessions.set(socket, session);
    socket.on('close', () => this.sessions.delete(socket));
  }

  private answer(service: string): ServiceAnswer {
    // `reboot:`, `reboot:bootloader`, ...: every flavour takes the phone away.
    if (service.startsWith('reboot:')) return { kind: 'reboot' };
    if (!service.startsWith('shell:')) return { kind: 'refuse' };
    const command = service.slice('shell:'.length);
    this.shellCommands.push(command);
    const hangs = matches(this.hang, command);
    if (hangs) return { kind: 'hang' };
    if (matches(this.dies, command)) {
      const whole = runShellCommand(this.state, command);
      const text = whole.kind === 'output' ? whole.text.slice(0, whole.text.length >> 1) : '';
      return { kind: 'die', text };
    }
    const custom = this.onShell?.(command);
    if (custom !== undefined) return { kind: 'output', text: custom };
    return runShellCommand(this.state, command);
  }

  private record(event: PhoneEvent): void {
    this.events.push(event);
    for (const waiter of this.waiters) waiter(event);
  }

  get mode(): PhoneMode {
    return this.currentMode;
  }

  /**
   * Switching to authorized answers handshakes left waiting (the user tapped "Allow",
   * or an offline phone's adbd recovered); other modes apply from the next CNXN.
   */
  set mode(mode: PhoneMode) {
    this.currentMode = mode;
    this.wedgeSeen = false;
    if (mode === 'authorized') {
      for (const session of this.sessions.values()) session.approve();
    }
  }

  openStreams(): number {
    let total = 0;
    for (const session of this.sessions.values()) total += session.openStreams;
    return total;
  }

  connections(): number {
    return this.sessions.size;
  }

  dropConnection(): void {
    for (const session of this.sessions.values()) session.drop();
  }

  reboot(): Promise<void> {
    if (this.rebooting === undefined) this.reboots++;
    this.rebooting ??= this.doReboot().finally(() => {
      this.rebooting = undefined;
    });
    return this.rebooting;
  }

  private async doReboot(): Promise<void> {
    this.state.bootCompleted = false;
    await this.stopListening();
    await this.sleep(this.rebootAwayMs);
    if (this.closed) return;
    this.state.uptimeSeconds = UPTIME_AFTER_BOOT;
    await this.listen();
    // A phone that hangs in its boot animation never gets there.
    if (this.bootDelayMs === Infinity) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.state.bootCompleted = true;
    }, this.bootDelayMs);
    this.timers.add(timer);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  /** Closes the port (new connections are refused) and drops the live ones. */
  private async stopListening(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.dropConnection();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  waitForEvent(predicate: (event: PhoneEvent) => boolean, timeoutMs = 5000): Promise<PhoneEvent> {
    const seen = this.events.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = (event: PhoneEvent): void => {
        if (!predicate(event)) return;
        cleanup();
        resolve(event);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching phone event within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.stopListening();
  }
}

function matches(rule: HangRule, command: string): boolean {
  return rule instanceof Set ? rule.has(command) : rule(command);
}

/** Starts a fake phone on a free loopback port. */
export async function startFakePhone(script: PhoneScript = {}): Promise<FakePhone> {
  // Listening on port 0 directly would do, but reboot needs to re-open the same port,
  // so the phone owns a fixed number from the start.
  const phone = new Phone(await freePort(), script);
  await phone.listen();
  return phone;
}
