import { describe, expect, it } from 'vitest';
import { KubeconfigError, parseKubeconfig } from './kubeconfig.js';

const PATH = '/etc/farm/kubeconfig';

/** A kubeconfig with one context `c` on cluster `k` as user `u`, the parts given as YAML flow maps. */
function config(cluster: string, user: string, context = 'cluster: k, user: u'): string {
  return `apiVersion: v1
kind: Config
clusters: [{name: k, cluster: {${cluster}}}]
users: [{name: u, user: {${user}}}]
contexts: [{name: c, context: {${context}}}]
current-context: c
`;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function refusal(text: string): string {
  try {
    parseKubeconfig(text, PATH);
  } catch (e) {
    expect(e).toBeInstanceOf(KubeconfigError);
    return (e as Error).message;
  }
  throw new Error('expected a KubeconfigError');
}

describe('parseKubeconfig: what it takes', () => {
  it('a token, an inline CA and the context namespace; the server without a trailing slash', () => {
    const text = config(
      `server: "https://10.0.0.1:6443/", certificate-authority-data: ${b64('CA PEM')}`,
      'token: "0123e4"',
      'cluster: k, user: u, namespace: farm',
    );
    expect(parseKubeconfig(text, PATH)).toEqual({
      server: 'https://10.0.0.1:6443',
      ca: { data: Buffer.from('CA PEM') },
      insecureSkipTlsVerify: false,
      token: { token: '0123e4' },
      namespace: 'farm',
    });
  });

  it('files relative to the kubeconfig, a tokenFile over a token, tls-server-name, default namespace', () => {
    const text = config(
      'server: "https://api:6443", certificate-authority: ca.crt, tls-server-name: kubernetes',
      'token: fixed, tokenFile: ../tokens/t, client-certificate: /pki/c.crt, client-key: c.key',
    );
    expect(parseKubeconfig(text, PATH)).toEqual({
      server: 'https://api:6443',
      ca: { file: '/etc/farm/ca.crt' },
      insecureSkipTlsVerify: false,
      tlsServerName: 'kubernetes',
      clientCert: { cert: { file: '/pki/c.crt' }, key: { file: '/etc/farm/c.key' } },
      token: { tokenFile: '/etc/tokens/t' },
      namespace: 'default',
    });
  });

  it('inline client certificate data over a file; insecure-skip-tls-verify; no user at all', () => {
    const withCert = config(
      'server: "http://127.0.0.1:8080", insecure-skip-tls-verify: true',
      `client-certificate-data: ${b64('CERT')}, client-certificate: /ignored, client-key-data: ${b64('KEY')}`,
    );
    expect(parseKubeconfig(withCert, PATH)).toMatchObject({
      insecureSkipTlsVerify: true,
      clientCert: { cert: { data: Buffer.from('CERT') }, key: { data: Buffer.from('KEY') } },
    });
    const anonymous = config('server: "https://api"', '', 'cluster: k');
    expect(parseKubeconfig(anonymous, PATH)).not.toHaveProperty('token');
  });
});

describe('parseKubeconfig: what it refuses, naming the field', () => {
  it('credential plugins, auth providers and basic auth, naming the user', () => {
    const exec = config('server: "https://api"', 'exec: {command: aws, apiVersion: x}');
    expect(refusal(exec)).toBe(
      'user "u" uses an exec credential plugin (exec), which farm-agent does not run: give it a token, tokenFile or client certificate',
    );
    expect(refusal(config('server: "https://api"', 'auth-provider: {name: oidc}'))).toContain(
      'user "u" uses an auth-provider (auth-provider)',
    );
    expect(refusal(config('server: "https://api"', 'username: a, password: b'))).toContain(
      'user "u" uses basic auth (username)',
    );
  });

  it('contexts, clusters and users that are missing', () => {
    expect(refusal('clusters: []')).toBe('no current-context');
    expect(refusal('current-context: x')).toBe('context "x" not found');
    expect(refusal(config('server: "https://api"', '', 'user: u'))).toBe(
      'context "c" names no cluster',
    );
    expect(refusal(config('server: "https://api"', '', 'cluster: other, user: u'))).toBe(
      'cluster "other" not found',
    );
    expect(refusal(config('server: "https://api"', '', 'cluster: k, user: nobody'))).toBe(
      'user "nobody" not found',
    );
    expect(refusal(config('insecure-skip-tls-verify: true', ''))).toBe('cluster "k" has no server');
  });

  it('settings that contradict or that it cannot honour', () => {
    expect(refusal(config('server: "ftp://api"', ''))).toContain('is not http(s)');
    expect(refusal(config('server: "https://api", proxy-url: "http://p:3128"', ''))).toContain(
      'proxy-url',
    );
    expect(
      refusal(
        config(
          'server: "https://api", insecure-skip-tls-verify: true, certificate-authority: ca',
          '',
        ),
      ),
    ).toBe('cluster "k" sets both insecure-skip-tls-verify and certificate-authority');
    expect(refusal(config('server: "https://api"', 'client-certificate: c.crt'))).toBe(
      'user "u" needs both client-certificate and client-key',
    );
    // YAML reads an unquoted 1234 as a number; client-go would not take it as a token either.
    expect(refusal(config('server: "https://api"', 'token: 1234'))).toBe(
      'user "u" token must be a string (quote it in the YAML)',
    );
    expect(refusal('a: [')).toMatch(/^not YAML: /);
    expect(refusal('- a')).toBe('not a kubeconfig (expected a mapping)');
  });
});
