/**
 * 7. The farm gate at scale: the real `farm-agent gate` against the fake API holding 1,000
 * agent Leases of 16 phones each (written by the agent's own code), 1,000 Nodes and the
 * DaemonSet's 1,000 pods. Its memory beside a bare Node process, `/status` and `/phones`
 * latency beside `/healthz`, API reads per second beside two lists per interval, and the
 * page's time to its first 100 rows in Chromium beside the `/phones` request it makes.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { SnapshotSlot } from '../../agent/src/cluster/cluster-model.js';
import { leaseBody } from '../../agent/src/cluster/lease-writer.js';
import { LIST_PAGE } from '../../agent/src/gate/gate-kube.js';
import { startAgentProcess } from '../../test/rigs/agent-process.js';
import { startFakeKube } from '../../test/rigs/fake-kube/index.js';
import { writeKubeconfig } from '../../test/rigs/fake-kube/kubeconfig.js';
import { pollUntil, procSample, QUICK, sleep, summarise, type Row } from '../lib.js';

const NODES = QUICK ? 100 : 1000;
const PHONES = 16;
const RELIST_S = 10;
const WINDOW_MS = QUICK ? 20_000 : 60_000;
const REQUESTS = QUICK ? 10 : 50;

function phones(node: number): SnapshotSlot[] {
  return Array.from({ length: PHONES }, (_, i) => ({
    name: `usb-1-1-${i + 1}`,
    key: `usb:1-1.${i + 1}`,
    botId: `pi-${node}-usb-1-1-${i + 1}`,
    state: i % 5 === 0 ? 'busy' : i % 7 === 0 ? 'asleep' : 'ready',
    deviceType: i % 2 === 0 ? 'sargo' : 'walleye',
    model: i % 2 === 0 ? 'Pixel 3a' : 'Pixel 2',
    serial: `SER${node}X${i}`,
    batteryPercent: 50 + ((node + i) % 50),
    temperatureC: 25 + (i % 10),
    uptimeSeconds: 3600 * (1 + ((node * i) % 40)),
    dimensions: {
      device_type: [i % 2 === 0 ? 'sargo' : 'walleye'],
      device_os: ['Q', 'QP1A.190711.020'],
      device_os_flavor: ['google'],
      os: ['Android'],
    },
  }));
}

async function timed(url: string, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    times.push(performance.now() - t0);
  }
  return times;
}

export async function gate(): Promise<Row[]> {
  const kube = await startFakeKube({});
  const dir = await mkdtemp(join(tmpdir(), 'bench-gate-'));
  const floor = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const now = Date.now();
  const ds = kube.put(
    'daemonsets',
    {
      metadata: { name: 'farm-agent' },
      spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'farm-agent' } } },
    },
    'farm',
  );
  kube.put(
    'controllerrevisions',
    {
      metadata: {
        name: 'farm-agent-h1',
        labels: { 'app.kubernetes.io/name': 'farm-agent', 'controller-revision-hash': 'h1' },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'DaemonSet',
            name: 'farm-agent',
            uid: String(ds.metadata?.uid),
          },
        ],
      },
      revision: 1,
    },
    'farm',
  );
  for (let n = 1; n <= NODES; n++) {
    const node = `pi-${n}`;
    kube.put('nodes', {
      metadata: { name: node, labels: { 'farm-agent.io/phones-host': 'true' } },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const lease = leaseBody(
      { name: `farm-agent-${node}`, holder: `farm-agent-${n}`, durationSeconds: 40 },
      { node, slots: phones(n), lifecycle: {}, address: `10.0.${n >> 8}.${n & 255}:8080` },
      now,
    );
    kube.put('leases', JSON.parse(JSON.stringify(lease)), 'farm');
    kube.put(
      'pods',
      {
        metadata: {
          name: `farm-agent-${n}`,
          labels: { 'app.kubernetes.io/name': 'farm-agent', 'controller-revision-hash': 'h1' },
        },
        spec: { nodeName: node },
        status: { conditions: [{ type: 'Ready', status: 'True' }] },
      },
      'farm',
    );
  }
  const gateProcess = await startAgentProcess(
    {
      FARM_KUBECONFIG: writeKubeconfig(kube, dir),
      FARM_NAMESPACE: 'farm',
      FARM_LOG_LEVEL: 'info',
      FARM_GATE_RELIST_INTERVAL: `${RELIST_S}s`,
      FARM_GATE_STANDBY: 'sargo=2,*=1',
    },
    'gate',
  );
  const pid = gateProcess.child.pid ?? 0;
  try {
    const url = gateProcess.httpUrl;
    await pollUntil(
      'the gate to list the farm',
      async () => {
        const res = await fetch(`${url}/phones?limit=1`);
        const body = (await res.json()) as { total?: number };
        return body.total === NODES * PHONES ? true : undefined;
      },
      120_000,
    );
    // A whole interval, so the first round (standby patches) is behind.
    await sleep(RELIST_S * 1000 + 2000);
    const from = Date.now();
    const seen = kube.requests.length;
    await sleep(WINDOW_MS);
    const window = kube.requests.slice(seen).filter((r) => r.method === 'GET');
    const readsPerSecond = window.length / ((Date.now() - from) / 1000);
    // Two lists (Leases, Nodes) of ceil(n/500) pages, plus the rollout's DaemonSet, revisions
    // and pods, per interval.
    const pages = Math.ceil(NODES / LIST_PAGE);
    const listFloor = (2 * pages) / RELIST_S;

    const rss = procSample(pid).rssBytes / 2 ** 20;
    const floorRss = procSample(floor.pid ?? 0).rssBytes / 2 ** 20;
    const status = summarise(await timed(`${url}/status`, REQUESTS));
    const table = summarise(
      await timed(`${url}/phones?sort=battery&dir=desc&q=state:ready`, REQUESTS),
    );
    const health = summarise(await timed(`${url}/healthz`, REQUESTS));
    const statusBytes = (await (await fetch(`${url}/status`)).arrayBuffer()).byteLength;

    const profile = await mkdtemp(join(tmpdir(), 'bench-gate-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      viewport: { width: 1400, height: 900 },
    });
    const renders: number[] = [];
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      for (let i = 0; i < (QUICK ? 3 : 10); i++) {
        const t0 = performance.now();
        await page.goto(`${url}/`);
        await page.locator('tr.phone').nth(99).waitFor();
        renders.push(performance.now() - t0);
      }
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
    const render = summarise(renders);
    const farm = `${NODES} nodes × ${PHONES} phones`;
    return [
      {
        section: '7 gate',
        figure: `gate RSS, ${farm}`,
        value: rss,
        unit: 'MiB',
        floor: floorRss,
        floorLabel: 'bare Node',
      },
      {
        section: '7 gate',
        figure: `/status p50 (${Math.round(statusBytes / 2 ** 20)} MiB JSON)`,
        value: status.p50,
        unit: 'ms',
        floor: health.p50,
        floorLabel: '/healthz',
      },
      {
        section: '7 gate',
        figure: '/status p99',
        value: status.p99,
        unit: 'ms',
        floor: health.p99,
        floorLabel: '/healthz',
      },
      {
        section: '7 gate',
        figure: '/phones p50 (filter, sort, 100 rows)',
        value: table.p50,
        unit: 'ms',
        floor: health.p50,
        floorLabel: '/healthz',
      },
      {
        section: '7 gate',
        figure: 'API reads per second',
        value: readsPerSecond,
        unit: '/s',
        floor: listFloor,
        floorLabel: 'two paged lists per interval',
        note: 'the rest: the rollout reading the DaemonSet, its revisions and pods',
      },
      {
        section: '7 gate',
        figure: 'page to 100 rows in Chromium, p50',
        value: render.p50,
        unit: 'ms',
        floor: table.p50,
        floorLabel: 'its /phones request',
      },
    ];
  } finally {
    await gateProcess.stop();
    floor.kill();
    await kube.close();
    await rm(dir, { recursive: true, force: true });
  }
}
