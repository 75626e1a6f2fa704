/**
 * Where the cluster configuration comes from: the in-cluster service account, a kubeconfig, or
 * none (standalone, with the reason to show in /status).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type ClusterConfig =
  | {
      kubeConfig: KubeConfig;
      source: 'in-cluster' | 'kubeconfig';
      /** The service account's namespace, or the kubeconfig context's ('default' if none). */
      namespace: string;
      server: string;
    }
  | { kubeConfig: undefined; reason: string };

export interface LoadKubeConfigOptions {
  /** Explicit kubeconfig file; otherwise the first entry of KUBECONFIG. */
  kubeconfigPath?: string;
  /** Root under which the service-account files live ('' in a pod; a temp dir in tests). */
  inClusterPrefix?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * In-cluster first (KUBERNETES_SERVICE_HOST/PORT plus the service-account token and CA), then a
 * kubeconfig file, else no cluster, with the reason to show in /status. ~/.kube/config is not
 * consulted: a DaemonSet pod has none, and a local run should name its cluster on purpose.
 */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): ClusterConfig {
  const env = options.env ?? process.env;
  const prefix = options.inClusterPrefix ?? '';
  const saDir = `${prefix}${SERVICE_ACCOUNT_DIR}`;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const missing: string[] = [];
  if (host !== undefined && host !== '' && port !== undefined && port !== '') {
    const files = ['token', 'ca.crt'].filter((f) => !existsSync(join(saDir, f)));
    if (files.length === 0) {
      const kc = new KubeConfig();
      // loadFromCluster reads the process environment itself.
      withEnv(env, () => kc.loadFromCluster(prefix));
      return loaded(kc, 'in-cluster');
    }
    missing.push(`in-cluster: ${files.map((f) => join(saDir, f)).join(', ')} missing`);
  } else {
    missing.push('in-cluster: KUBERNETES_SERVICE_HOST/PORT unset');
  }
  const path = options.kubeconfigPath ?? env.KUBECONFIG?.split(':').find((p) => p !== '');
  if (path === undefined) {
    missing.push('kubeconfig: KUBECONFIG unset');
  } else if (!existsSync(path)) {
    missing.push(`kubeconfig: ${path} not found`);
  } else {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(path);
    } catch (e) {
      return { kubeConfig: undefined, reason: `kubeconfig ${path}: ${(e as Error).message}` };
    }
    if (kc.getCurrentCluster() === null) {
      return { kubeConfig: undefined, reason: `kubeconfig ${path}: no current cluster` };
    }
    return loaded(kc, 'kubeconfig');
  }
  return { kubeConfig: undefined, reason: `no cluster configuration (${missing.join('; ')})` };
}

function loaded(kc: KubeConfig, source: 'in-cluster' | 'kubeconfig'): ClusterConfig {
  const context = kc.getContextObject(kc.getCurrentContext());
  return {
    kubeConfig: kc,
    source,
    // The namespace file is read verbatim; a hand-written one may end in a newline.
    namespace: context?.namespace?.trim() || 'default',
    server: kc.getCurrentCluster()?.server ?? '',
  };
}

function withEnv(env: NodeJS.ProcessEnv, fn: () => void): void {
  if (env === process.env) {
    fn();
    return;
  }
  const saved = {
    host: process.env.KUBERNETES_SERVICE_HOST,
    port: process.env.KUBERNETES_SERVICE_PORT,
  };
  process.env.KUBERNETES_SERVICE_HOST = env.KUBERNETES_SERVICE_HOST;
  process.env.KUBERNETES_SERVICE_PORT = env.KUBERNETES_SERVICE_PORT;
  try {
    fn();
  } finally {
    for (const [k, v] of [
      ['KUBERNETES_SERVICE_HOST', saved.host],
      ['KUBERNETES_SERVICE_PORT', saved.port],
    ] as const) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  }
}
