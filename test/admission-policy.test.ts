/**
 * The ValidatingAdmissionPolicy in daemonset/base, evaluated here the way the
 * API server does (match conditions, then variables in order, then every
 * validation) by an independent CEL implementation, against Node updates the
 * agent makes and ones a compromised agent might try.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Environment } from '@marcbachmann/cel-js';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

interface Expression {
  name?: string;
  expression: string;
  message?: string;
  messageExpression?: string;
}
interface Policy {
  kind: string;
  spec: {
    matchConstraints: {
      resourceRules: { apiGroups: string[]; operations: string[]; resources: string[] }[];
    };
    matchConditions: Expression[];
    variables: Expression[];
    validations: Expression[];
  };
}
type Json = Record<string, unknown>;

const FILE = path.resolve(import.meta.dirname, '../daemonset/base/admission-policy.yaml');
const load = (text: string): Policy =>
  parseAllDocuments(text, { version: '1.1' })
    .map((d) => d.toJS() as Policy)
    .find((o) => o.kind === 'ValidatingAdmissionPolicy') as Policy;
const POLICY = load(readFileSync(FILE, 'utf8'));

const env = new Environment({ unlistedVariablesAreDyn: true });

interface Request {
  username?: string;
  /** The node name bound into the token; null: a token without it (before 1.30). */
  tokenNode?: string | null;
  subResource?: '' | 'status';
  operation?: string;
}

/** Undefined when the policy does not apply; else the messages of the failed validations. */
function admit(
  policy: Policy,
  oldObject: Json,
  object: Json,
  { username = 'system:serviceaccount:farm:farm-agent', tokenNode = 'pi-1', ...req }: Request = {},
): string[] | undefined {
  const subResource = req.subResource ?? '';
  const operation = req.operation ?? 'UPDATE';
  const resource = subResource ? `nodes/${subResource}` : 'nodes';
  const matched = policy.spec.matchConstraints.resourceRules.some(
    (r) =>
      r.apiGroups.includes('') &&
      r.operations.includes(operation) &&
      r.resources.includes(resource),
  );
  const extra: Record<string, string[]> = {
    'authentication.kubernetes.io/pod-name': ['farm-agent-x'],
  };
  if (tokenNode !== null) extra['authentication.kubernetes.io/node-name'] = [tokenNode];
  const request = {
    operation,
    resource: { group: '', version: 'v1', resource: 'nodes' },
    subResource,
    userInfo: { username, extra },
  };
  const context = { object, oldObject, request, variables: {} as Json };
  if (!matched) return undefined;
  if (!policy.spec.matchConditions.every((c) => env.evaluate(c.expression, context) === true)) {
    return undefined;
  }
  for (const variable of policy.spec.variables) {
    context.variables[variable.name ?? ''] = env.evaluate(variable.expression, context);
  }
  return policy.spec.validations
    .filter((v) => env.evaluate(v.expression, context) !== true)
    .map((v) => v.message ?? String(env.evaluate(v.messageExpression ?? '', context)));
}

interface NodeSample {
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { podCIDR: string; unschedulable?: boolean; taints?: { key: string; effect: string }[] };
  status: {
    capacity?: Record<string, string>;
    allocatable: Record<string, string>;
    addresses: { type: string; address: string }[];
    conditions: { type: string; status: string; reason?: string }[];
  };
}

/** A Pi's Node as the API server holds it. */
function node(): NodeSample {
  return {
    metadata: {
      name: 'pi-1',
      labels: {
        'kubernetes.io/hostname': 'pi-1',
        'kubernetes.io/arch': 'arm64',
        'farm-agent.io/phones-host': 'true',
        'farm-agent.io/phones': '2',
      },
      annotations: {
        'k3s.io/node-args': '["agent"]',
        'farm-agent.io/idle-checks': '{"usb-1":3}',
      },
    },
    spec: {
      podCIDR: '10.42.1.0/24',
      taints: [{ key: 'farm-agent.io/phones-host', effect: 'NoSchedule' }],
    },
    status: {
      capacity: { cpu: '4', memory: '3881704Ki' },
      allocatable: { cpu: '4', memory: '3881704Ki' },
      addresses: [{ type: 'InternalIP', address: '192.168.1.21' }],
      conditions: [
        { type: 'Ready', status: 'True', reason: 'KubeletReady' },
        { type: 'FarmAgentReady', status: 'True', reason: 'PhonesReady' },
      ],
    },
  };
}

