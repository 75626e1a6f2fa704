import { hostname, homedir } from 'node:os';
import { parseCommandLine, USAGE, UsageError, type CommandLine } from './cli/command-line.js';
import { ConfigError, loadConfig, settingsMarkdown, type LoadResult } from './config/load.js';
import type { FarmAgent } from './agent.js';
import type { HookListener } from './hook-listener.js';
import { createLogger } from './logging.js';
import { stopSignal } from './stop-signal.js';
import { restoreUserNodeOptions } from './node-options.js';

/** Entry point of the `farm-agent` program; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  restoreUserNodeOptions();
  let line: CommandLine;
  try {
    line = parseCommandLine(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`farm-agent: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  const { command } = line;
  if (command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command === 'config' && line.markdown) {
    console.log(settingsMarkdown());
    return 0;
  }
  let loaded: LoadResult;
  try {
    loaded = loadConfig(process.env, { hostname: hostname(), home: homedir() });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`farm-agent: ${err.message}`);
    return 2;
  }
  try {
    switch (command) {
      case 'run':
        return await run(loaded);
      case 'gate': {
        const { runGate } = await import('./gate-main.js');
        return await runGate(loaded);
      }
      case 'config':
        console.log(JSON.stringify(loaded.config, null, 2));
        return 0;
      default: {
        // Loaded only for the commands that ask the running agent.
        const { askAgent } = await import('./cli/agent-commands.js');
        await askAgent(command, line, loaded.config);
        return 0;
      }
    }
  } catch (err) {
    console.error(`farm-agent ${command}: ${(err as Error).message}`);
    return 1;
  }
}

/**
 * Hooks first: the hook listener is up with only what serving hooks needs loaded (pino and the
 * hook server, on node:http), then prom-client (the hook calls answered until then are counted
 * once the metrics registry exists) and the rest of the agent are loaded and started.
 */
async function run({ config, unknown }: LoadResult): Promise<number> {
  const logger = createLogger(config.logLevel);
  if (unknown.length > 0) {
    logger.warn({ unknown }, `ignoring unknown settings (typo?): ${unknown.join(', ')}`);
  }
  process.on('unhandledRejection', (reason) => {
    // A stray rejection must not take down the phones' bots; it is a bug to log and fix.
    logger.error({ err: reason }, 'unhandled promise rejection');
  });
  let agent: FarmAgent | undefined;
  let hooks: HookListener | undefined;
  try {
    // Loaded here, not at the top: `farm-agent gate` and the CLI commands never load device code.
    const { HookListener } = await import('./hook-listener.js');
    hooks = new HookListener({ config, logger });
    await hooks.listen(config.hookPort);
    const [{ FarmAgent }, { createMetricsRegistry }] = await Promise.all([
      import('./agent.js'),
      import('./metrics.js'),
    ]);
    const registry = createMetricsRegistry();
    await hooks.countInto(registry);
    agent = new FarmAgent({ config, logger, registry, hooks });
    await agent.start();
  } catch (err) {
    logger.fatal({ err }, `farm-agent could not start: ${(err as Error).message}`);
    // The agent closes the hook listener it was handed; one it never got is closed here.
    await (agent ? agent.stop() : hooks?.server.close());
    // As for a wrong setting found while loading: 2 means "fix the configuration".
    return err instanceof ConfigError ? 2 : 1;
  }
  const signal = await stopSignal(logger);
  logger.info({ signal }, 'stopping: no new tasks; running ones get FARM_DRAIN_GRACE');
  await agent.stop();
  logger.info('stopped');
  return 0;
}
