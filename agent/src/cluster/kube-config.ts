/**
 * Where the cluster configuration comes from: the in-cluster service account, a kubeconfig, or
 * none (standalone, with the reason to show in /status). Reads the files; kubeconfig.ts parses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { errorMessage } from '@farm-agent/bot-config/lib';
import { parseKubeconfig, type KubeconfigTarget, type Material } from './kubeconfig.js';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** What the HTTP client needs to reach and authenticate to one API server. */
export interface KubeConnection {
  /** scheme://host:port, no trailing slash. */
  server: string;
  /** PEM; undefined: the system's roots. */
  ca?: Buffer;
  clientCert?: { cert: Buffer; key: Buffer };
  rejectUnauthorized: boolean;
  servername?: string;
  /** A tokenFile is re-read as it rotates (kube-token.ts). */
  token?: { token: string } | { tokenFile: string };
}

export type ClusterConfig =
  | {
      connection: KubeConnection;
      source: 'in-cluster' | 'kubeconfig';
      /** The service account's namespace, or the kubeconfig context's ('default' if none). */
      namespace: string;
      server: string;
    }
  | { connection: undefined; reason: string };

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
  const saDir = `${options.inClusterPrefix ?? ''}${SERVICE_ACCOUNT_DIR}`;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const missing: string[] = [];
  if (host !== undefined && host !== '' && port !== undefined && port !== '') {
    const files = ['token', 'ca.crt'].filter((f) => !existsSync(join(saDir, f)));
    if (files.length === 0) return inCluster(host, port, saDir);
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
    try {
      return fromKubeconfig(parseKubeconfig(readFileSync(path, 'utf8'), path));
    } catch (e) {
      return { connection: undefined, reason: `kubeconfig ${path}: ${errorMessage(e)}` };
    }
  }
  return { connection: undefined, reason: `no cluster configuration (${missing.join('; ')})` };
}

/** As client-node's loadFromCluster: plain HTTP on the usual insecure ports, IPv6 bracketed. */
function inCluster(host: string, port: string, saDir: string): ClusterConfig {
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const namespaceFile = join(saDir, 'namespace');
  // The namespace file is read verbatim; a hand-written one may end in a newline.
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : '';
  try {
    return connected(
      {
        server,
        ca: readFileSync(join(saDir, 'ca.crt')),
        rejectUnauthorized: true,
        token: { tokenFile: join(saDir, 'token') },
      },
      'in-cluster',
      namespace || 'default',
    );
  } catch (e) {
    return { connection: undefined, reason: `in-cluster: ${errorMessage(e)}` };
  }
}

function fromKubeconfig(target: KubeconfigTarget): ClusterConfig {
  const { clientCert, token } = target;
  return connected(
    {
      server: target.server,
      ...(target.ca === undefined ? {} : { ca: read(target.ca) }),
      ...(clientCert === undefined
        ? {}
        : { clientCert: { cert: read(clientCert.cert), key: read(clientCert.key) } }),
      rejectUnauthorized: !target.insecureSkipTlsVerify,
      ...(target.tlsServerName === undefined ? {} : { servername: target.tlsServerName }),
      ...(token === undefined ? {} : { token }),
    },
    'kubeconfig',
    target.namespace,
  );
}

/** Checks what can be checked before the first request: the token file, the PEMs. */
function connected(
  connection: KubeConnection,
  source: 'in-cluster' | 'kubeconfig',
  namespace: string,
): ClusterConfig {
  if (connection.token !== undefined && 'tokenFile' in connection.token) {
    read({ file: connection.token.tokenFile });
  }
  if (connection.server.startsWith('https:')) {
    try {
      createSecureContext({
        ...(connection.ca === undefined ? {} : { ca: connection.ca }),
        ...connection.clientCert,
      });
    } catch (e) {
      throw new Error(`certificates unusable: ${errorMessage(e)}`);
    }
  }
  return { connection, source, namespace, server: connection.server };
}

function read(material: Material): Buffer {
  if ('data' in material) return material.data;
  try {
    return readFileSync(material.file);
  } catch (e) {
    throw new Error(
      `cannot read ${material.file}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`,
    );
  }
}
