/**
 * Device presence from the adb server: one long-lived `host:track-devices` connection,
 * re-established after the server restarts, checked against `host:devices` now and then.
 *
 * Every source hands the DeviceTable a full list, so the adbkit pitfalls of DESIGN §4
 * reduce to these rules:
 *  - the tracker's own `add` events are not used: devices present at start may never
 *    produce one. Its full list is read after each `changeSet` (which fires before
 *    adbkit updates that list) and a `host:devices` seed follows every (re)connect;
 *  - `remove` and its stale type are not used either: a serial absent from a list is gone;
 *  - a `host:devices` answer is dropped if the tracker spoke while it was in flight,
 *    since the two connections give no order and the tracker's list is the newer one;
 *  - the tracker's client has no socket timeout, which would kill it while idle;
 *  - adbkit's tracker ends for good when the server dies: we open a new one, with backoff
 *    (cut short by reconnectNow() when the supervisor sees a new server answer). From the
 *    moment the connection is lost until a new one is open and seeded, serverProblem()
 *    says why, so no slot passes for ready on a list nobody can vouch for;
 *  - a TCP device whose transport dropped shows `offline` in `host:devices` while the
 *    tracker stays silent: the periodic reconcile catches it.
 */
import type { BackoffOptions } from '@farm-agent/bot-config/lib';
import { Backoff, errorMessage, sleep } from '@farm-agent/bot-config/lib';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import type { AdbDevice, DevicePresence } from '../device-io.js';
import { listHostDevices } from './adb-shell.js';
import type { ShellTarget } from './adb-shell.js';
import { createAdbClient, trackDevices } from './adbkit.js';
import type { DeviceTrackerHandle } from './adbkit.js';
import { DeviceTable } from './device-table.js';

export interface AdbTrackerOptions {
  port: number;
  host?: string;
  logger: Logger;
  registry: Registry;
  /** How often `host:devices` is compared with what the tracker said. Default 5 s. */
  reconcileIntervalMs?: number;
  /** Bound on each `host:devices` request. Default 2 s. */
  listTimeoutMs?: number;
  /** Between attempts to reach the server again. Default 200 ms .. 5 s. */
  reconnectBackoff?: BackoffOptions;
  /**
   * While the server cannot be reached the last list is kept (a restart takes well under
   * a second), but after this long every device is reported gone. Default 15 s.
   */
  forgetAfterMs?: number;
}

type Listener = (serial: string, device: AdbDevice | undefined) => void;

function reconnectsCounter(registry: Registry): Counter {
  const name = 'farm_adb_tracker_reconnects_total';
  return (
    (registry.getSingleMetric(name) as Counter | undefined) ??
    new Counter({
      name,
      help: 'Device tracking connections to the adb server opened again after one was lost.',
      registers: [registry],
    })
  );
}

