import type { OperatorGuard } from './operator-routes.js';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Slot } from '../devices/slot-state.js';
import { UnknownSlotError } from '../devices/slot-ref.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import type { LifecycleSlot } from '../lifecycle/lifecycle-types.js';
import { WAKE_PAGE } from './wake-page.js';

export interface WakeRoutesOptions {
  lifecycle: Lifecycle;
  /** Guards POST /sleep. */
  operatorOnly: OperatorGuard;
}

/** One slot as the wake page shows it. */
export interface LifecycleSlotView {
  slot: string;
  name: string;
  botId: string;
  /** `ro.product.model`, or the device type when the properties are not known. */
  model: string | null;
  serial: string | null;
  /** The slot's health, except `waking` (powered on, not back yet). */
  state: string;
  reason: string | null;
  asleep: boolean;
  idleChecks: number;
  ready: boolean;
  batteryPercent: number | null;
  /** On a power source (USB, AC, ...), whether or not it is charging now. */
  plugged: boolean;
  temperatureC: number | null;
}

export interface LifecycleView {
  /** Every slot is awake and ready (or running a task). */
  ready: boolean;
  slots: LifecycleSlotView[];
}

export function lifecycleView(slots: LifecycleSlot[]): LifecycleView {
  return {
    ready: slots.every((s) => s.ready),
    slots: slots.map(({ slot, asleep, idleChecks, ready }) => ({
      slot: slot.key,
      name: slot.name,
      botId: slot.botId,
      model: slot.props?.get('ro.product.model') ?? slot.deviceTypes[0] ?? null,
      serial: slot.serial ?? null,
      ...stateOf(slot, asleep),
      asleep,
      idleChecks,
      ready,
      batteryPercent: slot.battery?.percent ?? null,
      plugged: (slot.battery?.plugged.length ?? 0) > 0,
      temperatureC: slot.temperatureC ?? null,
    })),
  };
}

function stateOf(slot: Slot, asleep: boolean): { state: string; reason: string | null } {
  // Health still says asleep for a port powered on whose phone is not back in adb yet.
  if (!asleep && slot.health.state === 'asleep') {
    return { state: 'waking', reason: 'Powered on; waiting for the phone to show in adb' };
  }
  return { state: slot.health.state, reason: slot.health.reason ?? null };
}

const SLOT_QUERY = {
  querystring: {
    type: 'object',
    properties: { slot: { type: 'string', minLength: 1 } },
    additionalProperties: false,
  },
} as const;

/**
 * The emulator gate's routes for phones, on the cluster listener:
 * `GET|POST /wake[?slot=]` → `{woke, ready}`, `POST /sleep[?slot=]`,
 * `GET /lifecycle` (per-slot JSON) and `GET /` (the page for people).
 * `slot` is a slot key, name, bot id or index (see devices/slot-ref.ts); an unknown one is a 404 naming the known ones.
 */
export const wakeRoutes: FastifyPluginAsync<WakeRoutesOptions> = async (
  app,
  { lifecycle, operatorOnly },
) => {
  const bySlot = async <T>(reply: FastifyReply, work: () => Promise<T>) => {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof UnknownSlotError)) throw error;
      return reply.code(404).send({ error: error.message, known: error.known });
    }
  };
  const wake = async (request: { query: { slot?: string } }, reply: FastifyReply) =>
    bySlot(reply, () => lifecycle.wake(request.query.slot));
  // GET as well as POST: the emulator's agents and people's bookmarks used GET /wake.
  app.get<{ Querystring: { slot?: string } }>('/wake', { schema: SLOT_QUERY }, wake);
  app.post<{ Querystring: { slot?: string } }>('/wake', { schema: SLOT_QUERY }, wake);
  // Waking is for anyone (a task is coming); putting phones to sleep is an operator command.
  app.post<{ Querystring: { slot?: string } }>(
    '/sleep',
    { schema: SLOT_QUERY, onRequest: operatorOnly },
    (request, reply) => bySlot(reply, () => lifecycle.sleep(request.query.slot)),
  );
  app.get('/lifecycle', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return lifecycleView(lifecycle.slots());
  });
  app.get('/', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(WAKE_PAGE),
  );
};
