import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { agentFlagsToSet } from './v8-flags.js';

describe('agentFlagsToSet', () => {
  it('sets all its flags when the user gave none about the same things', () => {
    expect(agentFlagsToSet([], '')).toEqual(['--no-opt', '--no-sparkplug']);
    expect(agentFlagsToSet(['--enable-source-maps'], '--max-old-space-size=200')).toEqual([
      '--no-opt',
      '--no-sparkplug',
    ]);
  });

  it.each([
    [['--opt'], '', ['--no-sparkplug']],
    [['--turbofan'], '', ['--no-sparkplug']],
    [['--no-opt'], '', ['--no-sparkplug']],
    [['--sparkplug'], '', ['--no-opt']],
    [[], ' --expose-gc  --always_sparkplug ', ['--no-opt']],
    [['--opt'], '--sparkplug', []],
  ])('leaves the user their choice: execArgv %j, NODE_OPTIONS %j', (argv, env, expected) => {
    expect(agentFlagsToSet(argv, env)).toEqual(expected);
  });
});

/**
 * What the flags do, in a real node (the one running the tests) that sets them at run time
 * as the agent does: a function called hot stays in the interpreter, neither optimised
 * (TurboFan) nor baseline-compiled (Sparkplug). %GetOptimizationStatus bits: 16 optimised,
 * 128 interpreted.
 */
const probe = `
const flags = JSON.parse(process.argv[1]);
if (flags.length) require('node:v8').setFlagsFromString(flags.join(' '));
function add(a, b) { return a + b; }
let sum = 0;
for (let i = 0; i < 3e6; i++) sum = add(sum, i);
const status = %GetOptimizationStatus(add);
console.log(JSON.stringify({ optimised: (status & 16) !== 0, interpreted: (status & 128) !== 0 }));
`;

async function hotFunction(flags: string[]): Promise<{ optimised: boolean; interpreted: boolean }> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--allow-natives-syntax',
    '-e',
    probe,
    JSON.stringify(flags),
  ]);
  return JSON.parse(stdout) as { optimised: boolean; interpreted: boolean };
}

describe('the flags, set at run time', () => {
  it('keep a hot function in the interpreter', async () => {
    const [without, withFlags] = await Promise.all([
      hotFunction([]),
      hotFunction(agentFlagsToSet([])),
    ]);
    expect(without).toEqual({ optimised: true, interpreted: false });
    expect(withFlags).toEqual({ optimised: false, interpreted: true });
  });
});
