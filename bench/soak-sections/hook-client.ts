/**
 * Raw HTTP to the agent's listeners, with full control of method, headers and body bytes
 * (fetch would refuse or rewrite some of what the hostile probe sends), and a bounded pool.
 * Every request has a connection of its own, as the shim's urllib calls do: nothing of ours
 * stays open to count among the agent's fds, and no answer that closes its connection (a 413)
 * can break the next request on a reused one.
 */
import { request } from 'node:http';

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

/** An HTTP status, or what happened instead: the connection reset, or no answer in time. */
export type Outcome = number | 'reset' | 'timeout';

export interface Answer {
  status: Outcome;
  body: string;
}

/** One request to `base` (http://127.0.0.1:port); never throws. */
export function send(base: string, req: RawRequest, timeoutMs = 15_000): Promise<Answer> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: Answer): void => {
      if (settled) return;
      settled = true;
      resolve(answer);
    };
    const url = new URL(req.path, base);
    const outgoing = request(
      url,
      { method: req.method ?? 'POST', headers: req.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', () => done({ status: res.statusCode ?? 'reset', body: '' }));
      },
    );
    outgoing.setTimeout(timeoutMs, () => {
      done({ status: 'timeout', body: '' });
      outgoing.destroy();
    });
    // A server that answers 413 before reading a large body may close while we still write.
    outgoing.on('error', () => done({ status: 'reset', body: '' }));
    outgoing.end(req.body);
  });
}

/** Runs `work` on every item, at most `concurrency` at a time. */
export async function inPool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Status counts, e.g. { '200': 812, '400': 3021, reset: 0 }. */
export class Tally {
  readonly byOutcome = new Map<string, number>();
  /** Probe names that met each outcome class (5xx, reset, timeout), to name the culprits. */
  readonly culprits = new Map<string, Set<string>>();

  add(probe: string, outcome: Outcome | 'reset, body over the limit'): void {
    const key = String(outcome);
    this.byOutcome.set(key, (this.byOutcome.get(key) ?? 0) + 1);
    const kind = typeof outcome === 'number' ? `${Math.floor(outcome / 100)}xx` : outcome;
    if (kind === '5xx' || kind === 'reset' || kind === 'timeout') {
      const names = this.culprits.get(kind) ?? new Set<string>();
      names.add(probe);
      this.culprits.set(kind, names);
    }
  }

  count(test: (outcome: string) => boolean): number {
    let n = 0;
    for (const [k, v] of this.byOutcome) if (test(k)) n += v;
    return n;
  }

  get total(): number {
    return this.count(() => true);
  }
}

export interface SlotView {
  serial: string;
  state: string;
}

export interface StatusView {
  slots: SlotView[];
  devices: { adbServer?: { pid?: number } };
  cluster: { reachable: boolean };
}

/** GET /status on a connection of its own (fetch would keep one open in the agent). */
export async function getStatus(httpUrl: string): Promise<StatusView> {
  const answer = await send(httpUrl, { method: 'GET', path: '/status' }, 5000);
  if (answer.status !== 200) throw new Error(`/status: ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body) as StatusView;
}
