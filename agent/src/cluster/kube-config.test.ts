import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from './kube-config.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-config-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadKubeConfig', () => {
  it('without a cluster or a kubeconfig: standalone, with the reason', () => {
    const config = loadKubeConfig({ env: {}, inClusterPrefix: dir });
    expect(config.kubeConfig).toBeUndefined();
    expect(config).toMatchObject({
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
    expect(noFiles).toMatchObject({ kubeConfig: undefined });
    expect(noFiles.kubeConfig === undefined && noFiles.reason).toContain('token, ');
  });

  it('in-cluster from an explicit env: its service host and port, not the process env', () => {
    const sa = join(dir, 'sa/var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    for (const f of ['token', 'ca.crt']) writeFileSync(join(sa, f), 'x');
    writeFileSync(join(sa, 'namespace'), 'farm\n');
    const config = loadKubeConfig({
      env: { KUBERNETES_SERVICE_HOST: '10.43.0.1', KUBERNETES_SERVICE_PORT: '443' },
      inClusterPrefix: join(dir, 'sa'),
    });
    expect(config).toMatchObject({
      source: 'in-cluster',
      namespace: 'farm',
      server: 'https://10.43.0.1:443',
    });
    expect(process.env.KUBERNETES_SERVICE_HOST).toBeUndefined();
  });
});
