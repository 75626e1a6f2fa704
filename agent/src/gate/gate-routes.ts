/**
 * The gate's HTTP routes. Open: `GET /` (the page), `GET /status` (the whole farm as JSON, built
 * once per list), `GET /phones` (the page's table), `GET|POST /wake?<dimensions>` (choose, wake,
 * answer; a browser gets the waking page), `GET /wake/status?node=&slot=`, `GET /healthz`.
 * Guarded by a Kubernetes identity (review-guard.ts): `POST /rollout?paused=true|false`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Guard } from './review-guard.js';
import { FLEET_PAGE } from './fleet-page.js';
import { parseDimensionQuery } from './phone-choice.js';
import { parseTableQuery, type TablePage } from './phone-table.js';
import { problemPage, wakingPage } from './waking-page.js';

/** What a /wake answers; `error` with a status code when it cannot. */
export type WakeOutcome =
  | { status: 200; answer: WakeAnswer }
  | { status: 400 | 404 | 502 | 503; error: string; [extra: string]: unknown };

export interface WakeAnswer {
  node: string;
  slot: string;
  serial: string | null;
  model: string | null;
  /** `host:port` of the node's adb server; with `serial`, `adb -H host -P port -s serial`. */
  adb: string | null;
  ready: boolean;
  woke: boolean;
  state: string;
  reason?: string;
}

export interface GateActions {
  /** True while the gate's view is too old to act on. */
  healthy(): { ok: boolean; error?: string };
  /** The /status body, already serialised. */
  statusJson(): string;
  table(query: Exclude<ReturnType<typeof parseTableQuery>, { error: string }>): TablePage & {
    states: Record<string, number>;
    nodes: number;
    stale: boolean;
    error?: string;
  };
  wake(dimensions: Record<string, string[]>): Promise<WakeOutcome>;
  phoneStatus(node: string, slot: string): Promise<WakeOutcome>;
  setRolloutPaused(paused: boolean): Record<string, unknown>;
}

function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html');
}

function query(request: FastifyRequest): URLSearchParams {
  return new URL(request.url, 'http://gate').searchParams;
}

async function send(
  request: FastifyRequest,
  reply: FastifyReply,
  outcome: WakeOutcome,
  page: (answer: WakeAnswer) => string,
): Promise<FastifyReply> {
  reply.header('cache-control', 'no-store');
  if (outcome.status === 503) reply.header('retry-after', '10');
  if (!wantsHtml(request)) {
    return reply.code(outcome.status).send(outcome.status === 200 ? outcome.answer : outcome);
  }
  if (outcome.status === 200)
    return reply.type('text/html; charset=utf-8').send(page(outcome.answer));
  const { status, error, ...extra } = outcome;
  const lines = Object.entries(extra).map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  return reply.code(status).type('text/html; charset=utf-8').send(problemPage(error, lines));
}

export function gateRoutes(actions: GateActions, guard: Guard) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/healthz', async (_request, reply) => {
      const health = actions.healthy();
      return reply.code(health.ok ? 200 : 503).send(health);
    });
    app.get('/status', async (_request, reply) =>
      reply
        .type('application/json; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(actions.statusJson()),
    );
    app.get('/phones', async (request, reply) => {
      const parsed = parseTableQuery(query(request));
      if ('error' in parsed) return reply.code(400).send(parsed);
      return reply.header('cache-control', 'no-store').send(actions.table(parsed));
    });
    app.get('/', async (_request, reply) =>
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(FLEET_PAGE),
    );
    const wake = async (request: FastifyRequest, reply: FastifyReply) => {
      const parsed = parseDimensionQuery(query(request).entries());
      const outcome: WakeOutcome =
        'error' in parsed
          ? { status: 400, error: parsed.error }
          : await actions.wake(parsed.dimensions);
      return send(request, reply, outcome, (answer) => wakingPage({ ...answer }));
    };
    // GET as well as POST, as the emulator's gate: tools and bookmarks use GET.
    app.get('/wake', wake);
    app.post('/wake', wake);
    app.get('/wake/status', async (request, reply) => {
      const params = query(request);
      const node = params.get('node');
      const slot = params.get('slot');
      const outcome: WakeOutcome =
        node === null ||
        slot === null ||
        [...params.keys()].some((k) => k !== 'node' && k !== 'slot')
          ? { status: 400, error: 'give exactly node and slot' }
          : await actions.phoneStatus(node, slot);
      return send(request, reply, outcome, (answer) => wakingPage({ ...answer }));
    });
    app.post('/rollout', { onRequest: guard }, async (request, reply) => {
      const paused = query(request).get('paused');
      if (paused !== 'true' && paused !== 'false') {
        return reply.code(400).send({ error: 'paused must be true or false' });
      }
      return actions.setRolloutPaused(paused === 'true');
    });
  };
}
