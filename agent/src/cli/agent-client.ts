import type { Config } from '../config/settings.js';
import { bearer, readStatusToken } from '../http/status-token.js';

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

export async function postToAgent(config: Config, path: string, body?: unknown): Promise<unknown> {
  return requestAgent(
    config,
    path,
    body === undefined
      ? { method: 'POST' }
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
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
