import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, settingsMarkdown } from './load.js';
import { SETTINGS } from './settings.js';

const ctx = { hostname: 'skia-rpi2-042.lab.example', home: '/home/op' };

describe('loadConfig', () => {
  it('runs with no settings at all: sensible embedded defaults', () => {
    const { config, unknown } = loadConfig({}, ctx);
    expect(config).toMatchObject({
      nodeName: 'skia-rpi2-042',
      botId: 'skia-rpi2-042',
      hookPort: 11000,
      httpPort: 8080,
      httpHost: '0.0.0.0',
      tokenConfig: '/etc/swarming_config/oauth2_access_token_config.json',
      stateDir: '/home/op/.local/state/farm-agent',
      botCrashWindow: 600_000,
      logLevel: 'info',
    });
    expect(config.swarmingServer).toBeUndefined();
    expect(unknown).toEqual([]);
  });

  it('reads the environment and strips a trailing slash from the server', () => {
    const { config } = loadConfig(
      { FARM_SWARMING_SERVER: 'https://swarm.example.com/', FARM_HOOK_PORT: '12000' },
      ctx,
    );
    expect(config.swarmingServer).toBe('https://swarm.example.com');
    expect(config.hookPort).toBe(12000);
  });

  it.each([
    ['FARM_HOOK_PORT', 'abc', 'FARM_HOOK_PORT="abc": expected a TCP port'],
    ['FARM_HTTP_PORT', '70000', 'FARM_HTTP_PORT="70000": expected a TCP port'],
    ['FARM_SWARMING_SERVER', 'swarm.example.com', 'FARM_SWARMING_SERVER="swarm.example.com"'],
    ['FARM_SWARMING_SERVER', 'ftp://x', 'expected an http(s) URL'],
    ['FARM_BOT_ID', 'bad id', 'FARM_BOT_ID="bad id"'],
    ['FARM_BOT_CRASH_WINDOW', '10', 'expected a duration'],
    ['FARM_BOT_CRASH_LIMIT', '0', 'FARM_BOT_CRASH_LIMIT="0"'],
    ['FARM_LOG_LEVEL', 'loud', 'expected one of trace, debug'],
    ['FARM_BOT_USER', 'no-such-user', 'FARM_BOT_USER="no-such-user": no user'],
  ])('%s=%s stops start-up with a message naming the setting', (name, value, message) => {
    expect(() => loadConfig({ [name]: value }, ctx)).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value }, ctx)).toThrow(message);
  });

  it.each([
    [{ FARM_BOT_ID_PATTERN: '{node}' }, 'FARM_BOT_ID_PATTERN="{node}"'],
    [{ FARM_BATTERY_MIN: '40', FARM_BATTERY_RESUME: '35' }, 'recovery would flap'],
    [{ FARM_TEMPERATURE_MAX: '35', FARM_TEMPERATURE_RESUME: '36' }, 'recovery would flap'],
    [{ FARM_HOOK_PORT: '9000', FARM_HTTP_PORT: '9000' }, 'are both 9000'],
    [{ FARM_HOST_TEMPERATURE_RESUME: '85' }, 'host maintenance would flap'],
  ])('refuses settings that cannot work together: %j', (env, message) => {
    expect(() => loadConfig(env, ctx)).toThrow(message);
  });

  it('reads sizes as Kubernetes writes them', () => {
    expect(loadConfig({ FARM_HOST_DISK_MIN_FREE: '2Gi' }, ctx).config.hostDiskMinFree).toBe(
      2 * 1024 ** 3,
    );
    expect(loadConfig({}, ctx).config.hostDiskMinFree).toBe(500 * 1024 ** 2);
    expect(() => loadConfig({ FARM_HOST_DISK_MIN_FREE: '2GB' }, ctx)).toThrow(
      'FARM_HOST_DISK_MIN_FREE="2GB": expected a size',
    );
  });

  it('reads booleans and TCP serials', () => {
    const { config } = loadConfig(
      { FARM_ADB_EXTERNAL: 'yes', FARM_ADB_TCP_DEVICES: '127.0.0.1:5555, phone-7.lab:5555' },
      ctx,
    );
    expect(config.adbExternal).toBe(true);
    expect(config.adbTcpDevices).toEqual(['127.0.0.1:5555', 'phone-7.lab:5555']);
    expect(() => loadConfig({ FARM_ADB_EXTERNAL: 'maybe' }, ctx)).toThrow(
      'FARM_ADB_EXTERNAL="maybe": expected true or false',
    );
    expect(() => loadConfig({ FARM_ADB_TCP_DEVICES: 'phone' }, ctx)).toThrow(
      'FARM_ADB_TCP_DEVICES="phone"',
    );
  });

  it('reports every bad setting at once', () => {
    const error = (() => {
      try {
        loadConfig({ FARM_HOOK_PORT: 'x', FARM_HTTP_PORT: 'y' }, ctx);
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error.message).toContain('FARM_HOOK_PORT');
    expect(error.message).toContain('FARM_HTTP_PORT');
  });

  it('names a bad default derived from the host', () => {
    expect(() => loadConfig({}, { hostname: 'bad host', home: '/' })).toThrow(
      'FARM_NODE_NAME="bad host" (the default)',
    );
  });

  it('layers the environment over a config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'farm.json');
    writeFileSync(file, JSON.stringify({ FARM_HOOK_PORT: 12001, FARM_POOL: 'Lab' }));
    const { config } = loadConfig({ FARM_CONFIG_FILE: file, FARM_POOL: 'Override' }, ctx);
    expect(config.hookPort).toBe(12001);
    expect(config.pool).toBe('Override');
  });

  it('rejects an unreadable or malformed config file naming it', () => {
    expect(() => loadConfig({ FARM_CONFIG_FILE: '/nonexistent/farm.json' }, ctx)).toThrow(
      'FARM_CONFIG_FILE="/nonexistent/farm.json"',
    );
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '[1,2]');
    expect(() => loadConfig({ FARM_CONFIG_FILE: file }, ctx)).toThrow('expected a JSON object');
  });

  it('lists unknown FARM_ variables so typos are visible', () => {
    const { unknown } = loadConfig({ FARM_HOOK_PROT: '1', PATH: '/bin' }, ctx);
    expect(unknown).toEqual(['FARM_HOOK_PROT']);
  });
});

