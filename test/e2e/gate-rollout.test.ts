/**
 * Updates that never kill a task, against the strict fake API: the gate replaces the agent pods
 * of an OnDelete DaemonSet one node at a time, idle nodes first, only once the node is drained
 * and reports no task, and goes on past the maximum wait with a Warning Event. And the guard on
 * what changes state: TokenReview then SubjectAccessReview, as kube-rbac-proxy.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotSlot } from '../../agent/src/cluster/cluster-model.js';
import type { FakeKube, KubeObject } from '../rigs/fake-kube/index.js';
import { NAMESPACE, startGateRig, type GateRig } from '../rigs/gate-rig.js';
import type { Cleanups } from '../rigs/sleeping-node.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const SELECTOR = { 'app.kubernetes.io/name': 'farm-agent' };

function phone(state: string): SnapshotSlot {
  return { name: 'usb-1-1', key: 'usb:1-1', botId: 'bot', state, deviceType: 'sargo' };
}

/** The DaemonSet with its two revisions (new is current), as the DaemonSet controller keeps them. */
function daemonSet(kube: FakeKube): string {
  const ds = kube.put(
    'daemonsets',
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'farm-agent', labels: SELECTOR },
      spec: { selector: { matchLabels: SELECTOR }, updateStrategy: { type: 'OnDelete' } },
    },
    NAMESPACE,
  );
  const uid = String(ds.metadata?.uid);
  for (const [hash, revision] of [
    ['old', 1],
    ['new', 2],
  ] as const) {
    kube.put(
      'controllerrevisions',
      {
        metadata: {
          name: `farm-agent-${hash}`,
          labels: { ...SELECTOR, 'controller-revision-hash': hash },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'farm-agent', uid }],
        },
        revision,
      },
      NAMESPACE,
    );
  }
  return uid;
}

function agentPod(kube: FakeKube, name: string, node: string, hash: string): KubeObject {
  return kube.put(
    'pods',
    {
      metadata: { name, labels: { ...SELECTOR, 'controller-revision-hash': hash } },
      spec: { nodeName: node },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    },
    NAMESPACE,
  );
}

const maintenance = (rig: GateRig, node: string) =>
  (rig.kube.get('nodes', node)?.metadata?.annotations as Record<string, string> | undefined)?.[
    'farm-agent.io/maintenance'
  ];
const pods = (rig: GateRig) => rig.kube.list('pods', NAMESPACE).map((p) => p.metadata?.name);
const events = (rig: GateRig) =>
  rig.kube
    .list('events', 'default')
    .sort((a, b) => Number(a.metadata?.resourceVersion) - Number(b.metadata?.resourceVersion))
    .map(
      (e) =>
        `${String(e.type)} ${String(e.reason)} ${String((e.regarding as { name: string }).name)}`,
    );