function withCondition(
  n: NodeSample,
  type: string,
  status: string,
): NodeSample['status']['conditions'] {
  return n.status.conditions.map((c) => (c.type === type ? { ...c, status } : c));
}

/** The Node after `change`, beside the Node before. */
function update(change: (n: NodeSample) => void): [Json, Json] {
  const after = node();
  change(after);
  return [node() as unknown as Json, after as unknown as Json];
}

const OWN_NODE = 'farm-agent may change only the Node its pod runs on, not pi-1';
const LABELS = 'farm-agent may change only farm-agent.io/ labels (not farm-agent.io/phones-host)';
const ANNOTATIONS = 'farm-agent may change only farm-agent.io/ annotations';
const SPEC = "farm-agent may not change a Node's spec (taints, unschedulable)";
const STATUS =
  "farm-agent may change only its own FarmAgentReady and FarmPhonesReady conditions in a Node's status";

describe('the farm-agent admission policy allows', () => {
  it.each([
    [
      'a farm-agent.io/ label changed',
      (n: NodeSample) => (n.metadata.labels['farm-agent.io/phones'] = '3'),
    ],
    [
      'a farm-agent.io/ label added',
      (n: NodeSample) => (n.metadata.labels['farm-agent.io/awake'] = '1'),
    ],
    [
      'a farm-agent.io/ label removed',
      (n: NodeSample) => delete n.metadata.labels['farm-agent.io/phones'],
    ],
    [
      'a farm-agent.io/ annotation added and one removed',
      (n: NodeSample) => {
        n.metadata.annotations['farm-agent.io/maintenance.usb-1'] = 'cracked';
        delete n.metadata.annotations['farm-agent.io/idle-checks'];
      },
    ],
    ['no change at all', () => undefined],
  ])('%s on its own Node', (_what, change) => {
    expect(admit(POLICY, ...update(change))).toEqual([]);
  });

  it('its own condition changed in the status', () => {
    const [before, after] = update(
      (n: NodeSample) => (n.status.conditions = withCondition(n, 'FarmAgentReady', 'False')),
    );
    expect(admit(POLICY, before, after, { subResource: 'status' })).toEqual([]);
  });

  it("its FarmPhonesReady condition added, then changed, beside the kubelet's", () => {
    const phones = { type: 'FarmPhonesReady', status: 'True', reason: 'PhonesReady' };
    const [before, added] = update((n: NodeSample) => n.status.conditions.push(phones));
    expect(admit(POLICY, before, added, { subResource: 'status' })).toEqual([]);
    const changed = structuredClone(added) as unknown as NodeSample;
    changed.status.conditions = withCondition(changed, 'FarmPhonesReady', 'False');
    expect(admit(POLICY, added, changed as unknown as Json, { subResource: 'status' })).toEqual([]);
  });

  it('anything by anyone else (the policy does not apply)', () => {
    const [before, after] = update((n: NodeSample) => (n.spec.unschedulable = true));
    expect(admit(POLICY, before, after, { username: 'system:node:pi-1' })).toBeUndefined();
    expect(
      admit(POLICY, before, after, { username: 'system:serviceaccount:farm:other' }),
    ).toBeUndefined();
  });
});

