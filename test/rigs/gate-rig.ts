/**
 * A farm gate in process against the strict fake API: Nodes and agent Leases written as the
 * agent's own code writes them (clusterSnapshot → leaseBody), a manual clock for the lists and
 * rounds, and a real HTTP listener. Nodes can have a real agent behind them (sleeping-node.ts)
 * or an address nobody answers at.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { ClusterSnapshot } from '../../agent/src/cluster/cluster-model.js';
import { loadKubeConfig } from '../../agent/src/cluster/kube-config.js';
import { clusterSnapshot } from '../../agent/src/cluster/snapshot.js';
import { leaseBody } from '../../agent/src/cluster/lease-writer.js';
import { loadConfig } from '../../agent/src/config/load.js';
import { FarmGate } from '../../agent/src/gate/gate.js';
import { GateKubeApi } from '../../agent/src/gate/gate-kube.js';
import { startFakeKube, type FakeKube } from './fake-kube/index.js';
import { writeKubeconfig } from './fake-kube/kubeconfig.js';
import { ManualClock } from './manual-clock.js';
import { freePort } from './ports.js';
import type { Cleanups, startSleepingNode } from './sleeping-node.js';

export const NAMESPACE = 'farm';

export interface GateRig {
  kube: FakeKube;
  gate: FarmGate;
  clock: ManualClock;
  url: string;
  /** Writes (or renews) a node's Lease as its agent would, with its Node if missing. */
  agentReports(snapshot: ClusterSnapshot, holder?: string): void;
  /** A list and the rounds after it. */
  relist(): Promise<void>;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: unknown }>;
}

export async function startGateRig(
  cleanups: Cleanups,
  env: Record<string, string> = {},
): Promise<GateRig> {
  const kube = await startFakeKube();
  cleanups.push(() => kube.close());
  const dir = await mkdtemp(join(tmpdir(), 'gate-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const { config } = loadConfig(
    {
      FARM_HTTP_HOST: '127.0.0.1',
      FARM_HTTP_PORT: String(port),
      FARM_NAMESPACE: NAMESPACE,
      FARM_POD_NAME: 'farm-gate-0',
      FARM_GATE_DAEMONSET: 'none',
      ...env,
    },
    { hostname: 'gate-test', home: dir },
  );
  const loaded = loadKubeConfig({ kubeconfigPath: writeKubeconfig(kube, dir), env: {} });
  if (loaded.connection === undefined) throw new Error(loaded.reason);
  const api = new GateKubeApi(loaded.connection);
  cleanups.push(async () => api.close());
  const clock = new ManualClock(Date.now());
  const gate = new FarmGate({ config, logger: pino({ level: 'silent' }), api, clock });
  const leases = new Map<string, ReturnType<typeof leaseBody>>();
  const rig: GateRig = {
    kube,
    gate,
    clock,
    url: `http://127.0.0.1:${port}`,
    agentReports(snapshot, holder = `farm-agent-${snapshot.node}`) {
      const name = `farm-agent-${snapshot.node}`;
      const body = leaseBody(
        { name, holder, durationSeconds: 40 },
        snapshot,
        clock.now(),
        leases.get(name),
      );
      const stored = kube.put('leases', JSON.parse(JSON.stringify(body)), NAMESPACE);
      leases.set(name, stored as ReturnType<typeof leaseBody>);
      if (kube.get('nodes', snapshot.node) === undefined) {
        kube.put('nodes', {
          metadata: { name: snapshot.node, labels: { 'farm-agent.io/phones-host': 'true' } },
          status: { conditions: [{ type: 'Ready', status: 'True' }] },
        });
      }
    },
    relist: () => gate.fleet.refresh(),
    async get(path, headers = {}) {
      const res = await fetch(`${rig.url}${path}`, { headers });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // HTML
      }
      return { status: res.status, body };
    },
  };
  await gate.start();
  cleanups.push(() => gate.stop());
  await gate.fleet.refresh();
  return rig;
}

/** The Lease of a node whose agent is real (sleeping-node.ts): its own slots and lifecycle. */
export function reportRealNode(
  rig: GateRig,
  name: string,
  node: Awaited<ReturnType<typeof startSleepingNode>>,
): void {
  rig.agentReports(
    clusterSnapshot(name, node.manager.slots(), node.lifecycle.snapshot(), undefined, node.address),
  );
}
