/**
 * (b, continued) The agent's adb server SIGKILLed again and again, as a crash would: how long
 * until every phone is `ready` on a new server, and what the slots said meanwhile.
 */
import { hostRequest } from '../../test/rigs/adb-server.js';
import { percentile, SOAK_QUICK, sleep, summarise } from '../lib.js';
import { getStatus, type StatusView } from './hook-client.js';
import { growthChecks, reading, SECTION, type PhoneRig } from './phone-rig.js';
import type { Check } from './report.js';

const KILLS = SOAK_QUICK ? 4 : 100;
// 100 kills at ~4 s of recovery plus the pause each: ~8 minutes, with room for a slow one.
const KILL_BUDGET_MS = SOAK_QUICK ? 40_000 : 600_000;
const RECOVER_TIMEOUT_MS = 60_000;
/** After recovery, the next kill comes this much later: a server crashing every few seconds. */
const BETWEEN_KILLS_MS = 1000;
const POLL_MS = 50;
/** The slots must stop saying `ready` within this long of the server dying. */
const TRUTH_WITHIN_MS = 1000;

interface Kill {
  /** Until every slot is ready again on a new server (NaN: not within the timeout). */
  recoverMs: number;
  /** Until no slot said `ready` (the recovery time if they never stopped). */
  truthMs: number;
  /** States the slots showed while no new server was up yet. */
  statesWhileDown: Set<string>;
}

const pidOf = (s: StatusView): number | undefined => s.devices.adbServer?.pid;

/** Whether the (new) adb server itself lists every phone as `device`. */
async function adbHasAll(rig: PhoneRig): Promise<boolean> {
  const answer = await hostRequest(rig.agent.adbPort, 'host:devices', 500).catch(() => '');
  const listed = new Set(
    answer
      .slice(8)
      .split('\n')
      .filter((line) => line.endsWith('\tdevice'))
      .map((line) => line.split('\t')[0]),
  );
  return rig.phones.every((p) => listed.has(p.serial));
}

async function killOnce(rig: PhoneRig): Promise<Kill> {
  const old = pidOf(await getStatus(rig.agent.httpUrl));
  if (old === undefined) throw new Error('no adb server pid in /status');
  process.kill(old, 'SIGKILL');
  const t0 = Date.now();
  let truthMs: number | undefined;
  const statesWhileDown = new Set<string>();
  while (Date.now() - t0 < RECOVER_TIMEOUT_MS) {
    await sleep(POLL_MS);
    let status: StatusView;
    try {
      status = await getStatus(rig.agent.httpUrl);
    } catch {
      continue;
    }
    const now = Date.now() - t0;
    const pid = pidOf(status);
    const ready = status.slots.filter((s) => s.state === 'ready').length;
    if (pid === undefined || pid === old) {
      for (const slot of status.slots) statesWhileDown.add(slot.state);
    }
    if (truthMs === undefined && ready === 0) truthMs = now;
    // Recovered: a new server, which has every phone back, and every slot ready again.
    if (pid !== undefined && pid !== old && ready === rig.phones.length && (await adbHasAll(rig))) {
      return { recoverMs: now, truthMs: truthMs ?? now, statesWhileDown };
    }
  }
  return { recoverMs: NaN, truthMs: truthMs ?? NaN, statesWhileDown };
}

export async function adbKills(rig: PhoneRig): Promise<Check[]> {
  const start = await reading(rig);
  const deadline = Date.now() + KILL_BUDGET_MS;
  const kills: Kill[] = [];
  while (kills.length < KILLS && Date.now() < deadline) {
    const kill = await killOnce(rig);
    kills.push(kill);
    if (Number.isNaN(kill.recoverMs)) break;
    await sleep(BETWEEN_KILLS_MS);
  }
  const end = await reading(rig);
  const recovered = kills.filter((k) => !Number.isNaN(k.recoverMs)).map((k) => k.recoverMs / 1000);
  const r = summarise(recovered);
  const truth = kills.map((k) => k.truthMs);
  const seen = new Set(kills.flatMap((k) => [...k.statesWhileDown]));
  const ms = (x: number): string => `${Math.round(x)} ms`;
  return [
    {
      section: SECTION,
      figure: `adb server kills done (of ${KILLS}, budget ${KILL_BUDGET_MS / 1000} s)`,
      value: kills.length,
      unit: 'kills',
      min: KILLS,
      note: `SIGKILL, next one ${BETWEEN_KILLS_MS / 1000} s after recovery`,
    },
    {
      section: SECTION,
      figure: `kills not recovered within ${RECOVER_TIMEOUT_MS / 1000} s`,
      value: kills.length - recovered.length,
      unit: 'kills',
      max: 0,
    },
    {
      section: SECTION,
      figure: 'kill → all phones ready on a new server, median',
      value: r.p50,
      unit: 's',
      max: 5,
      note: `p95 ${percentile(recovered, 95).toFixed(1)} s, max ${r.max.toFixed(1)} s, min ${r.min.toFixed(1)} s`,
    },
    {
      section: SECTION,
      figure: 'kill → all phones ready on a new server, p95',
      value: percentile(recovered, 95),
      unit: 's',
      max: 10,
    },
    {
      section: SECTION,
      figure: `kills after which a slot still said ready ${TRUTH_WITHIN_MS / 1000} s later`,
      value: kills.filter((k) => !(k.truthMs <= TRUTH_WITHIN_MS)).length,
      unit: 'kills',
      max: 0,
      note: `kill → no slot ready: median ${ms(percentile(truth, 50))}, max ${ms(Math.max(...truth))}; states while down: ${[...seen].sort().join(', ')}`,
    },
    ...growthChecks(
      'adb server kills',
      kills.length,
      start,
      end,
      `${start.fd.fds} → ${end.fd.fds}`,
    ),
  ];
}
