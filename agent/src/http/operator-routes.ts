import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OperatorCredential } from '../operator/credential.js';
import type { OverrideKind, OverrideSet } from '../operator/overrides.js';

export interface OperatorActions {
  /** Resolves a slot given by key, name, bot id or index to its name; undefined when unknown. */
  slotName(wanted: string): string | undefined;
  knownSlots(): string[];
  setOverride(
    kind: OverrideKind,
    slotName: string | undefined,
    reason: string | undefined,
  ): Promise<void>;
  /** What now applies, per slot name. */
  effective(): Record<string, OverrideSet>;
}

interface OverrideBody {
  kind: OverrideKind;
  slot?: string;
  /** A reason sets the override; null clears it. */
  reason: string | null;
}

const overrideSchema = {
  type: 'object',
  required: ['kind', 'reason'],
  additionalProperties: false,
  properties: {
    kind: { enum: ['maintenance', 'quarantine'] },
    slot: { type: 'string', minLength: 1, maxLength: 256 },
    reason: { anyOf: [{ type: 'string', minLength: 1, maxLength: 1024 }, { type: 'null' }] },
  },
};

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

/** An onRequest hook for operator commands. */
export type OperatorGuard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Operator commands answer only callers on the node itself (the cluster
 * listener is reachable from the lab network through hostNetwork; people
 * elsewhere use the Node annotations) that also present the credential only
 * root can read (`kubectl exec ... farm-agent`), which the bots' tasks, on the
 * same node, cannot.
 */
export function operatorOnly(credential: OperatorCredential): OperatorGuard {
  return async (request, reply) => {
    if (!isLoopback(request.ip)) {
      await reply.code(403).send({
        error: 'operator commands are accepted from the node itself only (kubectl exec)',
      });
    } else if (!credential.accepts(request.headers.authorization)) {
      await reply.code(401).send({
        error: `operator commands need the credential in ${credential.path}, readable by root only: run farm-agent as root in the agent's container (kubectl exec)`,
      });
    }
  };
}

/** Operator commands, for `farm-agent maintenance|quarantine` run through `kubectl exec`. */
export function operatorRoutes(actions: OperatorActions, guard: OperatorGuard) {
  return async (app: FastifyInstance): Promise<void> => {
    app.addHook('onRequest', guard);
    app.get('/operator/overrides', async () => actions.effective());
    app.post<{ Body: OverrideBody }>(
      '/operator/override',
      { schema: { body: overrideSchema } },
      async (request, reply) => {
        const { kind, slot, reason } = request.body;
        const name = slot === undefined ? undefined : actions.slotName(slot);
        if (slot !== undefined && name === undefined) {
          const known = actions.knownSlots().join(', ') || 'none';
          return reply.code(404).send({ error: `no slot "${slot}" (known: ${known})` });
        }
        await actions.setOverride(kind, name, reason ?? undefined);
        return actions.effective();
      },
    );
  };
}
