import { parseEnum, parseHost, parseNonEmpty, parsePort, parseSwarmingId } from './parse.js';
import { shortHostName, setting } from './setting.js';

/** The agent process itself: where its configuration and state are, its name, its cluster-facing listener, its log. */
export const AGENT_SETTINGS = {
  configFile: setting({
    env: 'FARM_CONFIG_FILE',
    doc: 'Optional JSON file of `{"FARM_…": "value"}`; environment variables override it.',
    parse: parseNonEmpty,
  }),
  nodeName: setting({
    env: 'FARM_NODE_NAME',
    doc: 'Kubernetes node this agent runs on (Downward API `spec.nodeName`).',
    parse: parseSwarmingId,
    default: shortHostName,
    defaultDoc: 'short host name',
  }),
  stateDir: setting({
    env: 'FARM_STATE_DIR',
    doc: 'Where the bot code zip, the bots’ working directories and the agent’s state live; created if missing. Start-up stops if it cannot be written.',
    parse: parseNonEmpty,
    default: (ctx) => `${ctx.home}/.local/state/farm-agent`,
    defaultDoc: '`~/.local/state/farm-agent` (image: `/var/lib/farm-agent`)',
  }),
  httpHost: setting({
    env: 'FARM_HTTP_HOST',
    doc: 'Address of the cluster-facing listener (`/healthz`, `/status`, `/metrics`, the wake page). `0.0.0.0` shows them to the lab network (see “Who can read what”); `127.0.0.1` keeps them on the node.',
    parse: parseHost,
    default: '0.0.0.0',
  }),
  httpPort: setting({
    env: 'FARM_HTTP_PORT',
    doc: 'Port of the cluster-facing listener.',
    parse: parsePort,
    default: '8080',
  }),
  statusTokenFile: setting({
    env: 'FARM_STATUS_TOKEN_FILE',
    doc: 'File holding a bearer token that `GET /status` then requires (`Authorization: Bearer …`); the CLI reads it too. Unset: `/status` answers anyone who reaches `FARM_HTTP_HOST`.',
    parse: parseNonEmpty,
  }),
  logLevel: setting({
    env: 'FARM_LOG_LEVEL',
    doc: 'Log level.',
    parse: parseEnum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const),
    default: 'info',
  }),
};