export class AdbTracker implements DevicePresence {
  private readonly log: Logger;
  private readonly table = new DeviceTable();
  private readonly listeners = new Set<Listener>();
  private readonly serverListeners = new Set<(problem: string | undefined) => void>();
  private problem: string | undefined = 'adb server not reached yet';
  /** Ends the current wait between two connection attempts. */
  private wake: (() => void) | undefined;
  private readonly backoff: Backoff;
  private readonly reconnects: Counter;
  /** Where `host:devices` is asked (on node:net, see listHostDevices). */
  private readonly listTarget: ShellTarget;
  private readonly abort = new AbortController();
  private tracker: DeviceTrackerHandle | undefined;
  /** Counts the tracker's lists, so a `host:devices` answer can tell it was overtaken. */
  private trackerLists = 0;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private forgetTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: AdbTrackerOptions) {
    this.log = options.logger.child({ component: 'adb-tracker', port: options.port });
    this.backoff = new Backoff(options.reconnectBackoff ?? { initialMs: 200, maxMs: 5000 });
    this.reconnects = reconnectsCounter(options.registry);
    this.listTarget = { port: options.port, host: options.host ?? '127.0.0.1' };
  }

  devices(): ReadonlyMap<string, AdbDevice> {
    return this.table.devices;
  }

  onChange(listener: Listener): () => void {
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

  start(): void {
    this.running ??= this.run();
  }

  /** The server has just come up: try it now rather than at the end of the backoff. */
  reconnectNow(): void {
    this.wake?.();
  }

  /** Closes the tracking connection and clears every timer; resolves when all is let go. */
  async stop(): Promise<void> {
    this.abort.abort(new Error('stopped'));
    clearTimeout(this.reconcileTimer);
    clearTimeout(this.forgetTimer);
    this.tracker?.end();
    await this.running;
  }

  private setProblem(problem: string | undefined): void {
    if (problem === this.problem) return;
    this.problem = problem;
    for (const listener of this.serverListeners) {
      try {
        listener(problem);
      } catch (error) {
        this.log.error({ err: error }, 'adb server listener failed');
      }
    }
  }

  private apply(list: readonly AdbDevice[], source: string): void {
    for (const { serial, device } of this.table.replace(list)) {
      this.log.info({ serial, state: device?.type ?? 'gone', source }, 'device presence changed');
      for (const listener of this.listeners) {
        try {
          listener(serial, device);
        } catch (error) {
          this.log.error({ err: error, serial }, 'device presence listener failed');
        }
      }
    }
  }

  /** `host:devices`, applied unless the tracker spoke meanwhile. */
  private async reconcile(source: string): Promise<void> {
    const before = this.trackerLists;
    const timeoutMs = this.options.listTimeoutMs ?? 2000;
    const list = await listHostDevices(
      this.listTarget,
      timeoutMs,
      () => new Error(`host:devices: no answer within ${timeoutMs} ms`),
    );
    if (this.trackerLists !== before || this.abort.signal.aborted) return;
    this.apply(list, source);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let connectedBefore = false;
    while (!signal.aborted) {
      try {
        const { closed } = await this.connect();
        // stop() during the seed has ended the new tracker: schedule nothing more.
        if (signal.aborted) return;
        if (connectedBefore) this.reconnects.inc();
        connectedBefore = true;
        this.backoff.reset();
        this.setProblem(undefined);
        clearTimeout(this.forgetTimer);
        this.forgetTimer = undefined;
        this.scheduleReconcile();
        const error = await closed;
        if (signal.aborted) return;
        this.log.warn({ err: error }, 'lost the device tracking connection to the adb server');
        this.setProblem(`adb server unreachable: ${error?.message ?? 'connection closed'}`);
      } catch (error) {
        if (signal.aborted) return;
        this.log.warn({ err: error }, 'cannot track devices: adb server unreachable');
        this.setProblem(`adb server unreachable: ${errorMessage(error)}`);
      }
      this.tracker = undefined;
      clearTimeout(this.reconcileTimer);
      this.startForgetting();
      const nap = new AbortController();
      this.wake = () => nap.abort();
      await sleep(this.backoff.next(), AbortSignal.any([signal, nap.signal])).catch(
        () => undefined,
      );
      this.wake = undefined;
    }
  }

  /**
   * Opens the tracker, then seeds. The closing promise comes wrapped: an async function
   * returning a bare promise would adopt it and resolve only when the tracker closes.
   */
  private async connect(): Promise<{ closed: Promise<Error | undefined> }> {
    // No socket timeout: the tracker is idle whenever nothing changes.
    const tracker = await trackDevices(
      createAdbClient({ port: this.options.port, host: this.options.host }),
    );
    const closed = new Promise<Error | undefined>((resolve) => tracker.onClosed(resolve));
    if (this.abort.signal.aborted) {
      tracker.end();
      await closed;
      throw new Error('stopped');
    }
    this.tracker = tracker;
    tracker.onList((list) => {
      this.trackerLists += 1;
      this.apply(list, 'tracker');
    });
    try {
      await this.reconcile('seed');
    } catch (error) {
      tracker.end();
      throw error;
    }
    this.log.info({ devices: this.table.devices.size }, 'tracking devices');
    return { closed };
  }

  /** One pending reconcile at most: a new schedule replaces the old one. */
  private scheduleReconcile(): void {
    clearTimeout(this.reconcileTimer);
    this.reconcileTimer = setTimeout(() => {
      this.reconcile('reconcile')
        .catch((error: unknown) => this.log.warn({ err: error }, 'device list reconcile failed'))
        .finally(() => {
          if (this.tracker && !this.abort.signal.aborted) this.scheduleReconcile();
        });
    }, this.options.reconcileIntervalMs ?? 5000);
  }

  private startForgetting(): void {
    this.forgetTimer ??= setTimeout(() => {
      this.log.warn('adb server unreachable for too long: every device counts as gone');
      this.apply([], 'server-unreachable');
    }, this.options.forgetAfterMs ?? 15_000);
  }
}
