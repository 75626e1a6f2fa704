import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { HookRefusal, refuseStrangers } from './hook-guards.js';

describe('refuseStrangers', () => {
  it('asks about known bots only, and refuses with 403 and the reason', async () => {
    const asked: string[] = [];
    const guard = refuseStrangers(
      async (_request, botId, hook) => {
        asked.push(`${hook} ${botId}`);
        return botId === 'mine' ? undefined : 'not the bot process';
      },
      (botId) => botId !== 'unknown',
    );
    const request = {} as IncomingMessage;
    await expect(guard(request, 'mine', 'get_state')).resolves.toBeUndefined();
    await expect(guard(request, 'other', 'get_state')).rejects.toStrictEqual(
      new HookRefusal(403, 'not the bot process'),
    );
    await expect(guard(request, 'other', 'get_state')).rejects.toHaveProperty('statusCode', 403);
    // Unknown, missing and repeated ids are left to the header check and the 404.
    for (const id of ['unknown', undefined, ['mine', 'mine']]) {
      await expect(guard(request, id, 'get_state')).resolves.toBeUndefined();
    }
    expect(asked).toEqual(['get_state mine', 'get_state other', 'get_state other']);
  });
});
