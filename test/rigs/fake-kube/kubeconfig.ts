import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeKube } from './index.js';

/**
 * Writes a kubeconfig for the fake API into `dir` (namespace `farm`) and
 * returns its path, as an operator's local run would name its cluster.
 */
export function writeKubeconfig(kube: FakeKube, dir: string, token = kube.token): string {
  const cluster =
    kube.ca === undefined
      ? // 1.4.x refuses http:// servers unless TLS verification is "skipped".
        'insecure-skip-tls-verify: true'
      : `certificate-authority-data: ${Buffer.from(kube.ca).toString('base64')}`;
  const path = join(dir, `kubeconfig-${String(kube.port)}-${token}`);
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "${kube.url}", ${cluster}}}]
users: [{name: agent, user: {token: ${token}}}]
contexts: [{name: fake, context: {cluster: fake, user: agent, namespace: farm}}]
current-context: fake
`,
  );
  return path;
}
