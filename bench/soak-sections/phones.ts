/**
 * (b) File descriptors and memory of the agent across phone drops and adb server kills: four
 * fake phones over the real Debian adb server the agent supervises, no cluster (nothing else
 * opens sockets). Drops alternate a cable glitch (adb reconnects by itself) and an unplug
 * (`host:disconnect`, then `host:connect`); after each the phone must be `ready` again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostRequest } from '../../test/rigs/adb-server.js';
import { startFakePhone, type FakePhone } from '../../test/rigs/fake-adbd/index.js';
import { pollUntil, SOAK_QUICK, sleep } from '../lib.js';
import { startAgent, waitForSlots } from '../rig.js';
import { adbKills } from './adb-kills.js';
import { getStatus } from './hook-client.js';
import { growthChecks, reading, SECTION, type PhoneRig } from './phone-rig.js';
import type { Check } from './report.js';

const PHONES = 4;
const DROPS = SOAK_QUICK ? 40 : 1000;
const DROP_BUDGET_MS = SOAK_QUICK ? 45_000 : 300_000;
const BACK_TIMEOUT_MS = 20_000;
async function slotState(rig: PhoneRig, serial: string): Promise<string | undefined> {
  return (await getStatus(rig.agent.httpUrl)).slots.find((s) => s.serial === serial)?.state;
}

/** One drop of one phone; resolves once it is `ready` again, false if it never came back. */
async function drop(rig: PhoneRig, phone: FakePhone, unplug: boolean): Promise<boolean> {
  const { adbPort } = rig.agent;
  if (unplug) {
    await hostRequest(adbPort, `host:disconnect:${phone.serial}`).catch(() => undefined);
    await pollUntil(
      'unplugged phone leaves ready',
      async () => ((await slotState(rig, phone.serial)) !== 'ready' ? true : undefined),
      5000,
      50,
    ).catch(() => undefined);
    await hostRequest(adbPort, `host:connect:${phone.serial}`).catch(() => undefined);
  } else {
    phone.dropConnection();
    // adb sees it offline within ~10 ms and reconnects by itself at ~260 ms.
    await sleep(300);
  }
  try {
    await pollUntil(
      'phone ready again',
      async () => ((await slotState(rig, phone.serial)) === 'ready' ? true : undefined),
      BACK_TIMEOUT_MS,
      100,
    );
    return true;
  } catch {
    return false;
  }
}

async function drops(rig: PhoneRig): Promise<Check[]> {
  const start = await reading(rig);
  const trail = [start.fd.fds];
  const deadline = Date.now() + DROP_BUDGET_MS;
  let done = 0;
  let lost = 0;
  // Four quarters, each phone dropping its share in parallel; fds are read between quarters.
  for (let quarter = 0; quarter < 4 && Date.now() < deadline; quarter++) {
    const each = Math.ceil(DROPS / 4 / PHONES);
    await Promise.all(
      rig.phones.map(async (phone, p) => {
        for (let i = 0; i < each && Date.now() < deadline && done < DROPS; i++) {
          done += 1;
          if (!(await drop(rig, phone, (i + p) % 2 === 1))) lost += 1;
        }
      }),
    );
    trail.push((await reading(rig)).fd.fds);
  }
  const end = await reading(rig);
  const ready = (await getStatus(rig.agent.httpUrl)).slots.filter((s) => s.state === 'ready');
  return [
    {
      section: SECTION,
      figure: `phone drops done (of ${DROPS}, budget ${DROP_BUDGET_MS / 1000} s)`,
      value: done,
      unit: 'drops',
      min: DROPS,
      note: 'glitch and unplug alternating, 4 phones in parallel',
    },
    {
      section: SECTION,
      figure: `drops after which the phone was not ready within ${BACK_TIMEOUT_MS / 1000} s`,
      value: lost,
      unit: 'drops',
      max: 0,
      note: `${ready.length} of ${PHONES} slots ready at the end`,
    },
    ...growthChecks('phone drops', done, start, end, `fds by quarter ${trail.join(' → ')}`),
  ];
}

export async function phones(): Promise<Check[]> {
  const dir = await mkdtemp(join(tmpdir(), 'soak-phones-'));
  const fakes = await Promise.all(
    Array.from({ length: PHONES }, () =>
      startFakePhone({ thermal: [], battery: { temperature: 280 } }),
    ),
  );
  const heapFile = join(dir, 'heap.json');
  const agent = await startAgent(
    { FARM_ADB_TCP_DEVICES: fakes.map((p) => p.serial).join(',') },
    heapFile,
  );
  const rig: PhoneRig = { agent, phones: fakes, heapFile };
  try {
    await waitForSlots(agent, PHONES, 'ready', 60_000);
    const checks = await drops(rig);
    checks.push(...(await adbKills(rig)));
    const alive = agent.child.exitCode === null && agent.child.signalCode === null;
    checks.push({
      section: SECTION,
      figure: 'agent alive at the end',
      value: alive ? 1 : 0,
      unit: 'yes',
      min: 1,
    });
    return checks;
  } finally {
    await agent.stop();
    await Promise.all(fakes.map((p) => p.close()));
    await rm(dir, { recursive: true, force: true });
  }
}
