import { readFileSync } from 'node:fs';
import { botIdPatternProblem } from './bot-id-pattern.js';
import { recoveryThresholdsProblem } from './recovery-thresholds.js';
import type { DefaultsContext, SettingSpec } from './setting.js';
import { SETTINGS, type Config } from './settings.js';

/** A configuration error; its message names every bad setting. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadResult {
  config: Config;
  /** FARM_ variables nobody reads: usually a typo, reported as a warning. */
  unknown: string[];
}

type Source = Record<string, string | undefined>;

/**
 * Builds the configuration from the environment, optionally layered over a
 * JSON file named by FARM_CONFIG_FILE. Collects every problem before failing,
 * so one start-up tells the operator everything that is wrong.
 */
export function loadConfig(env: Source, ctx: DefaultsContext): LoadResult {
  const problems: string[] = [];
  const file = readConfigFile(env.FARM_CONFIG_FILE, problems);
  const source: Source = { ...file, ...env };
  const config: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SETTINGS) as [string, SettingSpec<unknown>][]) {
    const given = source[spec.env];
    const raw =
      given !== undefined && given !== ''
        ? given
        : typeof spec.default === 'function'
          ? spec.default(ctx)
          : spec.default;
    if (raw === undefined) continue;
    try {
      config[key] = spec.parse(raw);
    } catch (err) {
      const origin = given ? '' : ' (the default)';
      problems.push(`${spec.env}=${JSON.stringify(raw)}${origin}: ${(err as Error).message}`);
    }
  }
  if (problems.length === 0) problems.push(...combinationProblems(config as Config));
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const known = new Set(Object.values(SETTINGS).map((s) => s.env as string));
  const unknown = Object.keys(source).filter((k) => k.startsWith('FARM_') && !known.has(k));
  return { config: config as Config, unknown };
}

/** Settings that are each valid but cannot work together. */
function combinationProblems(config: Config): string[] {
  const problems: string[] = [];
  const pattern = botIdPatternProblem(config.botIdPattern);
  if (pattern)
    problems.push(`FARM_BOT_ID_PATTERN=${JSON.stringify(config.botIdPattern)}: ${pattern}`);
  const thresholds = recoveryThresholdsProblem({
    minBatteryPercent: config.batteryMin,
    resumeBatteryPercent: config.batteryResume,
    maxTemperatureC: config.temperatureMax,
    resumeTemperatureC: config.temperatureResume,
  });
  if (thresholds) {
    problems.push(
      `FARM_BATTERY_MIN/FARM_BATTERY_RESUME/FARM_TEMPERATURE_MAX/FARM_TEMPERATURE_RESUME: ${thresholds}`,
    );
  }
  if (config.hostTemperatureResume > config.hostTemperatureMax) {
    problems.push(
      `FARM_HOST_TEMPERATURE_RESUME (${config.hostTemperatureResume}) is above FARM_HOST_TEMPERATURE_MAX (${config.hostTemperatureMax}): host maintenance would flap`,
    );
  }
  if (config.hookPort === config.httpPort) {
    problems.push(`FARM_HOOK_PORT and FARM_HTTP_PORT are both ${config.hookPort}`);
  }
  return problems;
}

function readConfigFile(path: string | undefined, problems: string[]): Source {
  if (!path) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    problems.push(`FARM_CONFIG_FILE=${JSON.stringify(path)}: ${(err as Error).message}`);
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`FARM_CONFIG_FILE=${JSON.stringify(path)}: expected a JSON object`);
    return {};
  }
  const out: Source = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      out[k] = String(v);
    } else {
      problems.push(`FARM_CONFIG_FILE: ${k} must be a string, number or boolean`);
    }
  }
  return out;
}

/** The README table of settings, generated from the same list the loader uses. */
export function settingsMarkdown(): string {
  const rows = Object.values(SETTINGS).map((spec: SettingSpec<unknown>) => {
    const def =
      spec.defaultDoc ?? (typeof spec.default === 'string' ? `\`${spec.default}\`` : '(unset)');
    return `| \`${spec.env}\` | ${def} | ${spec.parse.allowed ?? ''} | ${spec.doc} |`;
  });
  return ['| Setting | Default | Allowed | Meaning |', '| --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}
