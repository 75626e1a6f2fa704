/**
 * A kubeconfig file's current context, as client-go reads it, reduced to what farm-agent's HTTP
 * client needs: the server, how to trust it, and how to authenticate. Pure: file references come
 * back as absolute paths for the caller to read. What farm-agent cannot do (credential plugins,
 * auth providers, basic auth, proxies) is refused here, naming the setting, rather than ignored.
 */
import { isAbsolute, resolve } from 'node:path';
import { isRecord } from '@farm-agent/bot-config/lib';
import { load } from 'js-yaml';

/** PEM or token material: inline (from a `-data` field) or in a file to read. */
export type Material = { data: Buffer } | { file: string };

export interface KubeconfigTarget {
  server: string;
  /** certificate-authority(-data); undefined: the system's roots. */
  ca?: Material;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  clientCert?: { cert: Material; key: Material };
  /** tokenFile is re-read as it rotates; a token is fixed. */
  token?: { token: string } | { tokenFile: string };
  /** The context's namespace, 'default' if none. */
  namespace: string;
}

/** A kubeconfig farm-agent cannot use, with the reason naming the field. */
export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}

/** Parses `text` (the file at `path`: relative paths in it are relative to its directory). */
export function parseKubeconfig(text: string, path: string): KubeconfigTarget {
  let doc: unknown;
  try {
    doc = load(text);
  } catch (e) {
    throw new KubeconfigError(`not YAML: ${(e as Error).message.split('\n')[0] ?? ''}`);
  }
  if (!isRecord(doc)) throw new KubeconfigError('not a kubeconfig (expected a mapping)');
  const contextName = optionalString(doc, 'current-context', 'current-context');
  if (contextName === undefined) throw new KubeconfigError('no current-context');
  const context = named(doc, 'contexts', 'context', contextName);
  if (context === undefined) throw new KubeconfigError(`context "${contextName}" not found`);
  const where = `context "${contextName}"`;
  const clusterName = optionalString(context, 'cluster', `${where} cluster`);
  if (clusterName === undefined) throw new KubeconfigError(`${where} names no cluster`);
  const cluster = named(doc, 'clusters', 'cluster', clusterName);
  if (cluster === undefined) throw new KubeconfigError(`cluster "${clusterName}" not found`);
  const userName = optionalString(context, 'user', `${where} user`);
  const user = userName === undefined ? {} : named(doc, 'users', 'user', userName);
  if (user === undefined) throw new KubeconfigError(`user "${userName ?? ''}" not found`);
  const base = (file: string): string => (isAbsolute(file) ? file : resolve(path, '..', file));
  return {
    ...clusterPart(cluster, `cluster "${clusterName}"`, base),
    ...userPart(user, `user "${userName ?? ''}"`, base),
    namespace: optionalString(context, 'namespace', `${where} namespace`) ?? 'default',
  };
}

function clusterPart(
  cluster: Record<string, unknown>,
  where: string,
  base: (file: string) => string,
): Pick<KubeconfigTarget, 'server' | 'ca' | 'insecureSkipTlsVerify' | 'tlsServerName'> {
  const server = optionalString(cluster, 'server', `${where} server`);
  if (server === undefined) throw new KubeconfigError(`${where} has no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeconfigError(`${where} server ${JSON.stringify(server)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KubeconfigError(`${where} server ${JSON.stringify(server)} is not http(s)`);
  }
  if (cluster['proxy-url'] !== undefined) {
    throw new KubeconfigError(`${where} sets proxy-url, which farm-agent does not support`);
  }
  const ca = material(cluster, 'certificate-authority', where, base);
  const insecure = cluster['insecure-skip-tls-verify'];
  if (insecure !== undefined && typeof insecure !== 'boolean') {
    throw new KubeconfigError(`${where} insecure-skip-tls-verify must be true or false`);
  }
  // As client-go's validation: trusting a CA and skipping verification contradict each other.
  if (insecure === true && ca !== undefined) {
    throw new KubeconfigError(
      `${where} sets both insecure-skip-tls-verify and certificate-authority`,
    );
  }
  const tlsServerName = optionalString(cluster, 'tls-server-name', `${where} tls-server-name`);
  return {
    server: server.replace(/\/+$/, ''),
    ...(ca === undefined ? {} : { ca }),
    insecureSkipTlsVerify: insecure === true,
    ...(tlsServerName === undefined ? {} : { tlsServerName }),
  };
}

function userPart(
  user: Record<string, unknown>,
  where: string,
  base: (file: string) => string,
): Pick<KubeconfigTarget, 'clientCert' | 'token'> {
  for (const [field, what] of [
    ['exec', 'an exec credential plugin'],
    ['auth-provider', 'an auth-provider'],
    ['username', 'basic auth'],
    ['password', 'basic auth'],
  ] as const) {
    if (user[field] !== undefined) {
      throw new KubeconfigError(
        `${where} uses ${what} (${field}), which farm-agent does not run: give it a token, tokenFile or client certificate`,
      );
    }
  }
  const cert = material(user, 'client-certificate', where, base);
  const key = material(user, 'client-key', where, base);
  if ((cert === undefined) !== (key === undefined)) {
    throw new KubeconfigError(`${where} needs both client-certificate and client-key`);
  }
  // As client-go: a tokenFile, when given, is what is sent (re-read as it rotates).
  const tokenFile = optionalString(user, 'tokenFile', `${where} tokenFile`);
  const token = optionalString(user, 'token', `${where} token`);
  return {
    ...(cert === undefined || key === undefined ? {} : { clientCert: { cert, key } }),
    ...(tokenFile !== undefined
      ? { token: { tokenFile: base(tokenFile) } }
      : token !== undefined
        ? { token: { token } }
        : {}),
  };
}

/** `<field>-data` (base64, preferred as client-go does) or `<field>` (a file). */
function material(
  obj: Record<string, unknown>,
  field: string,
  where: string,
  base: (file: string) => string,
): Material | undefined {
  const data = optionalString(obj, `${field}-data`, `${where} ${field}-data`);
  if (data !== undefined) {
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length === 0) throw new KubeconfigError(`${where} ${field}-data is not base64`);
    return { data: bytes };
  }
  const file = optionalString(obj, field, `${where} ${field}`);
  return file === undefined ? undefined : { file: base(file) };
}

/** The `key` entry named `name` in the list `list` (`clusters: [{name, cluster: {...}}]`). */
function named(
  doc: Record<string, unknown>,
  list: string,
  key: string,
  name: string,
): Record<string, unknown> | undefined {
  const entries = doc[list];
  if (entries === undefined || entries === null) return undefined;
  if (!Array.isArray(entries)) throw new KubeconfigError(`${list} must be a list`);
  const entry: unknown = entries.find((e) => isRecord(e) && e.name === name);
  if (!isRecord(entry)) return undefined;
  const value = entry[key] ?? {};
  if (!isRecord(value)) throw new KubeconfigError(`${list} "${name}" ${key} must be a mapping`);
  return value;
}

/** A string field; absent, null or '' is undefined; anything else is refused, naming it. */
function optionalString(
  obj: Record<string, unknown>,
  key: string,
  what: string,
): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new KubeconfigError(`${what} must be a string (quote it in the YAML)`);
  }
  return value;
}
