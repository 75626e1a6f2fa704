/**
 * The gate's calls to one node's agent, at the address the agent publishes in its Lease: its
 * open `/wake` (as the emulator's gate woke its deployment) and its `/lifecycle` view to poll a
 * phone until it is ready.
 */
import { isRecord } from '@farm-agent/bot-config/lib';
import type { LifecycleSlotView } from '../http/wake-routes.js';

export const AGENT_TIMEOUT_MS = 15_000;

export interface AgentWake {
  /** Keys of the slots that were asleep and woke. */
  woke: string[];
  ready: boolean;
}

async function agentJson(url: string, init: RequestInit): Promise<unknown> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(AGENT_TIMEOUT_MS) });
  const body = (await res.json().catch(() => undefined)) as unknown;
  if (!res.ok) {
    const why = isRecord(body) && typeof body.error === 'string' ? body.error : res.statusText;
    throw new Error(`${url}: ${res.status} ${why}`);
  }
  return body;
}

export async function wakeOnAgent(address: string, slot: string): Promise<AgentWake> {
  const body = await agentJson(`http://${address}/wake?slot=${encodeURIComponent(slot)}`, {
    method: 'POST',
  });
  if (!isRecord(body) || !Array.isArray(body.woke) || typeof body.ready !== 'boolean') {
    throw new Error(`http://${address}/wake: not a wake answer`);
  }
  return { woke: body.woke.map(String), ready: body.ready };
}

/** The slot as the agent's wake page sees it now; undefined when the agent does not know it. */
export async function slotOnAgent(
  address: string,
  slot: string,
): Promise<LifecycleSlotView | undefined> {
  const body = await agentJson(`http://${address}/lifecycle`, { method: 'GET' });
  const slots = isRecord(body) && Array.isArray(body.slots) ? body.slots : [];
  return slots.find((s): s is LifecycleSlotView => isRecord(s) && s.name === slot);
}
