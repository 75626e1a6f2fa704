import { describe, expect, it } from 'vitest';
import { clusterEventOf } from './bot-events.js';

describe('clusterEventOf', () => {
  it('turns an auth refusal into a Warning naming the bot and why, and its end into Normal', () => {
    expect(
      clusterEventOf('pi-1-usb-1-1', {
        type: 'auth_refused',
        botId: 'pi-1-usb-1-1',
        reason: 'Swarming refuses the bot (HTTP 401)',
      }),
    ).toEqual({
      type: 'Warning',
      reason: 'BotAuthRefused',
      note: 'pi-1-usb-1-1: Swarming refuses the bot (HTTP 401)',
    });
    expect(clusterEventOf('pi-1', { type: 'auth_accepted', botId: 'pi-1' })).toMatchObject({
      type: 'Normal',
      reason: 'BotAuthAccepted',
    });
  });

  it('keeps reporting crash restarts, and nothing for routine events', () => {
    expect(
      clusterEventOf('pi-1', {
        type: 'restart_scheduled',
        botId: 'pi-1',
        reason: 'crash',
        delayMs: 2400,
      }),
    ).toEqual({ type: 'Warning', reason: 'BotRestarted', note: 'pi-1 exited; restarting in 2 s' });
    expect(
      clusterEventOf('pi-1', {
        type: 'restart_scheduled',
        botId: 'pi-1',
        reason: 'reboot_requested',
        delayMs: 0,
      }),
    ).toBeUndefined();
    expect(
      clusterEventOf('pi-1', { type: 'started', botId: 'pi-1', pid: 1, at: 0 }),
    ).toBeUndefined();
  });
});