describe('farm gate: updates that never kill a task', () => {
  it('drains, waits for no task, replaces, lifts the drain; one node at a time, idle first', async () => {
    const rig = await startGateRig(cleanups, {
      FARM_GATE_DAEMONSET: 'farm-agent',
      FARM_GATE_ROLLOUT_MAX_WAIT: '10m',
    });
    daemonSet(rig.kube);
    agentPod(rig.kube, 'agent-a', 'pi-1', 'old');
    agentPod(rig.kube, 'agent-b', 'pi-2', 'old');
    rig.agentReports({ node: 'pi-1', lifecycle: {}, slots: [phone('busy')] }, 'agent-a');
    rig.agentReports({ node: 'pi-2', lifecycle: {}, slots: [phone('ready')] }, 'agent-b');
    await rig.relist();
    // pi-2 runs no task: it goes first, drained by a node-wide maintenance.
    expect(maintenance(rig, 'pi-2')).toBe('farm gate: updating farm-agent to revision new');
    expect(maintenance(rig, 'pi-1')).toBeUndefined();
    // Its agent has not applied the maintenance yet (still ready): nothing is deleted.
    await rig.relist();
    expect(pods(rig)).toEqual(['agent-a', 'agent-b']);
    // The agent reports the drain: the pod goes, and only that one.
    await rig.clock.advance(5_000);
    rig.agentReports({ node: 'pi-2', lifecycle: {}, slots: [phone('maintenance')] }, 'agent-b');
    await rig.relist();
    expect(pods(rig)).toEqual(['agent-a']);
    const deletion = rig.kube.requests.find((r) => r.method === 'DELETE');
    expect(deletion?.body).toMatchObject({ preconditions: { uid: expect.any(String) as unknown } });
    // The DaemonSet controller's new pod is ready; the drain stays until the new agent reports.
    agentPod(rig.kube, 'agent-c', 'pi-2', 'new');
    await rig.relist();
    expect(maintenance(rig, 'pi-2')).toBeDefined();
    rig.agentReports({ node: 'pi-2', lifecycle: {}, slots: [phone('maintenance')] }, 'agent-c');
    await rig.relist();
    expect(maintenance(rig, 'pi-2')).toBeUndefined();
    // Next: pi-1, whose task still runs. Drained, but its pod stays while the task runs...
    await rig.relist();
    expect(maintenance(rig, 'pi-1')).toBeDefined();
    // Drained, its slot says maintenance: only the task flag tells the task still runs.
    const drainedBusy = { ...phone('maintenance'), taskRunning: true };
    await rig.clock.advance(9 * 60_000);
    rig.agentReports({ node: 'pi-1', lifecycle: {}, slots: [drainedBusy] }, 'agent-a');
    await rig.relist();
    expect(pods(rig)).toContain('agent-a');
    // ...until the maximum wait, when it goes anyway and says so.
    await rig.clock.advance(61_000);
    rig.agentReports({ node: 'pi-1', lifecycle: {}, slots: [drainedBusy] }, 'agent-a');
    await rig.relist();
    expect(pods(rig)).not.toContain('agent-a');
    expect(events(rig)).toEqual([
      'Normal Draining pi-2',
      'Normal Replacing pi-2',
      'Normal Replaced pi-2',
      'Normal Draining pi-1',
      'Warning RolloutProceeded pi-1',
    ]);
    const proceeded = rig.kube.list('events', 'default').find((e) => e.type === 'Warning');
    expect(proceeded?.note).toMatch(/^agent-a deleted after waiting 10 min for pi-1/);
    // Every write the gate made to a Node was its maintenance annotation, nothing else.
    for (const r of rig.kube.requests.filter((q) => q.method === 'PATCH')) {
      expect(
        Object.keys((r.body as { metadata: { annotations: object } }).metadata.annotations),
      ).toEqual(['farm-agent.io/maintenance']);
    }
  });

  it('pausing needs a Kubernetes identity allowed to update the DaemonSet', async () => {
    const rig = await startGateRig(cleanups, { FARM_GATE_DAEMONSET: 'farm-agent' });
    rig.kube.identify('alice-token', { username: 'alice', groups: ['lab'] });
    rig.kube.identify('bob-token', { username: 'bob', groups: ['farm-admins'] });
    rig.kube.grant({
      group: 'farm-admins',
      verb: 'update',
      apiGroup: 'apps',
      resource: 'daemonsets',
      namespace: NAMESPACE,
    });
    const pause = (token?: string) =>
      fetch(`${rig.url}/rollout?paused=true`, {
        method: 'POST',
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Record<string, unknown>,
      }));
    expect(await pause()).toMatchObject({ status: 401 });
    expect(await pause('nobody')).toMatchObject({
      status: 401,
      body: { error: 'the Kubernetes API does not know this token' },
    });
    expect(await pause('alice-token')).toEqual({
      status: 403,
      body: { error: 'alice may not update daemonsets/farm-agent' },
    });
    expect(await pause('bob-token')).toMatchObject({ status: 200, body: { paused: true } });
    // As kube-rbac-proxy: who (TokenReview), then may they (SubjectAccessReview) for the DaemonSet.
    const review = rig.kube.requests.find(
      (r) =>
        r.path === '/apis/authorization.k8s.io/v1/subjectaccessreviews' &&
        (r.body as { spec: { user: string } }).spec.user === 'bob',
    );
    expect((review?.body as { spec: unknown }).spec).toEqual({
      user: 'bob',
      groups: ['farm-admins'],
      resourceAttributes: {
        verb: 'update',
        group: 'apps',
        resource: 'daemonsets',
        namespace: NAMESPACE,
        name: 'farm-agent',
      },
    });
    // Answers are cached: a second call costs no review.
    const reviews = rig.kube.requests.length;
    expect(await pause('bob-token')).toMatchObject({ status: 200 });
    expect(rig.kube.requests.length).toBe(reviews);
    // Reading and waking need nothing.
    expect((await fetch(`${rig.url}/status`)).status).toBe(200);
    // Paused: no round reads or touches anything of the DaemonSet.
    daemonSet(rig.kube);
    agentPod(rig.kube, 'agent-a', 'pi-1', 'old');
    const paused = rig.kube.requests.length;
    await rig.relist();
    expect(rig.kube.requests.slice(paused).map((r) => r.path)).toEqual([
      '/apis/coordination.k8s.io/v1/namespaces/farm/leases',
      '/api/v1/nodes',
    ]);
  });
});
