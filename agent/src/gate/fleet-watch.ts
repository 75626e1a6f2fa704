/**
 * The gate's view of the farm: every interval it lists the agents' Leases and the Nodes (two
 * paged lists, whatever the number of page views) and rebuilds the fleet. A view that has not
 * been refreshed for three intervals is stale: /healthz fails and the page says so, rather than
 * showing old states as current (informers can go silent; a periodic list cannot).
 */
import type { Logger } from 'pino';
import { errorMessage, type Clock } from '@farm-agent/bot-config/lib';
import { fleetFrom, type FleetNode } from './fleet-model.js';
import type { GateKubeApi } from './gate-kube.js';

export const STALE_AFTER_INTERVALS = 3;

export interface FleetWatchOptions {
  api: Pick<GateKubeApi, 'listLeases' | 'listNodes'>;
  namespace: string;
  intervalMs: number;
  clock: Clock;
  logger: Logger;
}

export interface FleetSnapshot {
  fleet: readonly FleetNode[];
  /** When the last successful list finished; undefined before the first. */
  listedAt?: number;
  /** The last list's failure, cleared by the next success. */
  error?: string;
}

export class FleetWatch {
  private current: FleetSnapshot = { fleet: [] };
  private timer: unknown;
  private stopped = false;
  private readonly listeners = new Set<(snapshot: FleetSnapshot) => Promise<void> | void>();
  /** The lists in order: a refresh asked for during a list runs after it, never joins it. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: FleetWatchOptions) {}

  get snapshot(): FleetSnapshot {
    return this.current;
  }

  stale(now: number): boolean {
    const { listedAt } = this.current;
    return (
      listedAt === undefined || now - listedAt > STALE_AFTER_INTERVALS * this.options.intervalMs
    );
  }

  /**
   * Called after every list, successful or not; the next list waits for what it returns, so
   * that what a round writes is in the next list, never raced by it.
   */
  onUpdate(listener: (snapshot: FleetSnapshot) => Promise<void> | void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.options.clock.clearTimeout(this.timer);
    await this.queue;
  }

  /** Lists now (after any list in flight); resolves once the listeners are done. */
  refresh(): Promise<void> {
    this.queue = this.queue.then(() => this.list());
    return this.queue;
  }

  private async tick(): Promise<void> {
    await this.refresh();
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => void this.tick(), this.options.intervalMs);
  }

  private async list(): Promise<void> {
    const { api, namespace, clock, logger } = this.options;
    try {
      const [leases, nodes] = await Promise.all([api.listLeases(namespace), api.listNodes()]);
      this.current = { fleet: fleetFrom(leases, nodes), listedAt: clock.now() };
    } catch (err) {
      const error = errorMessage(err);
      if (this.current.error !== error) logger.warn({ err: error }, 'cannot list the fleet');
      this.current = { ...this.current, error };
    }
    for (const listener of [...this.listeners]) {
      try {
        await listener(this.current);
      } catch (err) {
        logger.error({ err: errorMessage(err) }, 'fleet listener failed');
      }
    }
  }
}
