import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { readHostFacts, type HostFacts, type ReadHostFactsOptions } from './host-facts.js';
import {
  DEFAULT_HOST_THRESHOLDS,
  HOST_OK,
  hostMaintenanceReason,
  type HostMaintenance,
  type HostThresholds,
} from './host-maintenance.js';

export interface HostSnapshot {
  /** Undefined until the first reading finished. */
  facts: HostFacts | undefined;
  maintenance: HostMaintenance;
}

export interface HostMonitorOptions {
  /** FARM_STATE_DIR: its filesystem is the one whose free space matters. */
  stateDir: string;
  logger: Logger;
  registry: Registry;
  /** Time between the end of one reading and the start of the next. */
  intervalMs?: number;
  probeTimeoutMs?: number;
  thresholds?: HostThresholds;
  /** Tests replace the real probes. */
  read?: (options: ReadHostFactsOptions) => Promise<HostFacts>;
}

export const DEFAULT_HOST_POLL_INTERVAL_MS = 30_000;

type Listener = (maintenance: HostMaintenance) => void;

/**
 * Reads the host's facts every interval, keeps the latest with the maintenance
 * verdict, exports them as `farm_host_*` gauges and tells listeners when the
 * maintenance reason changes.
 */
export class HostMonitor {
  private snapshot: HostSnapshot = { facts: undefined, maintenance: HOST_OK };
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<HostSnapshot> | undefined;
  private stopped = true;

  constructor(private readonly options: HostMonitorOptions) {
    // Gauges read the latest snapshot at scrape time; an unknown fact exports no sample rather
    // than a stale or zero one (`remove()`: `reset()` would leave a label-less gauge at 0).
    const latest = (): HostFacts | undefined => this.snapshot.facts;
    const gauge = (name: string, help: string, value: (facts: HostFacts) => number | undefined) =>
      new Gauge({
        name,
        help,
        registers: [options.registry],
        collect() {
          const facts = latest();
          const v = facts && value(facts);
          if (v === undefined) this.remove();
          else this.set(v);
        },
      });
    gauge('farm_host_temperature_celsius', 'SoC temperature of the host.', (f) => f.temperatureC);
    gauge(
      'farm_host_memory_available_bytes',
      'Memory available to new work (MemAvailable).',
      (f) => f.memoryAvailableBytes,
    );
    gauge(
      'farm_host_disk_free_bytes',
      'Free bytes on the filesystem holding FARM_STATE_DIR.',
      (f) => f.disk?.freeBytes,
    );
    gauge('farm_host_load1', 'One-minute load average of the host.', (f) => f.load?.[0]);
  }

  /** Reads once (so `current()` is filled when start resolves), then polls. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.refresh();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
  }

  current(): HostSnapshot {
    return this.snapshot;
  }

  /** Called with the new verdict whenever the maintenance reason changes. */
  onMaintenanceChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One reading now; concurrent callers share it. */
  refresh(): Promise<HostSnapshot> {
    this.inFlight ??= this.readOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async readOnce(): Promise<HostSnapshot> {
    const { logger } = this.options;
    const read = this.options.read ?? readHostFacts;
    const facts = await read({
      stateDir: this.options.stateDir,
      timeoutMs: this.options.probeTimeoutMs,
      knownModel: this.snapshot.facts?.model,
    });
    const previous = this.snapshot.maintenance;
    const maintenance = hostMaintenanceReason(
      facts,
      this.options.thresholds ?? DEFAULT_HOST_THRESHOLDS,
      previous,
    );
    this.snapshot = { facts, maintenance };
    if (Object.keys(facts.errors).length > 0) {
      logger.debug({ errors: facts.errors }, 'some host facts could not be read');
    }
    if (maintenance.reason !== previous.reason) {
      if (maintenance.reason === undefined) logger.info('host is fine again: maintenance ends');
      else logger.warn({ reason: maintenance.reason }, 'host needs maintenance');
      for (const listener of this.listeners) listener(maintenance);
    }
    return this.snapshot;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      // readHostFacts never throws, but an injected reader or a listener might: keep polling.
      this.refresh()
        .catch((err: unknown) => this.options.logger.error({ err }, 'host facts reading failed'))
        .finally(() => this.schedule());
    }, this.options.intervalMs ?? DEFAULT_HOST_POLL_INTERVAL_MS);
    // A pending poll must not keep a stopping process alive.
    this.timer.unref();
  }
}
