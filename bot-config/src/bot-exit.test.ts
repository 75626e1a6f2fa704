import { describe, expect, it } from 'vitest';
import { classifyExit, describeExit, type BotExit } from './bot-exit.js';

const exit = (code: number | null, signal: string | null = null): BotExit => ({
  code,
  signal,
  at: 0,
});

describe('classifyExit', () => {
  it.each([
    // [exit, stopped, rebootRequested, kind]
    [exit(0), false, false, 'terminated'],
    [exit(1), false, false, 'crash'],
    [exit(null, 'SIGSEGV'), false, false, 'crash'],
    [{ ...exit(null), error: 'spawn python3 ENOENT' }, false, false, 'crash'],
    // The sudo shim's SIGKILL after a reboot request is expected, even during a stop.
    [exit(null, 'SIGKILL'), false, true, 'reboot_requested'],
    [exit(null, 'SIGKILL'), true, true, 'reboot_requested'],
    [exit(0), false, true, 'reboot_requested'],
    // What the agent's own stop causes is neither a crash nor the bot ending itself.
    [exit(null, 'SIGTERM'), true, false, 'stopped'],
    [exit(0), true, false, 'stopped'],
  ] as const)('%o stopped=%s reboot=%s is %s', (botExit, stopped, rebootRequested, kind) => {
    expect(classifyExit(botExit, { stopped, rebootRequested })).toBe(kind);
  });
});

describe('describeExit', () => {
  it('names the spawn error, else the signal, else the code', () => {
    expect(describeExit({ ...exit(null), error: 'spawn python3 ENOENT' })).toBe(
      'spawn python3 ENOENT',
    );
    expect(describeExit(exit(null, 'SIGSEGV'))).toBe('signal SIGSEGV');
    expect(describeExit(exit(3))).toBe('exit code 3');
  });
});
