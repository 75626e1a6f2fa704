/**
 * `farm-agent gate`: the farm gate as a process. It needs the cluster (in a pod, its service
 * account; elsewhere FARM_KUBECONFIG): without one it stops at once with exit 2.
 */
import { hostname } from 'node:os';
import type { LoadResult } from './config/load.js';
import { loadKubeConfig } from './cluster/kube-config.js';
import { createLogger } from './logging.js';
import { stopSignal } from './stop-signal.js';
import { FarmGate } from './gate/gate.js';
import { GateKubeApi } from './gate/gate-kube.js';

export async function runGate({ config, unknown }: LoadResult): Promise<number> {
  const logger = createLogger(config.logLevel).child({ gate: hostname() });
  if (unknown.length > 0) {
    logger.warn({ unknown }, `ignoring unknown settings (typo?): ${unknown.join(', ')}`);
  }
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection');
  });
  // As the agent: FARM_KUBECONFIG only, never a developer's KUBECONFIG.
  const env = { ...process.env, KUBECONFIG: undefined };
  const loaded = loadKubeConfig(
    config.kubeconfig === undefined ? { env } : { env, kubeconfigPath: config.kubeconfig },
  );
  if (loaded.connection === undefined) {
    logger.fatal(`the farm gate needs the cluster: ${loaded.reason}`);
    return 2;
  }
  const api = new GateKubeApi(loaded.connection);
  const gate = new FarmGate({ config, logger, api });
  try {
    await gate.start();
  } catch (err) {
    logger.fatal({ err }, `the farm gate could not start: ${(err as Error).message}`);
    await gate.stop();
    api.close();
    return 1;
  }
  const signal = await stopSignal(logger);
  logger.info({ signal }, 'stopping');
  await gate.stop();
  api.close();
  return 0;
}
