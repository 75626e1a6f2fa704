/** What the phone drops and the adb server kills share: the rig, and reading fds and memory. */
import type { AgentProcess } from '../../test/rigs/agent-process.js';
import type { FakePhone } from '../../test/rigs/fake-adbd/index.js';
import { fdSample, SOAK_QUICK, sleep, type FdSample } from '../lib.js';
import { heapAfterGc } from '../rig.js';
import type { Check } from './report.js';

export const SECTION = 'b phones';
/** Lingering closes (adb's own, TIME_WAIT handling) get this long before fds are counted. */
const SETTLE_MS = SOAK_QUICK ? 2000 : 5000;
/** Descriptors a run may add in all (a cache warming up), not per event. */
const MAX_FD_GROWTH = 5;
const MAX_RSS_GROWTH_MIB = 32;

export interface PhoneRig {
  agent: AgentProcess;
  phones: FakePhone[];
  heapFile: string;
}

export interface Reading {
  fd: FdSample;
  rssMib: number;
}

/** fds and RSS after GC, once the agent has settled. */
export async function reading(rig: PhoneRig): Promise<Reading> {
  await sleep(SETTLE_MS);
  const heap = await heapAfterGc(rig.agent, rig.heapFile);
  return { fd: fdSample(rig.agent.child.pid ?? 0), rssMib: heap.rss / 2 ** 20 };
}

export function growthChecks(
  what: string,
  events: number,
  a: Reading,
  b: Reading,
  trail: string,
): Check[] {
  const fds = b.fd.fds - a.fd.fds;
  return [
    {
      section: SECTION,
      figure: `open fds, growth over ${events} ${what}`,
      value: fds,
      unit: 'fds',
      max: MAX_FD_GROWTH,
      note: `${(fds / Math.max(1, events)).toFixed(3)} per event; ${trail}; sockets ${a.fd.sockets} → ${b.fd.sockets}`,
    },
    {
      section: SECTION,
      figure: `RSS after GC, growth over ${events} ${what}`,
      value: b.rssMib - a.rssMib,
      unit: 'MiB',
      max: MAX_RSS_GROWTH_MIB,
      note: `${a.rssMib.toFixed(0)} → ${b.rssMib.toFixed(0)} MiB`,
    },
  ];
}
