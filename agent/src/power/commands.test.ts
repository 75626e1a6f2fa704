import { describe, expect, it } from 'vitest';
import { execCommand } from './commands.js';

describe('execCommand', () => {
  it('resolves with the output, rejects on a failing, missing or hung program', async () => {
    expect(await execCommand('sh', ['-c', 'echo on'], 5000)).toBe('on\n');
    await expect(execCommand('sh', ['-c', 'echo nope >&2; exit 3'], 5000)).rejects.toThrow(
      'sh -c echo nope >&2; exit 3 failed (3): nope',
    );
    await expect(execCommand('no-such-uhubctl', [], 5000)).rejects.toThrow('failed (ENOENT)');
    await expect(execCommand('sleep', ['5'], 100)).rejects.toThrow('no answer within 100 ms');
  });
});
