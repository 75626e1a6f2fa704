import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki } from '../../../test/rigs/fake-kube/certs.js';
import { loadKubeConfig } from './kube-config.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-config-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Service-account files under `<dir>/<name>`; returns the prefix. */
function serviceAccount(name: string, files: Record<string, string>): string {
  const sa = join(dir, name, 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(sa, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(sa, f), text);
  return join(dir, name);
}

function kubeconfig(name: string, cluster: string, user: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    `clusters: [{name: k, cluster: {${cluster}}}]
users: [{name: u, user: {${user}}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
current-context: c
`,
  );
  return path;
}

const reasonOf = (config: ReturnType<typeof loadKubeConfig>): string | undefined =>
  config.connection === undefined ? config.reason : undefined;

describe('loadKubeConfig', () => {
  it('without a cluster or a kubeconfig: standalone, with the reason', () => {
    const config = loadKubeConfig({ env: {}, inClusterPrefix: dir });
    expect(config).toEqual({
      connection: undefined,
      reason:
        'no cluster configuration (in-cluster: KUBERNETES_SERVICE_HOST/PORT unset; kubeconfig: KUBECONFIG unset)',
    });
    const noFiles = loadKubeConfig({
      env: {
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: '6443',
        KUBECONFIG: join(dir, 'none'),
      },
      inClusterPrefix: dir,
    });
    expect(reasonOf(noFiles)).toContain('token, ');
    expect(reasonOf(noFiles)).toContain(`kubeconfig: ${join(dir, 'none')} not found`);
  });

  it('in-cluster from an explicit env: its service host and port, the token file, the namespace', () => {
    const ca = createTestPki().ca;
    const prefix = serviceAccount('sa', { token: 'x', 'ca.crt': ca, namespace: 'farm\n' });
    const config = loadKubeConfig({
      env: { KUBERNETES_SERVICE_HOST: '10.43.0.1', KUBERNETES_SERVICE_PORT: '443' },
      inClusterPrefix: prefix,
    });
    expect(config).toEqual({
      source: 'in-cluster',
      namespace: 'farm',
      server: 'https://10.43.0.1:443',
      connection: {
        server: 'https://10.43.0.1:443',
        ca: Buffer.from(ca),
        rejectUnauthorized: true,
        token: { tokenFile: join(prefix, 'var/run/secrets/kubernetes.io/serviceaccount/token') },
      },
    });
    expect(process.env.KUBERNETES_SERVICE_HOST).toBeUndefined();
  });

  it('in-cluster: an IPv6 service host bracketed, port 8080 plain HTTP, no namespace file: default', () => {
    const prefix = serviceAccount('sa6', { token: 'x', 'ca.crt': 'x' });
    const at = (host: string, port: string): unknown =>
      loadKubeConfig({
        env: { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port },
        inClusterPrefix: prefix,
      });
    expect(at('fd00:10:43::1', '443')).toMatchObject({
      server: 'https://[fd00:10:43::1]:443',
      namespace: 'default',
    });
    expect(at('10.43.0.1', '8080')).toMatchObject({ server: 'http://10.43.0.1:8080' });
  });

  it('a kubeconfig: its files read, relative to it; the ones it names must be readable', () => {
    const pki = createTestPki();
    writeFileSync(join(dir, 'ca.pem'), pki.ca);
    writeFileSync(join(dir, 'token'), 'abc\n');
    const good = kubeconfig(
      'good',
      'server: "https://127.0.0.1:6443", certificate-authority: ca.pem',
      `tokenFile: token, client-certificate-data: ${Buffer.from(pki.cert).toString('base64')}, client-key-data: ${Buffer.from(pki.key).toString('base64')}`,
    );
    expect(loadKubeConfig({ kubeconfigPath: good, env: {} })).toMatchObject({
      source: 'kubeconfig',
      namespace: 'default',
      connection: {
        ca: Buffer.from(pki.ca),
        clientCert: { cert: Buffer.from(pki.cert), key: Buffer.from(pki.key) },
        rejectUnauthorized: true,
        token: { tokenFile: join(dir, 'token') },
      },
    });

    const noCa = kubeconfig('no-ca', 'server: "https://a", certificate-authority: gone.pem', '');
    expect(reasonOf(loadKubeConfig({ kubeconfigPath: noCa, env: {} }))).toBe(
      `kubeconfig ${noCa}: cannot read ${join(dir, 'gone.pem')}: ENOENT`,
    );
    const noToken = kubeconfig('no-token', 'server: "https://a"', 'tokenFile: /nonexistent/t');
    expect(reasonOf(loadKubeConfig({ kubeconfigPath: noToken, env: {} }))).toBe(
      `kubeconfig ${noToken}: cannot read /nonexistent/t: ENOENT`,
    );
    const otherKey = createTestPki().key;
    const mismatched = kubeconfig(
      'mismatched',
      'server: "https://a"',
      `client-certificate-data: ${Buffer.from(pki.cert).toString('base64')}, client-key-data: ${Buffer.from(otherKey).toString('base64')}`,
    );
    expect(reasonOf(loadKubeConfig({ kubeconfigPath: mismatched, env: {} }))).toMatch(
      new RegExp(`^kubeconfig ${mismatched}: certificates unusable: .*key values mismatch`),
    );
    const exec = kubeconfig(
      'exec',
      'server: "https://a"',
      'exec: {command: gke-gcloud-auth-plugin}',
    );
    expect(reasonOf(loadKubeConfig({ kubeconfigPath: exec, env: {} }))).toContain(
      `kubeconfig ${exec}: user "u" uses an exec credential plugin (exec)`,
    );
  });

  it('KUBECONFIG: its first entry, when no path is given', () => {
    const path = kubeconfig(
      'env',
      'server: "http://127.0.0.1:1", insecure-skip-tls-verify: true',
      '',
    );
    expect(loadKubeConfig({ env: { KUBECONFIG: `:${path}:/other` } })).toMatchObject({
      source: 'kubeconfig',
      server: 'http://127.0.0.1:1',
      connection: { rejectUnauthorized: false },
    });
  });
});
