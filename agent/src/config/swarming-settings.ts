import {
  countIn,
  durationIn,
  parseBotUser,
  parseHttpUrl,
  parseNonEmpty,
  parsePort,
  parseSwarmingId,
} from './parse.js';
import { setting } from './setting.js';

/** The Swarming side: the server, the bots the agent runs and their hook listener, supervision and drain. */
export const SWARMING_SETTINGS = {
  swarmingServer: setting({
    env: 'FARM_SWARMING_SERVER',
    doc: 'Swarming server URL. Unset: no bot runs; devices, hooks and cluster reporting still work.',
    parse: parseHttpUrl,
  }),
  pool: setting({
    env: 'FARM_POOL',
    doc: 'Swarming `pool` dimension. Set: replaces the pool the bot reports (the real bot always says `default`). Unset: the bot’s own pool stays, as the server’s `bots.cfg` normally sets it.',
    parse: parseSwarmingId,
  }),
  tokenConfig: setting({
    env: 'FARM_TOKEN_CONFIG',
    doc: 'OAuth token config `{"url","headers"}` used to fetch the bot’s access token.',
    parse: parseNonEmpty,
    default: '/etc/swarming_config/oauth2_access_token_config.json',
  }),
  python: setting({
    env: 'FARM_PYTHON',
    doc: 'Python 3 interpreter that runs `swarming_bot.zip`.',
    parse: parseNonEmpty,
    default: 'python3',
  }),
  botUser: setting({
    env: 'FARM_BOT_USER',
    doc: 'User the Swarming bots and their tasks run as, so they cannot read what is root’s: the pod’s service-account token, the operator credential. Needs the agent to run as root. Unset: the agent’s own user.',
    parse: parseBotUser,
    defaultDoc: 'unset (image: `swarming`)',
  }),
  hookPort: setting({
    env: 'FARM_HOOK_PORT',
    doc: 'Port of the bot hook listener, bound to 127.0.0.1 only.',
    parse: parsePort,
    default: '11000',
  }),
  botCrashLimit: setting({
    env: 'FARM_BOT_CRASH_LIMIT',
    doc: 'Bot crashes inside `FARM_BOT_CRASH_WINDOW` that quarantine the bot until it stays up.',
    parse: countIn(1, 100),
    default: '5',
  }),
  botCrashWindow: setting({
    env: 'FARM_BOT_CRASH_WINDOW',
    doc: 'Window in which bot crashes are counted.',
    parse: durationIn('10s', '24h'),
    default: '10m',
  }),
  botStableAfter: setting({
    env: 'FARM_BOT_STABLE_AFTER',
    doc: 'Uptime after which a bot counts as stable again (restart backoff and quarantine clear).',
    parse: durationIn('5s', '1h'),
    default: '2m',
  }),
  botRestartMax: setting({
    env: 'FARM_BOT_RESTART_MAX',
    doc: 'Longest wait between bot restarts (backoff starts at 1s).',
    parse: durationIn('1s', '1h'),
    default: '5m',
  }),
  botStopGrace: setting({
    env: 'FARM_BOT_STOP_GRACE',
    doc: 'Time the bot gets after SIGTERM before its whole process tree (tasks included) is killed.',
    parse: durationIn('1s', '10m'),
    default: '30s',
  }),
  botTerminatedRestart: setting({
    env: 'FARM_BOT_TERMINATED_RESTART',
    doc: "Wait before starting a bot again that ended itself with exit 0 (the server's `terminate`); never counted as a crash.",
    parse: durationIn('1s', '24h'),
    default: '5m',
  }),
  drainGrace: setting({
    env: 'FARM_DRAIN_GRACE',
    doc: 'On SIGTERM, how long running tasks may finish (no new ones start) before the bots are stopped. `terminationGracePeriodSeconds` must cover it plus `FARM_BOT_STOP_GRACE`.',
    parse: durationIn('1s', '2h'),
    default: '10m',
  }),
  readyTimeout: setting({
    env: 'FARM_READY_TIMEOUT',
    doc: 'Longest `on_before_task` waits for the phone to be ready (the bots get it as `FARM_READY_TIMEOUT_S`).',
    parse: durationIn('1s', '1h'),
    default: '10m',
  }),
};
