import { freePort } from './ports.js';

export interface StandaloneEnv {
  env: Record<string, string>;
  hookPort: number;
  adbPort: number;
}

/**
 * The environment of a `farm-agent run` started on its own: free ports on loopback, `stateDir`
 * as state directory and home, its own adb server (never the machine's on 5037), warnings only.
 */
export async function standaloneEnv(stateDir: string, devices: string): Promise<StandaloneEnv> {
  const [httpPort, hookPort, adbPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: stateDir,
    FARM_STATE_DIR: stateDir,
    FARM_HTTP_HOST: '127.0.0.1',
    FARM_HTTP_PORT: String(httpPort),
    FARM_HOOK_PORT: String(hookPort),
    FARM_ADB_PORT: String(adbPort),
    FARM_DEVICES: devices,
    FARM_NODE_NAME: 'pi-standalone',
    FARM_LOG_LEVEL: 'warn',
  };
  return { env, hookPort, adbPort };
}
