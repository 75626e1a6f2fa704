/** Assembles the rigs the way the e2e tests do: the real agent, fake phones, the fake API. */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgentProcess, type AgentProcess } from '../test/rigs/agent-process.js';
import { startFakeKube, type FakeKube } from '../test/rigs/fake-kube/index.js';
import { writeKubeconfig } from '../test/rigs/fake-kube/kubeconfig.js';
import { pollUntil, ROOT } from './lib.js';

export const NODE = 'bench-pi';
export const HEAP_PROBE = join(ROOT, 'bench', 'heap-probe.mjs');

export interface Cluster {
  kube: FakeKube;
  kubeconfig: string;
  leaseName: string;
}

/** The strict fake API with this node's Node object, and a kubeconfig pointing at it. */
export async function startCluster(): Promise<Cluster> {
  const kube = await startFakeKube({});
  kube.put('nodes', { metadata: { name: NODE, labels: { 'kubernetes.io/arch': 'arm64' } } });
  const dir = await mkdtemp(join(tmpdir(), 'bench-kube-'));
  const kubeconfig = writeKubeconfig(kube, dir);
  return { kube, kubeconfig, leaseName: `farm-agent-${NODE}` };
}

/** Slots of the Lease's inventory annotation, as the cluster sees them. */
export function leaseSlots(cluster: Cluster): { name: string; state: string }[] | undefined {
  const lease = cluster.kube.get('leases', cluster.leaseName, 'farm');
  const text = (lease?.metadata?.annotations as Record<string, string> | undefined)?.[
    'farm-agent.io/inventory'
  ];
  return text === undefined ? undefined : (JSON.parse(text) as { slots: [] }).slots;
}

export interface StatusSlot {
  slot: string;
  name: string;
  botId: string;
  serial: string;
  state: string;
  reason?: string;
}

export async function statusSlots(agent: AgentProcess): Promise<StatusSlot[]> {
  return ((await agent.getJson('/status')) as { slots: StatusSlot[] }).slots;
}

/** Runs the agent quietly (info log), with the heap probe preloaded and the given settings. */
export function startAgent(env: Record<string, string>, heapFile?: string): Promise<AgentProcess> {
  return startAgentProcess({
    FARM_NODE_NAME: NODE,
    FARM_POD_NAME: 'farm-agent-bench',
    FARM_NAMESPACE: 'farm',
    FARM_LOG_LEVEL: 'info',
    ...(heapFile === undefined
      ? {}
      : {
          NODE_OPTIONS: `--expose-gc --import=${HEAP_PROBE}`,
          BENCH_HEAP_FILE: heapFile,
        }),
    ...env,
  });
}

/** GCs the agent twice (the preloaded probe) and returns its memory usage. */
export async function heapAfterGc(
  agent: AgentProcess,
  file: string,
): Promise<{ heapUsed: number; rss: number }> {
  const before = Date.now();
  agent.child.kill('SIGUSR2');
  const { value } = await pollUntil(
    'heap probe',
    async () => {
      const m = JSON.parse(await readFile(file, 'utf8')) as {
        at: number;
        heapUsed: number;
        rss: number;
      };
      return m.at >= before ? m : undefined;
    },
    10_000,
    20,
  );
  return value;
}

/** Waits until /status lists `count` slots, all in `state`. */
export async function waitForSlots(
  agent: AgentProcess,
  count: number,
  state = 'ready',
  timeoutMs = 60_000,
): Promise<StatusSlot[]> {
  const { value } = await pollUntil(
    `${count} slots ${state}`,
    async () => {
      const slots = await statusSlots(agent);
      return slots.length === count && slots.every((s) => s.state === state) ? slots : undefined;
    },
    timeoutMs,
    100,
  );
  return value;
}

/** One hook call as the bot's shim makes it (POST JSON, the bot id in a header). */
export async function callHook(
  agent: AgentProcess,
  hook: string,
  botId: string,
  body: unknown = {},
): Promise<Record<string, unknown>> {
  const response = await fetch(`${agent.hookUrl}/${hook}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-farm-bot-id': botId },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${hook}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}