describe('ranges', () => {
  it.each([
    // intervals: the probe's 1 ms Lease renewal sent 5,212 requests in 20 s
    ['FARM_LEASE_RENEW_INTERVAL', '1ms', 'expected a duration (ms, s, m or h) from 1s to 5m'],
    ['FARM_LEASE_RENEW_INTERVAL', '6m', 'expected a duration (ms, s, m or h) from 1s to 5m'],
    ['FARM_DEVICE_REFRESH', '999ms', 'expected a duration (ms, s, m or h) from 1s to 1h'],
    ['FARM_IDLE_CHECK_INTERVAL', '25h', 'expected a duration (ms, s, m or h) from 1s to 24h'],
    ['FARM_BOT_CRASH_WINDOW', '1s', 'expected a duration (ms, s, m or h) from 10s to 24h'],
    ['FARM_BOT_STOP_GRACE', '0.5s', 'expected a duration (ms, s, m or h) from 1s to 10m'],
    ['FARM_OVERRIDES_POLL', 'soon', 'expected a duration (ms, s, m or h) from 1s to 1h'],
    // counts
    ['FARM_BOT_CRASH_LIMIT', '0', 'expected a whole number from 1 to 100'],
    ['FARM_BOT_CRASH_LIMIT', '101', 'expected a whole number from 1 to 100'],
    ['FARM_IDLE_CHECKS', '2.5', 'expected a whole number from 1 to 1000'],
    ['FARM_IDLE_CHECKS', '1001', 'expected a whole number from 1 to 1000'],
    // sizes and shares
    ['FARM_HOST_DISK_MIN_FREE', '2Ti', 'expected a size (bytes, Ki, Mi, Gi or Ti) from 0 to 1Ti'],
    ['FARM_HOST_DISK_MIN_PERCENT', '60', 'expected a percentage from 0 to 50'],
    ['FARM_BATTERY_MIN', '-1', 'expected a percentage from 0 to 100'],
    ['FARM_HTTP_PORT', '0', 'expected a TCP port from 1 to 65535'],
    ['FARM_TEMPERATURE_MAX', '151', 'expected a temperature in °C from -40 to 150'],
  ])('%s=%s is refused with the allowed range', (name, value, message) => {
    expect(() => loadConfig({ [name]: value }, ctx)).toThrow(
      `${name}=${JSON.stringify(value)}: ${message}`,
    );
  });

  it('takes both ends of a range', () => {
    const low = { FARM_LEASE_RENEW_INTERVAL: '1s', FARM_BOT_CRASH_LIMIT: '1' };
    const high = { FARM_LEASE_RENEW_INTERVAL: '5m', FARM_BOT_CRASH_LIMIT: '100' };
    expect(loadConfig(low, ctx).config).toMatchObject({
      leaseRenewInterval: 1000,
      botCrashLimit: 1,
    });
    expect(loadConfig(high, ctx).config).toMatchObject({
      leaseRenewInterval: 300_000,
      botCrashLimit: 100,
    });
  });

  it('every numeric setting (interval, count, size, port, threshold) has one', () => {
    const { config } = loadConfig({}, ctx);
    const unbounded = (Object.keys(SETTINGS) as (keyof typeof SETTINGS)[])
      .filter((key) => typeof config[key] === 'number')
      .filter((key) => SETTINGS[key].parse.allowed === undefined);
    expect(unbounded).toEqual([]);
  });
});

describe('settingsMarkdown', () => {
  it('has one row per setting, with its allowed range', () => {
    const table = settingsMarkdown();
    for (const spec of Object.values(SETTINGS)) expect(table).toContain(`\`${spec.env}\``);
    expect(table.split('\n')).toHaveLength(Object.keys(SETTINGS).length + 2);
    expect(table).toContain('| `FARM_LEASE_RENEW_INTERVAL` | `10s` | 1s – 5m |');
  });
});
