import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureLogger } from '../../test/rigs/test-bots.js';
import type { BotDeviceView } from './bot-devices.js';
import { BotAnswers, clip, type HookExchange } from './hook-answers.js';

afterEach(() => {
  vi.useRealTimers();
});

const view = (overrides: Partial<BotDeviceView> = {}): BotDeviceView => ({
  dimensions: { device_type: ['walleye'] },
  ready: true,
  ...overrides,
});

describe('BotAnswers', () => {
  it('answers the state with every quarantine reason and the maintenance, and records it', async () => {
    const exchanges: HookExchange[] = [];
    const answers = new BotAnswers({
      devices: { view: async () => view({ quarantined: 'battery hot', maintenance: 'rebooting' }) },
      botQuarantine: () => 'crash loop',
      onAnswered: (e) => exchanges.push(e),
      logger: pino({ level: 'silent' }),
    });
    const answer = await answers.state('b', { disks: {} });
    expect(answer).toMatchObject({
      quarantined: 'crash loop; battery hot',
      maintenance: 'rebooting',
    });
    expect(exchanges).toEqual([{ hook: 'get_state', botId: 'b', botOwn: { disks: {} }, answer }]);
  });

  it('quarantines a bot whose device view does not come in time, naming why', async () => {
    vi.useFakeTimers();
    const answers = new BotAnswers({
      devices: { view: () => new Promise<never>(() => {}) },
      botQuarantine: () => undefined,
      logger: pino({ level: 'silent' }),
    });
    const pending = answers.dimensions('b', { os: ['Android'] });
    await vi.advanceTimersByTimeAsync(4000);
    const dims = await pending;
    expect(dims['quarantined']).toEqual([
      'farm-agent cannot read devices: no answer within 4000 ms',
    ]);
    expect(dims['os']).toEqual(['Android']);
  });

  it('lets the device side own its dimensions and logs dropped values once per change', async () => {
    const { logger, records } = captureLogger();
    const answers = new BotAnswers({
      devices: { view: async () => view() },
      botQuarantine: () => undefined,
      pool: 'lab',
      logger,
    });
    const own = { device_type: ['bot-guess'], 'bad key!': ['x'], pool: ['mine'] };
    const dims = await answers.dimensions('b', own);
    await answers.dimensions('b', own);
    expect(dims).toMatchObject({ device_type: ['walleye'], pool: ['lab'], id: ['b'] });
    expect(records.filter((r) => r.msg === 'dimensions Swarming would reject')).toHaveLength(1);
  });

  it('clip keeps text within the limit in code points, marking the cut', () => {
    expect(clip('short', 10)).toBe('short');
    expect(clip('😀'.repeat(5), 3)).toBe('😀😀…');
  });
});
