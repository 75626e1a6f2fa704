import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
  type IValidatingAdmissionPolicy,
  type IValidatingAdmissionPolicyBinding,
} from 'kubernetes-models/admissionregistration.k8s.io/v1';
import {
  DaemonSet,
  Deployment,
  type IDaemonSet,
  type IDeployment,
} from 'kubernetes-models/apps/v1';
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
  type IClusterRole,
  type IClusterRoleBinding,
  type IRole,
  type IRoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import {
  ConfigMap,
  Namespace,
  Secret,
  Service,
  ServiceAccount,
  type IConfigMap,
  type INamespace,
  type ISecret,
  type IService,
  type IServiceAccount,
} from 'kubernetes-models/v1';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseDuration } from '../agent/src/config/parse.js';
import { SETTINGS } from '../agent/src/config/settings.js';

const ROOT = path.resolve(import.meta.dirname, '../daemonset');
const BASE = path.join(ROOT, 'base');
const GATE = path.join(ROOT, 'gate');
const OVERLAY = path.join(ROOT, 'overlays/lab');

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
};

/** The schema validator of every kind we ship; a kind missing here fails the test. */
const VALIDATORS: Record<string, (obj: unknown) => void> = {
  'v1/Namespace': (o) => new Namespace(o as INamespace).validate(),
  'v1/ServiceAccount': (o) => new ServiceAccount(o as IServiceAccount).validate(),
  'v1/ConfigMap': (o) => new ConfigMap(o as IConfigMap).validate(),
  'v1/Secret': (o) => new Secret(o as ISecret).validate(),
  'apps/v1/DaemonSet': (o) => new DaemonSet(o as IDaemonSet).validate(),
  'apps/v1/Deployment': (o) => new Deployment(o as IDeployment).validate(),
  'v1/Service': (o) => new Service(o as IService).validate(),
  'rbac.authorization.k8s.io/v1/ClusterRole': (o) => new ClusterRole(o as IClusterRole).validate(),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': (o) =>
    new ClusterRoleBinding(o as IClusterRoleBinding).validate(),
  'rbac.authorization.k8s.io/v1/Role': (o) => new Role(o as IRole).validate(),
  'rbac.authorization.k8s.io/v1/RoleBinding': (o) => new RoleBinding(o as IRoleBinding).validate(),
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy': (o) =>
    new ValidatingAdmissionPolicy(o as IValidatingAdmissionPolicy).validate(),
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding': (o) =>
    new ValidatingAdmissionPolicyBinding(o as IValidatingAdmissionPolicyBinding).validate(),
};

function validate(obj: K8sObject): void {
  const validator = VALIDATORS[`${obj.apiVersion}/${obj.kind}`];
  if (!validator) throw new Error(`no schema validator for ${obj.apiVersion} ${obj.kind}`);
  validator(obj);
}

