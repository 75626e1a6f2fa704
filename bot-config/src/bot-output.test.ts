import { describe, expect, it } from 'vitest';
import { BotOutput } from './bot-output.js';

// Lines as the real bot writes them (luci logging_utils, UTC, severity letter).
const XRANDR_1 =
  "4242 2026-12-02 07:40:17.123 E: is_display_attached(): [Errno 2] No such file or directory: 'xrandr'";
const XRANDR_2 =
  "4242 2026-12-02 07:40:17.125 E: get_display_resolution(): [Errno 2] No such file or directory: 'xrandr'";

describe('BotOutput', () => {
  it('takes the level and pid from a python logging record', () => {
    const out = new BotOutput();
    expect(out.line('stderr', '4242 2026-12-02 07:40:17.123 E: poll failed: 503', 0)).toEqual({
      level: 'error',
      message: 'poll failed: 503',
      pid: 4242,
    });
    expect(out.line('stdout', '17 2026-12-02 07:40:17.123 W: low disk', 0)?.level).toBe('warn');
    expect(out.line('stdout', '17 2026-12-02 07:40:17.123 I: hello', 0)?.level).toBe('info');
    expect(out.line('stdout', '17 2026-12-02 07:40:17.123 D: x', 0)?.level).toBe('debug');
    expect(out.line('stdout', '17 2026-12-02 07:40:17.123 C: boom', 0)?.level).toBe('fatal');
    // The other luci format: `<pid> <time>: LEVEL message`.
    expect(out.line('stdout', '17 2026-12-02 07:40:17.123: WARNING careful', 0)).toMatchObject({
      level: 'warn',
      message: 'careful',
    });
  });

  it('keeps raw lines: info on stdout, warn on stderr, error for a traceback and what follows', () => {
    const out = new BotOutput();
    expect(out.line('stdout', 'test bot up', 0)).toEqual({ level: 'info', message: 'test bot up' });
    expect(out.line('stderr', 'something odd', 0)?.level).toBe('warn');
    expect(out.line('stderr', 'Traceback (most recent call last):', 0)?.level).toBe('error');
    expect(out.line('stderr', '  File "bot_main.py", line 1', 0)?.level).toBe('error');
    expect(out.line('stderr', 'ValueError: bad', 0)?.level).toBe('error');
  });

  it('gives continuation lines the level of the record they belong to', () => {
    const out = new BotOutput();
    out.line('stderr', '1 2026-12-02 07:40:17.123 E: handshake failed', 0);
    expect(out.line('stderr', '  detail line', 0)?.level).toBe('error');
    out.line('stderr', '1 2026-12-02 07:40:17.123 I: fine again', 0);
    expect(out.line('stderr', '  detail line', 0)?.level).toBe('info');
  });

  it('lets the xrandr noise through once per interval, as a warning, counting what it dropped', () => {
    const out = new BotOutput({ noiseIntervalMs: 1000 });
    const first = out.line('stderr', XRANDR_1, 0);
    expect(first).toMatchObject({ level: 'warn', noise: 'xrandr on a headless host' });
    expect(first?.suppressed).toBeUndefined();
    // Both probes are one kind of noise: the second line of the same poll is dropped.
    expect(out.line('stderr', XRANDR_2, 10)).toBeUndefined();
    for (let t = 100; t < 1000; t += 100) {
      expect(out.line('stderr', XRANDR_1, t)).toBeUndefined();
      expect(out.line('stderr', XRANDR_2, t)).toBeUndefined();
    }
    expect(out.line('stderr', XRANDR_1, 1000)).toMatchObject({ level: 'warn', suppressed: 19 });
    // With xrandr installed but no display, the probe fails differently: same noise.
    const noDisplay =
      "1 2026-12-02 07:40:17.123 E: get_display_resolution(): Command '['xrandr', '--display', ':0.0', '--query']' returned non-zero exit status 1.";
    expect(out.line('stderr', noDisplay, 1001)).toBeUndefined();
  });

  it('never drops a real error, even among the noise', () => {
    const out = new BotOutput();
    out.line('stderr', XRANDR_1, 0);
    expect(out.line('stderr', XRANDR_2, 1)).toBeUndefined();
    const real = out.line('stderr', '4242 2026-12-02 07:40:17.130 E: task_runner hung', 2);
    expect(real).toEqual({ level: 'error', message: 'task_runner hung', pid: 4242 });
    // A raw line after a dropped noise record is shown.
    out.line('stderr', XRANDR_2, 3);
    expect(out.line('stderr', 'OSError: disk full', 4)).toMatchObject({
      message: 'OSError: disk full',
    });
    // A display error that is not about a missing xrandr is not noise.
    expect(
      out.line('stderr', '1 2026-12-02 07:40:17.130 E: is_display_attached(): timed out', 5),
    ).toMatchObject({ level: 'error' });
  });
});
