/**
 * Every Kubernetes call the reporter makes passes through here once: counted by verb, resource
 * and code (farm_kube_requests_total, reads and writes for /status), and taken as the evidence of
 * whether the API is reachable (farm_kube_reachable).
 */
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { normaliseError, serverAway } from './kube-errors.js';

/** `create` answers 201, everything else the reporter does 200. */
const SUCCESS_CODE: Record<string, string> = { create: '201' };

export interface RequestStats {
  /** The API answered the last request (false until the first answer). */
  reachable: boolean;
  lastError?: string;
  writes: number;
  reads: number;
}

export class KubeRequests {
  private readonly requests: Counter<'verb' | 'resource' | 'code'>;
  private readonly reachableGauge: Gauge;
  private reachable = false;
  private lastError: string | undefined;
  private writes = 0;
  private reads = 0;

  /** `onBack` runs when the API answers again after being unreachable. */
  constructor(
    registry: Registry,
    private readonly logger: Logger,
    private readonly onBack: () => void,
  ) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'farm_kube_requests_total',
      help: 'Kubernetes API requests by verb, resource and HTTP status (or transport error).',
      labelNames: ['verb', 'resource', 'code'],
      registers,
    });
    this.reachableGauge = new Gauge({
      name: 'farm_kube_reachable',
      help: '1 when the Kubernetes API answered the last request.',
      registers,
    });
    this.reachableGauge.set(0);
  }

  /** One API call: counted, and deciding whether the API is reachable. Rethrows normalised. */
  async request<T>(verb: string, resource: string, fn: () => Promise<T>): Promise<T> {
    if (verb === 'get') this.reads += 1;
    else this.writes += 1;
    try {
      const result = await fn();
      this.requests.inc({ verb, resource, code: SUCCESS_CODE[verb] ?? '200' });
      this.setReachable(true);
      return result;
    } catch (e) {
      const err = normaliseError(e);
      this.requests.inc({
        verb,
        resource,
        code: err.status === undefined ? err.reason : String(err.status),
      });
      this.lastError = `${verb} ${resource}: ${err.reason}: ${err.message}`;
      // A 4xx is an answer: the server is there, the request was wrong (or a Conflict).
      this.setReachable(!serverAway(err));
      throw err;
    }
  }

  stats(): RequestStats {
    return {
      reachable: this.reachable,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      writes: this.writes,
      reads: this.reads,
    };
  }

  private setReachable(reachable: boolean): void {
    if (reachable === this.reachable) return;
    this.reachable = reachable;
    this.reachableGauge.set(reachable ? 1 : 0);
    if (reachable) {
      this.logger.info('Kubernetes API reachable');
      this.onBack();
    } else {
      this.logger.warn(
        { lastError: this.lastError },
        'Kubernetes API unreachable; retrying with backoff',
      );
    }
  }
}
