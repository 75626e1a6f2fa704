import type { Config } from '../config/settings.js';

/**
 * How CLI commands reach the running agent inside the same pod
 * (`kubectl exec ... -- farm-agent status`): the cluster listener on loopback.
 */
export async function getFromAgent(config: Config, path: string): Promise<unknown> {
  const url = `http://127.0.0.1:${config.httpPort}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(
      `cannot reach the agent at ${url} (${(err as Error).message}); is it running? ` +
        'FARM_HTTP_PORT must match the running agent',
    );
  }
  const body = await response.text();
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${body}`);
  return JSON.parse(body);
}
