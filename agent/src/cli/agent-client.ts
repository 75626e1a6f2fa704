import type { Config } from '../config/settings.js';
import { bearer } from '../operator/bearer.js';
import { readStatusToken } from '../http/status-token.js';
import { operatorAuthorization, operatorCredentialPath } from '../operator/credential.js';

/**
 * The operator credential's header when this user can read it (root in the
 * agent's container), else none: read-only commands work without it, and an
 * operator command is then refused with the reason.
 */
export async function operatorHeaders(config: Config): Promise<Record<string, string>> {
  const authorization = await operatorAuthorization(operatorCredentialPath(config.stateDir));
  return authorization === undefined ? {} : { authorization };
}

/**
 * How CLI commands reach the running agent inside the same pod
 * (`kubectl exec ... -- farm-agent status`): the cluster listener on loopback.
 */
export async function getFromAgent(config: Config, path: string): Promise<unknown> {
  const file = config.statusTokenFile;
  return requestAgent(
    config,
    path,
    file === undefined ? {} : { headers: { authorization: bearer(readStatusToken(file)) } },
  );
}

/**
 * An operator command: carries the operator credential. Each request needs one
 * Authorization header only: the status token for what getFromAgent reads
 * (/status), the operator credential here.
 */
export async function postToAgent(config: Config, path: string, body?: unknown): Promise<unknown> {
  const operator = await operatorHeaders(config);
  return requestAgent(
    config,
    path,
    body === undefined
      ? { method: 'POST', headers: operator }
      : {
          method: 'POST',
          headers: { ...operator, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
  );
}

async function requestAgent(
  config: Config,
  path: string,
  init: RequestInit = {},
): Promise<unknown> {
  const url = `http://127.0.0.1:${config.httpPort}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(
      `cannot reach the agent at ${url} (${(err as Error).message}); is it running? ` +
        'FARM_HTTP_PORT must match the running agent',
    );
  }
  const body = await response.text();
  if (!response.ok) throw new Error(`${errorText(body)} (${response.status} from ${url})`);
  return JSON.parse(body);
}

/** The agent's `{"error": "..."}` as plain words; anything else as it came. */
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // Not JSON: show it raw.
  }
  return body;
}
