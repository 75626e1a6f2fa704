/**
 * Throwaway PKI made with the openssl CLI: a CA and a server certificate for 127.0.0.1, so that
 * clients verify the fake's TLS for real instead of skipping verification.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  /** PEM of the CA that signed `cert`: what a client must trust. */
  ca: string;
  /** PEM server certificate with subjectAltName IP:127.0.0.1 and DNS:localhost. */
  cert: string;
  key: string;
  /** A client certificate (CN=farm-agent, clientAuth) signed by the same CA, and its key. */
  client: { cert: string; key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** `<name>.key` and `<name>.crt` for `subject`, signed by the CA in `dir`, with these extensions. */
function issue(dir: string, name: string, subject: string, extensions: string[]): void {
  openssl(dir, [
    'req',
    ...EC_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  ]);
  writeFileSync(
    join(dir, `${name}.cnf`),
    ['basicConstraints=CA:FALSE', ...extensions, ''].join('\n'),
  );
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-extfile',
    `${name}.cnf`,
  ]);
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'fake-kube-pki-'));
  try {
    openssl(dir, [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=fake-kube-ca',
    ]);
    issue(dir, 'server', '/CN=127.0.0.1', [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'extendedKeyUsage=serverAuth',
    ]);
    issue(dir, 'client', '/CN=farm-agent', ['extendedKeyUsage=clientAuth']);
    const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
    return {
      ca: read('ca.crt'),
      cert: read('server.crt'),
      key: read('server.key'),
      client: { cert: read('client.crt'), key: read('client.key') },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
