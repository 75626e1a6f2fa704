import { describe, expect, it } from 'vitest';
import { defaultState, runShellCommand } from '../../../../test/rigs/fake-adbd/shell.js';
import { KERNEL_READS_COMMAND, splitKernelReads } from './kernel-reads.js';
import { POWER_SUPPLY_COMMAND } from './power-supply.js';

/** What the fake phone (mksh's `;`, echo, cat, getprop, grep) prints for the command. */
function phoneOutput(): string {
  const result = runShellCommand(defaultState(), KERNEL_READS_COMMAND);
  if (result.kind !== 'output') throw new Error('hung');
  return result.text;
}

describe('KERNEL_READS_COMMAND', () => {
  it('runs the three reads in turn with a mark between them', () => {
    expect(KERNEL_READS_COMMAND).toBe(
      `cat /proc/uptime; echo :farm-agent:boot; getprop sys.boot_completed; echo :farm-agent:files; ${POWER_SUPPLY_COMMAND}`,
    );
  });
});

describe('splitKernelReads', () => {
  it('gives each section what its own command prints', () => {
    const sections = splitKernelReads(phoneOutput());
    expect(sections.uptime).toBe('12345.67 43209.85');
    expect(sections.boot).toBe('1');
    expect(sections.files?.split('\n')).toContain('/sys/class/power_supply/battery/temp:280');
  });

  it('reads old adb’s CRLF output', () => {
    const sections = splitKernelReads(phoneOutput().replaceAll('\n', '\r\r\n'));
    expect(sections.uptime).toBe('12345.67 43209.85');
    expect(sections.boot).toBe('1');
  });

  it('keeps an empty section (a phone still booting) apart from a missing one', () => {
    expect(splitKernelReads('5.00 9.00\n:farm-agent:boot\n\n:farm-agent:files\n')).toEqual({
      uptime: '5.00 9.00',
      boot: '',
      files: '',
    });
  });

  it('leaves out the sections whose mark never came', () => {
    expect(splitKernelReads('5.00 9.00\n:farm-agent:boot\n1\n')).toEqual({
      uptime: '5.00 9.00',
      boot: '1\n',
    });
    expect(splitKernelReads('/system/bin/sh: cat: inaccessible or not found\n')).toEqual({
      uptime: '/system/bin/sh: cat: inaccessible or not found\n',
    });
  });

  it('takes marks only in their order', () => {
    expect(splitKernelReads(':farm-agent:files\n:farm-agent:boot\n1')).toEqual({
      uptime: ':farm-agent:files',
      boot: '1',
    });
  });
});
