import { hostname, homedir } from 'node:os';
import { parseArgs } from 'node:util';
import { getFromAgent, postToAgent } from './cli/agent-client.js';
import { formatDevices, type SlotSummary } from './cli/devices.js';
import { swarmingView, type AgentStatusForDims } from './cli/dims.js';
import { ConfigError, loadConfig, settingsMarkdown, type LoadResult } from './config/load.js';
import { FarmAgent } from './agent.js';
import { createLogger } from './logging.js';

const USAGE = `usage: farm-agent [command]

commands:
  run                 run the agent (the default)
  status              print the running agent's /status
  devices [--json]    the phone slots: bot, serial, state, battery, temperature
  dims [slot|bot]     exactly what Swarming receives for each bot (dimensions and state)
  maintenance [slot] (--reason TEXT | --clear)
                      put one slot (or every slot) in maintenance, or take it out
  quarantine [slot] (--reason TEXT | --clear)
                      quarantine one slot (or every slot) in Swarming, or lift it
  wake [slot]         wake one phone (or all) now and reset the idle counter
  sleep [slot]        put one idle phone (or all) to sleep now
  config [--markdown] print the effective configuration (or the README table of settings)
  help                this text

Settings come from FARM_* environment variables; see the README.`;

/** Entry point of the `farm-agent` program; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: {
      markdown: { type: 'boolean' },
      json: { type: 'boolean' },
      reason: { type: 'string' },
      clear: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = values.help ? 'help' : (positionals[0] ?? 'run');
  if (command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command === 'config' && values.markdown) {
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
      case 'config':
        console.log(JSON.stringify(loaded.config, null, 2));
        return 0;
      case 'status':
        console.log(JSON.stringify(await getFromAgent(loaded.config, '/status'), null, 2));
        return 0;
      case 'devices': {
        const { slots } = (await getFromAgent(loaded.config, '/status')) as {
          slots: SlotSummary[];
        };
        console.log(values.json ? JSON.stringify(slots, null, 2) : formatDevices(slots));
        return 0;
      }
      case 'maintenance':
      case 'quarantine': {
        const reason = overrideReason(command, values.reason, values.clear);
        const effective = await postToAgent(loaded.config, '/operator/override', {
          kind: command,
          ...(positionals[1] === undefined ? {} : { slot: positionals[1] }),
          reason,
        });
        console.log(JSON.stringify(effective, null, 2));
        return 0;
      }
      case 'wake':
      case 'sleep': {
        const query =
          positionals[1] === undefined ? '' : `?slot=${encodeURIComponent(positionals[1])}`;
        console.log(
          JSON.stringify(await postToAgent(loaded.config, `/${command}${query}`), null, 2),
        );
        return 0;
      }
      case 'dims': {
        const status = (await getFromAgent(loaded.config, '/status')) as AgentStatusForDims;
        const view = await swarmingView(loaded.config, status, positionals[1]);
        console.log(JSON.stringify(view, null, 2));
        return 0;
      }
      default:
        console.error(`farm-agent: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    console.error(`farm-agent ${command}: ${(err as Error).message}`);
    return 1;
  }
}

/** `--clear` lifts the override; otherwise a reason is stored (a default one if none is given). */
function overrideReason(
  kind: string,
  reason: string | boolean | undefined,
  clear: string | boolean | undefined,
): string | null {
  if (clear === true) {
    if (reason !== undefined) throw new Error('give either --reason or --clear, not both');
    return null;
  }
  return typeof reason === 'string' && reason.trim() !== ''
    ? reason.trim()
    : `${kind} set with farm-agent CLI`;
}

async function run({ config, unknown }: LoadResult): Promise<number> {
  const logger = createLogger(config.logLevel);
  if (unknown.length > 0) {
    logger.warn({ unknown }, `ignoring unknown settings (typo?): ${unknown.join(', ')}`);
  }
  process.on('unhandledRejection', (reason) => {
    // A stray rejection must not take down the phones' bots; it is a bug to log and fix.
    logger.error({ err: reason }, 'unhandled promise rejection');
  });
  const agent = new FarmAgent({ config, logger });
  try {
    await agent.start();
  } catch (err) {
    logger.fatal({ err }, 'farm-agent could not start');
    await agent.stop();
    return 1;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal }, 'stopping: no new tasks; running ones get FARM_DRAIN_GRACE');
  await agent.stop();
  logger.info('stopped');
  return 0;
}