/** YAML 1.1, as the API server's parser reads it (`yes` is a boolean, `0644` octal). */
function parseManifests(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text, { version: '1.1' }).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message}`);
    const obj = doc.toJS() as K8sObject | null;
    return obj === null ? [] : [obj];
  });
}

function kustomize(dir: string): K8sObject[] {
  try {
    return parseManifests(
      execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: 'pipe' }),
      dir,
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('kubectl not found: install Debian `kubernetes-client` (kubectl kustomize)');
    }
    throw err;
  }
}

function manifestFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.yaml') && entry.name !== 'kustomization.yaml')
        files.push(full);
    }
  };
  walk(ROOT);
  return files.sort();
}

const SETTING_BY_ENV = new Map(Object.values(SETTINGS).map((spec) => [spec.env, spec]));
/** The RBAC the agent's KubeApi needs, exactly: kind/namespace/name -> apiGroup/resource -> verbs. */
const EXPECTED_RULES = {
  'ClusterRole//farm-agent-nodes': { '/nodes': ['get', 'patch'], '/nodes/status': ['patch'] },
  'Role/default/farm-agent-node-events': { 'events.k8s.io/events': ['create'] },
  'Role/farm/farm-agent-leases': { 'coordination.k8s.io/leases': ['create', 'get', 'update'] },
};

/** A setting's default, when it is a fixed value rather than computed from the host. */
function defaultOf(spec: { default?: unknown }): string {
  if (typeof spec.default !== 'string') throw new Error('this setting has no fixed default');
  return spec.default;
}

function find<T>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as unknown as T[];
}

/**
 * The roles' rules (kind/namespace/name -> apiGroup/resource -> verbs) against `expected`, and
 * every binding binding exactly `account` to one of those roles.
 */
function rbacProblems(
  objects: K8sObject[],
  expected: Record<string, Record<string, string[]>>,
  account: IServiceAccount | undefined,
  whose: string,
): string[] {
  const out: string[] = [];
  const rules: Record<string, Record<string, string[]>> = {};
  for (const role of [
    ...find<IClusterRole>(objects, 'ClusterRole'),
    ...find<IRole>(objects, 'Role'),
  ]) {
    const key = `${role.kind}/${role.metadata?.namespace ?? ''}/${role.metadata?.name}`;
    rules[key] = {};
    for (const rule of role.rules ?? []) {
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          rules[key][`${group}/${resource}`] = [...rule.verbs].sort();
        }
      }
    }
  }
  if (JSON.stringify(rules) !== JSON.stringify(expected)) {
    out.push(`RBAC rules are ${JSON.stringify(rules)}`);
  }
  for (const binding of [
    ...find<IClusterRoleBinding>(objects, 'ClusterRoleBinding'),
    ...find<IRoleBinding>(objects, 'RoleBinding'),
  ]) {
    const roleKey = `${binding.roleRef.kind}/${binding.kind === 'RoleBinding' ? binding.metadata?.namespace : ''}/${binding.roleRef.name}`;
    if (!(roleKey in expected))
      out.push(`${binding.metadata?.name} binds an unknown role ${roleKey}`);
    const [subject] = binding.subjects ?? [];
    if (
      binding.subjects?.length !== 1 ||
      subject?.kind !== 'ServiceAccount' ||
      subject.name !== account?.metadata?.name ||
      subject.namespace !== account?.metadata?.namespace
    ) {
      out.push(`${binding.metadata?.name} does not bind exactly ${whose} ServiceAccount`);
    }
  }
  return out;
}

/**
 * Everything that matters about the built manifests for this agent, as a list of problems, so
 * that each check can also be shown to catch a broken copy.
 */
function problems(objects: K8sObject[]): string[] {
  const out: string[] = [];
  const check = (ok: boolean, problem: string): void => {
    if (!ok) out.push(problem);
  };
  const [ds] = find<IDaemonSet>(objects, 'DaemonSet');
  const pod = ds?.spec?.template.spec;
  const container = pod?.containers[0];
  if (!ds || !pod || !container) return ['no DaemonSet with a container'];
  const configMaps = find<IConfigMap>(objects, 'ConfigMap');
  const configName = container.envFrom?.[0]?.configMapRef?.name;
  const config = configMaps.find((c) => c.metadata?.name === configName)?.data;
  check(config !== undefined, `envFrom names ConfigMap ${configName}, which is not in the build`);
  const setting = (env: string, fallback: string): string => config?.[env] ?? fallback;

  check(container.securityContext?.privileged === true, 'container is not privileged');
  // The image's entrypoint is bin/farm-agent.js, whose #! line carries the agent's launch flags.
  check(
    container.command === undefined,
    "container sets a command instead of the image's entrypoint",
  );
  check(pod.hostNetwork === true, 'no hostNetwork');
  check(pod.dnsPolicy === 'ClusterFirstWithHostNet', 'dnsPolicy is not ClusterFirstWithHostNet');
  check(pod.enableServiceLinks === false, 'enableServiceLinks is not false');
  check(pod.shareProcessNamespace === true, 'shareProcessNamespace is not true (zombies)');

  const mountOf = (mountPath: string) =>
    container.volumeMounts?.find((m) => m.mountPath === mountPath);
  const volume = (name: string | undefined) => pod.volumes?.find((v) => v.name === name);
  check(
    volume(mountOf('/dev/bus/usb')?.name)?.hostPath?.path === '/dev/bus/usb',
    '/dev/bus/usb is not mounted from the host',
  );
  const stateDir = setting('FARM_STATE_DIR', '');
  const state = volume(mountOf(stateDir)?.name)?.hostPath;
  check(
    state?.path === '/var/lib/farm-agent' && state.type === 'DirectoryOrCreate',
    `FARM_STATE_DIR (${stateDir}) is not the /var/lib/farm-agent host directory`,
  );
  const tokenConfig = setting('FARM_TOKEN_CONFIG', defaultOf(SETTINGS.tokenConfig));
  const tokenMount = mountOf(path.dirname(tokenConfig));
  check(
    tokenMount?.readOnly === true &&
      volume(tokenMount.name)?.secret?.secretName === 'farm-agent-token-config',
    `FARM_TOKEN_CONFIG (${tokenConfig}) is not in the read-only token-config Secret mount`,
  );

  // The bots run as FARM_BOT_USER (set in the image): the token must be root's alone.
  const apiAccess = volume(mountOf('/var/run/secrets/kubernetes.io/serviceaccount')?.name);
  check(
    pod.automountServiceAccountToken === false &&
      apiAccess?.projected?.defaultMode === 0o600 &&
      apiAccess.projected.sources?.some((s) => s.serviceAccountToken?.path === 'token') === true,
    'the service-account token is not mounted by hand with mode 0600 (root only)',
  );

  const port = Number(setting('FARM_HTTP_PORT', defaultOf(SETTINGS.httpPort)));
  for (const [name, probe] of [
    ['liveness', container.livenessProbe],
    ['readiness', container.readinessProbe],
  ] as const) {
    check(
      probe?.httpGet?.path === '/healthz' && probe.httpGet.port === port,
      `${name} probe is not GET /healthz on ${port}`,
    );
  }
  check(container.ports?.[0]?.containerPort === port, `containerPort is not ${port}`);

  // The drain, the bots' grace, then time to stop adb and the listeners before the kubelet's
  // SIGKILL. An unparsable grace is reported with the other values below.
  const durationOf = (name: `FARM_${string}`, fallback: string): number => {
    try {
      return parseDuration(setting(name, fallback));
    } catch {
      return Number.POSITIVE_INFINITY; // reported below
    }
  };
  const stopGraceMs = durationOf('FARM_BOT_STOP_GRACE', defaultOf(SETTINGS.botStopGrace));
  const drainGraceMs = durationOf('FARM_DRAIN_GRACE', defaultOf(SETTINGS.drainGrace));
  const graceMs = (pod.terminationGracePeriodSeconds ?? 30) * 1000;
  check(
    graceMs >= drainGraceMs + stopGraceMs + 10_000,
    'terminationGracePeriodSeconds is not at least FARM_DRAIN_GRACE + FARM_BOT_STOP_GRACE + 10 s',
  );
  // Agreeing both ways: a grace far beyond the drain only delays a rollout for nothing.
  check(
    graceMs <= drainGraceMs + stopGraceMs + 120_000,
    'terminationGracePeriodSeconds is more than 2 min above FARM_DRAIN_GRACE + FARM_BOT_STOP_GRACE',
  );

  const downward = Object.fromEntries(
    (container.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]),
  );
  check(
    downward.FARM_NODE_NAME === 'spec.nodeName' &&
      downward.FARM_POD_NAME === 'metadata.name' &&
      downward.FARM_NAMESPACE === 'metadata.namespace',
    'FARM_NODE_NAME, FARM_POD_NAME and FARM_NAMESPACE do not come from the Downward API',
  );
  for (const name of [...Object.keys(downward), ...Object.keys(config ?? {})]) {
    check(SETTING_BY_ENV.has(name as `FARM_${string}`), `${name} is not a setting of the agent`);
  }
  for (const [name, value] of Object.entries(config ?? {})) {
    try {
      SETTING_BY_ENV.get(name as `FARM_${string}`)?.parse(value);
    } catch (err) {
      out.push(`${name}=${value}: ${(err as Error).message}`);
    }
  }

  check(
    pod.nodeSelector?.['farm-agent.io/phones-host'] === 'true',
    'nodeSelector lacks farm-agent.io/phones-host',
  );
  const terms = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  check(
    terms?.nodeSelectorTerms.every((term) =>
      term.matchExpressions?.some(
        (e) => e.key === 'node-role.kubernetes.io/control-plane' && e.operator === 'DoesNotExist',
      ),
    ) === true,
    'the affinity does not keep the agent off the control plane',
  );
  // The farm gate replaces pods itself, only on nodes that run no task.
  check(ds.spec?.updateStrategy?.type === 'OnDelete', 'updateStrategy is not OnDelete');
  check(
    container.env?.some(
      (e) => e.name === 'FARM_HOST_IP' && e.valueFrom?.fieldRef?.fieldPath === 'status.hostIP',
    ) === true,
    'FARM_HOST_IP is not the Downward API status.hostIP',
  );

  const accounts = find<IServiceAccount>(objects, 'ServiceAccount');
  const account = accounts.find((a) => a.metadata?.name === pod.serviceAccountName);
  check(account?.metadata?.namespace === ds.metadata?.namespace, 'no ServiceAccount for the pod');
  out.push(...rbacProblems(objects, EXPECTED_RULES, account, "the agent's"));
  // Without it every agent may patch every Node (admission-policy.yaml, tested on its own).
  const username = `system:serviceaccount:${account?.metadata?.namespace}:${account?.metadata?.name}`;
  const [policy] = find<IValidatingAdmissionPolicy>(objects, 'ValidatingAdmissionPolicy');
  const [policyBinding] = find<IValidatingAdmissionPolicyBinding>(
    objects,
    'ValidatingAdmissionPolicyBinding',
  );
  check(
    policy?.spec?.matchConditions?.some((c) => c.expression.includes(`'${username}'`)) === true &&
      policyBinding?.spec?.policyName === policy.metadata?.name &&
      policyBinding?.spec?.validationActions?.includes('Deny') === true,
    `no admission policy bound with Deny for ${username}`,
  );
  check(
    !objects.some((o) => o.kind === 'Secret'),
    'the build contains a Secret: `apply -k` would overwrite the real token config',
  );
  return out;
}

const clone = <T>(value: T): T => structuredClone(value);
/** Lets a test write what the types forbid, which is the point of breaking a copy. */
const loose = (value: unknown): Record<string, unknown> => value as Record<string, unknown>;
const daemonSetOf = (objects: K8sObject[]): IDaemonSet =>
  objects.find((o) => o.kind === 'DaemonSet') as unknown as IDaemonSet;
const podOf = (objects: K8sObject[]) => {
  const pod = daemonSetOf(objects).spec?.template.spec;
  if (!pod) throw new Error('no pod spec');
  return pod;
};

describe('daemonset/ manifests', () => {
  it.each(manifestFiles().map((f) => [path.relative(ROOT, f), f]))(
    '%s parses and every object passes its schema',
    (_name, file) => {
      const objects = parseManifests(readFileSync(file, 'utf8'), file);
      expect(objects.length).toBeGreaterThan(0);
      for (const obj of objects) validate(obj);
    },
  );

  it('lists every manifest in the base except the example Secret', () => {
    const listed = (
      parseManifests(readFileSync(path.join(BASE, 'kustomization.yaml'), 'utf8'), 'base')[0] as
        { resources?: string[] } | undefined
    )?.resources;
    const files = readdirSync(BASE).filter(
      (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml',
    );
    expect([...(listed ?? []), 'token-config-secret.example.yaml'].sort()).toEqual(files.sort());
  });

  it('ships an example token config the bot can read', () => {
    const [secret] = parseManifests(
      readFileSync(path.join(BASE, 'token-config-secret.example.yaml'), 'utf8'),
      'secret',
    ) as unknown as ISecret[];
    const tokenFile = path.basename(defaultOf(SETTINGS.tokenConfig));
    const config = JSON.parse(secret?.stringData?.[tokenFile] ?? 'null') as {
      url: string;
      headers: Record<string, string>;
    };
    expect(new URL(config.url).protocol).toBe('http:');
    expect(config.headers).toEqual({ 'Metadata-Flavor': 'Google' });
  });
});

describe.each([
  ['base', BASE],
  ['overlays/lab', OVERLAY],
])('kubectl kustomize %s', (_name, dir) => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = kustomize(dir);
  });

  it('builds objects that all pass their schemas', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'DaemonSet',
      'Namespace',
      'Role',
      'Role',
      'RoleBinding',
      'RoleBinding',
      'ServiceAccount',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ]);
    for (const obj of objects) validate(obj);
  });

  it('has every invariant the agent relies on', () => {
    expect(problems(objects)).toEqual([]);
  });
});

describe('the overlay', () => {
  it('sets the image and merges its settings into the base ConfigMap', () => {
    const objects = kustomize(OVERLAY);
    expect(podOf(objects).containers[0]?.image).toBe('registry.lab.example:5000/farm-agent:0.1.0');
    const config = find<IConfigMap>(objects, 'ConfigMap')[0]?.data;
    expect(config).toMatchObject({
      FARM_STATE_DIR: '/var/lib/farm-agent',
      FARM_SWARMING_SERVER: 'https://chromium-swarm.appspot.com',
    });
  });
});

describe('the checks bite', () => {
  let built: K8sObject[];
  beforeAll(() => {
    built = kustomize(OVERLAY);
  });

  it('schema validation rejects a wrong type, a missing required field and a non-string setting', () => {
    const ds = clone(daemonSetOf(built)) as unknown as K8sObject & IDaemonSet;
    loose(ds.spec?.template.spec).hostNetwork = 'yes';
    expect(() => validate(ds)).toThrow(/hostNetwork/);

    const unnamed = clone(daemonSetOf(built)) as unknown as K8sObject & IDaemonSet;
    delete loose(unnamed.spec?.template.spec?.containers[0]).name;
    expect(() => validate(unnamed)).toThrow(/name/);

    // The classic YAML slip: `FARM_HTTP_PORT: 8080` is a number, and ConfigMap data are strings.
    const config = clone(built.find((o) => o.kind === 'ConfigMap')) as K8sObject & IConfigMap;
    loose(config.data).FARM_HTTP_PORT = 8080;
    expect(() => validate(config)).toThrow(/FARM_HTTP_PORT/);

    const role = clone(built.find((o) => o.kind === 'Role')) as K8sObject & IRole;
    loose(role.rules?.[0]).verbs = 'create';
    expect(() => validate(role)).toThrow(/verbs/);

    expect(() => validate({ ...ds, kind: 'StatefulSet' })).toThrow(/no schema validator/);
  });

  it.each<[string, (objects: K8sObject[]) => void, RegExp]>([
    [
      'unprivileged',
      (o) => delete podOf(o).containers[0]?.securityContext?.privileged,
      /not privileged/,
    ],
    ['no hostNetwork', (o) => (podOf(o).hostNetwork = false), /no hostNetwork/],
    [
      'node run directly',
      (o) =>
        (loose(podOf(o).containers[0]).command = [
          'node',
          '/opt/farm-agent/agent/bin/farm-agent.js',
        ]),
      /instead of the image's entrypoint/,
    ],
    ['service links', (o) => delete podOf(o).enableServiceLinks, /enableServiceLinks/],
    ['reaping', (o) => delete podOf(o).shareProcessNamespace, /shareProcessNamespace/],
    [
      'no USB',
      (o) => (podOf(o).volumes = podOf(o).volumes?.filter((v) => v.name !== 'usb')),
      /\/dev\/bus\/usb/,
    ],
    [
      'probe on another port',
      (o) => {
        const probe = podOf(o).containers[0]?.livenessProbe?.httpGet;
        if (probe) probe.port = 8081;
      },
      /liveness probe/,
    ],
    [
      'short grace',
      (o) => (podOf(o).terminationGracePeriodSeconds = 30),
      /terminationGracePeriodSeconds/,
    ],
    [
      'drain longer than the grace',
      (o) => {
        const data = find<IConfigMap>(o, 'ConfigMap')[0]?.data;
        if (data) data.FARM_DRAIN_GRACE = '20m';
      },
      /terminationGracePeriodSeconds is not at least FARM_DRAIN_GRACE/,
    ],
    [
      'grace far beyond the drain',
      (o) => (podOf(o).terminationGracePeriodSeconds = 3600),
      /more than 2 min above FARM_DRAIN_GRACE/,
    ],
    [
      'unknown setting',
      (o) => {
        const data = find<IConfigMap>(o, 'ConfigMap')[0]?.data;
        if (data) data.FARM_HTTP_PROT = '8080';
      },
      /FARM_HTTP_PROT is not a setting/,
    ],
    [
      'invalid setting value',
      (o) => {
        const data = find<IConfigMap>(o, 'ConfigMap')[0]?.data;
        if (data) data.FARM_BOT_STOP_GRACE = '30';
      },
      /FARM_BOT_STOP_GRACE=30: expected a duration/,
    ],
    [
      'extra verb',
      (o) => find<IRole>(o, 'Role')[0]?.rules?.[0]?.verbs.push('delete'),
      /RBAC rules/,
    ],
    ['on the control plane', (o) => delete podOf(o).affinity, /control plane/],
    [
      'a token others can read',
      (o) => {
        const api = podOf(o).volumes?.find((v) => v.name === 'kube-api-access');
        if (api?.projected) api.projected.defaultMode = 0o644;
      },
      /service-account token/,
    ],
    ['the automatic token', (o) => delete podOf(o).automountServiceAccountToken, /token/],
    [
      'no admission policy',
      (o) =>
        o.splice(
          o.findIndex((x) => x.kind === 'ValidatingAdmissionPolicyBinding'),
          1,
        ),
      /no admission policy/,
    ],
    [
      'a Secret in the build',
      (o) => o.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }),
      /Secret/,
    ],
  ])('the invariants catch: %s', (_name, breakIt, expected) => {
    const broken = clone(built);
    breakIt(broken);
    expect(problems(broken).join('\n')).toMatch(expected);
  });
});

/** The RBAC the farm gate's calls need (gate-kube.ts, rollout.ts, gate.ts), exactly. */
const EXPECTED_GATE_RULES = {
  'ClusterRole//farm-gate': {
    '/nodes': ['list', 'patch'],
    'authentication.k8s.io/tokenreviews': ['create'],
    'authorization.k8s.io/subjectaccessreviews': ['create'],
  },
  'Role/default/farm-gate-node-events': { 'events.k8s.io/events': ['create'] },
  'Role/farm/farm-gate': {
    'coordination.k8s.io/leases': ['list'],
    '/pods': ['delete', 'list'],
    'apps/daemonsets': ['get'],
    'apps/controllerrevisions': ['list'],
  },
};

/** What the gate's manifests must say, as a list of problems (empty when all is well). */
function gateProblems(objects: K8sObject[]): string[] {
  const out: string[] = [];
  const check = (ok: boolean, problem: string): void => {
    if (!ok) out.push(problem);
  };
  const [deployment] = find<IDeployment>(objects, 'Deployment');
  const pod = deployment?.spec?.template.spec;
  const container = pod?.containers[0];
  if (!deployment || !pod || !container) return ['no Deployment with a container'];
  check(deployment.spec?.replicas === 1, 'not exactly one replica (no leader election)');
  check(deployment.spec?.strategy?.type === 'Recreate', 'strategy is not Recreate');
  check(JSON.stringify(container.args) === '["gate"]', 'the container does not run `gate`');
  check(container.securityContext?.privileged !== true, 'the gate is privileged');
  check(pod.securityContext?.runAsNonRoot === true, 'the gate may run as root');
  check(container.readinessProbe?.httpGet?.path === '/healthz', 'no readiness on /healthz');
  const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));
  check(
    env.FARM_NAMESPACE?.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace' &&
      env.FARM_POD_NAME?.valueFrom?.fieldRef?.fieldPath === 'metadata.name',
    'FARM_NAMESPACE/FARM_POD_NAME are not from the Downward API',
  );
  check(env.FARM_BOT_USER?.value === '', "FARM_BOT_USER is not emptied (the image's would fail)");
  const configName = container.envFrom?.[0]?.configMapRef?.name;
  const config = find<IConfigMap>(objects, 'ConfigMap').find(
    (c) => c.metadata?.name === configName,
  )?.data;
  check(config !== undefined, 'no ConfigMap for the gate');
  for (const [name, value] of Object.entries(config ?? {})) {
    try {
      const spec = SETTING_BY_ENV.get(name as `FARM_${string}`);
      if (spec === undefined) throw new Error('no such setting');
      spec.parse(value);
    } catch (err) {
      out.push(`${name}=${value}: ${(err as Error).message}`);
    }
  }
  const account = find<IServiceAccount>(objects, 'ServiceAccount')[0];
  check(
    account?.metadata?.name === pod.serviceAccountName &&
      account?.metadata?.namespace === deployment.metadata?.namespace,
    'no ServiceAccount for the gate',
  );
  out.push(...rbacProblems(objects, EXPECTED_GATE_RULES, account, "the gate's"));
  const [service] = find<IService>(objects, 'Service');
  const labels = deployment.spec?.template.metadata?.labels ?? {};
  check(
    Object.entries(service?.spec?.selector ?? {}).every(([k, v]) => labels[k] === v) &&
      service?.spec?.ports?.[0]?.targetPort === container.ports?.[0]?.name,
    'the Service does not reach the gate',
  );
  return out;
}

describe('kubectl kustomize gate', () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = kustomize(GATE);
  });

  it('builds objects that all pass their schemas', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'Deployment',
      'Role',
      'Role',
      'RoleBinding',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    for (const obj of objects) validate(obj);
  });

  it('has every invariant the gate relies on', () => {
    expect(gateProblems(objects)).toEqual([]);
  });

  it.each<[string, (objects: K8sObject[]) => void, RegExp]>([
    [
      'two replicas',
      (o) => {
        const d = find<IDeployment>(o, 'Deployment')[0];
        if (d?.spec) d.spec.replicas = 2;
      },
      /one replica/,
    ],
    [
      'a wider Role',
      (o) =>
        find<IRole>(o, 'Role')
          .find((r) => r.metadata?.name === 'farm-gate')
          ?.rules?.[1]?.verbs.push('create'),
      /RBAC rules/,
    ],
    [
      'a bad setting',
      (o) => {
        const data = find<IConfigMap>(o, 'ConfigMap')[0]?.data;
        if (data) data.FARM_GATE_STANDBY = 'sargo';
      },
      /FARM_GATE_STANDBY/,
    ],
    [
      "the image's bot user",
      (o) => {
        const c = find<IDeployment>(o, 'Deployment')[0]?.spec?.template.spec?.containers[0];
        if (c) c.env = c.env?.filter((e) => e.name !== 'FARM_BOT_USER');
      },
      /FARM_BOT_USER/,
    ],
  ])('notices %s', (_name, breakIt, problem) => {
    const broken = clone(objects);
    breakIt(broken);
    expect(gateProblems(broken).join('\n')).toMatch(problem);
  });
});