describe('the farm-agent admission policy refuses', () => {
  const phones = (n: NodeSample) => (n.metadata.labels['farm-agent.io/phones'] = '3');

  it("another Node, or any Node from a token that does not name the agent's node", () => {
    expect(admit(POLICY, ...update(phones), { tokenNode: 'pi-2' })).toEqual([OWN_NODE]);
    expect(admit(POLICY, ...update(phones), { tokenNode: null })).toEqual([OWN_NODE]);
  });

  it.each([
    [
      'a foreign label changed',
      (n: NodeSample) => (n.metadata.labels['kubernetes.io/hostname'] = 'x'),
      LABELS,
    ],
    [
      'a role label added',
      (n: NodeSample) => (n.metadata.labels['node-role.kubernetes.io/x'] = ''),
      LABELS,
    ],
    [
      'a foreign label removed',
      (n: NodeSample) => delete n.metadata.labels['kubernetes.io/arch'],
      LABELS,
    ],
    [
      'every label removed',
      (n: NodeSample) => delete (n.metadata as Partial<NodeSample['metadata']>).labels,
      LABELS,
    ],
    [
      "the operator's phones-host label removed",
      (n: NodeSample) => delete n.metadata.labels['farm-agent.io/phones-host'],
      LABELS,
    ],
    [
      "the operator's phones-host label changed",
      (n: NodeSample) => (n.metadata.labels['farm-agent.io/phones-host'] = 'false'),
      LABELS,
    ],
    [
      'a foreign annotation changed',
      (n: NodeSample) => (n.metadata.annotations['k3s.io/node-args'] = '[]'),
      ANNOTATIONS,
    ],
    [
      'a foreign annotation added',
      (n: NodeSample) => (n.metadata.annotations['x.io/y'] = 'z'),
      ANNOTATIONS,
    ],
    ['the node cordoned', (n: NodeSample) => (n.spec.unschedulable = true), SPEC],
    [
      'a taint added',
      (n: NodeSample) =>
        (n.spec.taints = [...(n.spec.taints ?? []), { key: 'x', effect: 'NoExecute' }]),
      SPEC,
    ],
    ['the taints removed', (n: NodeSample) => delete n.spec.taints, SPEC],
  ])('%s', (_what, change, message) => {
    expect(admit(POLICY, ...update(change))).toEqual([message]);
  });

  it.each([
    [
      "the kubelet's Ready condition changed",
      (n: NodeSample) => (n.status.conditions = withCondition(n, 'Ready', 'False')),
    ],
    ["the kubelet's Ready condition removed", (n: NodeSample) => n.status.conditions.shift()],
    [
      'a condition of another name added',
      (n: NodeSample) => n.status.conditions.push({ type: 'X', status: 'True' }),
    ],
    [
      "the kubelet's Ready condition changed together with FarmPhonesReady",
      (n: NodeSample) => {
        n.status.conditions = withCondition(n, 'Ready', 'False');
        n.status.conditions.push({ type: 'FarmPhonesReady', status: 'False' });
      },
    ],
    ['the allocatable memory changed', (n: NodeSample) => (n.status.allocatable.memory = '0')],
    ['the capacity removed', (n: NodeSample) => delete n.status.capacity],
    [
      'an address changed',
      (n: NodeSample) => (n.status.addresses = [{ type: 'InternalIP', address: '10.0.0.1' }]),
    ],
  ])('%s in the status', (_what, change) => {
    expect(admit(POLICY, ...update(change), { subResource: 'status' })).toEqual([STATUS]);
  });

  it('and is bound, denying', () => {
    const binding = parseAllDocuments(readFileSync(FILE, 'utf8'), { version: '1.1' })
      .map((d) => d.toJS() as { kind: string; spec: Json })
      .find((o) => o.kind === 'ValidatingAdmissionPolicyBinding');
    expect(binding?.spec).toEqual({
      policyName: 'farm-agent-own-node',
      validationActions: ['Deny'],
    });
  });
});

describe('the checks bite', () => {
  it('a policy without the own-node rule lets another Node through', () => {
    const text = readFileSync(FILE, 'utf8').replace(
      'variables.tokenNode == [object.metadata.name]',
      'true',
    );
    const [before, after] = update(
      (n: NodeSample) => (n.metadata.labels['farm-agent.io/phones'] = '3'),
    );
    expect(admit(load(text), before, after, { tokenNode: 'pi-2' })).toEqual([]);
  });

  it('a label rule without the old labels misses a removal', () => {
    const text = readFileSync(FILE, 'utf8').replace(
      "variables.oldLabels.all(k, k.startsWith('farm-agent.io/') &&",
      'variables.oldLabels.all(k, true ||',
    );
    const [before, after] = update(
      (n: NodeSample) => delete n.metadata.labels['kubernetes.io/arch'],
    );
    expect(admit(load(text), before, after)).toEqual([]);
  });
});
