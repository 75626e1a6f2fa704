import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ClusterSnapshot } from '../../agent/src/cluster/cluster-model.js';
import {
  ClusterReporter,
  type OperatorOverrides,
} from '../../agent/src/cluster/cluster-reporter.js';
import { KubeApi } from '../../agent/src/cluster/kube-client.js';
import { loadKubeConfig } from '../../agent/src/cluster/kube-config.js';
import { type FakeKube, startFakeKube } from '../rigs/fake-kube/index.js';
import { waitFor } from '../rigs/test-bots.js';

/**
 * The reporter as the DaemonSet pod runs it: in-cluster configuration from service-account
 * files, a self-signed HTTPS API server verified against ca.crt, the agent's namespace from the
 * namespace file. Lease, labels, Events and an override round trip, then an outage.
 */

let kube: FakeKube;
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cluster-reporter-e2e-'));
  kube = await startFakeKube({ tls: true });
  kube.put('nodes', { metadata: { name: 'pi-7' } });
  const dir = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'token'), kube.token);
  writeFileSync(join(dir, 'ca.crt'), kube.ca ?? '');
  writeFileSync(join(dir, 'namespace'), 'farm-system');
  vi.stubEnv('KUBERNETES_SERVICE_HOST', '127.0.0.1');
  vi.stubEnv('KUBERNETES_SERVICE_PORT', String(kube.port));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await kube.close();
  rmSync(root, { recursive: true, force: true });
});

describe('ClusterReporter in-cluster over TLS', () => {
  it('reports, takes an override, survives an outage and converges', async () => {
    const config = loadKubeConfig({ inClusterPrefix: root });
    if (config.connection === undefined) throw new Error(config.reason);
    expect(config).toMatchObject({ source: 'in-cluster', namespace: 'farm-system' });
    const api = new KubeApi(config.connection, { timeoutMs: 1000 });
    const snapshot: ClusterSnapshot = {
      node: 'pi-7',
      slots: [
        {
          name: 'usb-1-1-2',
          key: 'usb:1-1.2',
          botId: 'pi-7-usb-1-1-2',
          state: 'ready',
          deviceType: 'oriole',
          model: 'Pixel 6',
          batteryPercent: 95,
          temperatureC: 29.5,
        },
      ],
      lifecycle: { 'usb-1-1-2': { idleChecks: 2, asleep: false } },
      host: { model: 'Raspberry Pi 5', socC: 48 },
    };
    const reporter = new ClusterReporter({
      api,
      node: 'pi-7',
      namespace: config.namespace,
      podName: 'farm-agent-x1y2z',
      snapshot: () => structuredClone(snapshot),
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      renewIntervalMs: 100,
      overridesPollMs: 100,
      changeDebounceMs: 10,
      minChangeIntervalMs: 20,
      backoff: { initialMs: 20, maxMs: 100 },
    });
    const overrides: OperatorOverrides[] = [];
    reporter.onOverrides((o) => overrides.push(o));
    try {
      expect(await reporter.restore()).toBeUndefined();
      reporter.start();
      reporter.event({
        type: 'Normal',
        reason: 'Attached',
        note: 'Pixel 6 attached',
        slot: 'usb-1-1-2',
      });
      const lease = (): Record<string, string> | undefined =>
        kube.get('leases', 'farm-agent-pi-7', 'farm-system')?.metadata?.annotations as
          Record<string, string> | undefined;
      const labels = (): Record<string, string> | undefined =>
        kube.get('nodes', 'pi-7')?.metadata?.labels as Record<string, string> | undefined;
      await waitFor(
        'the first round',
        () =>
          lease() !== undefined && labels() !== undefined && reporter.status().pendingEvents === 0,
      );
      expect(lease()?.['farm-agent.io/idle-checks']).toBe('{"usb-1-1-2":2}');
      expect(JSON.parse(lease()?.['farm-agent.io/inventory'] ?? '')).toEqual({
        slots: [
          {
            name: 'usb-1-1-2',
            bot: 'pi-7-usb-1-1-2',
            state: 'ready',
            type: 'oriole',
            model: 'Pixel 6',
            battery: 95,
            tempC: 29.5,
          },
        ],
        host: { model: 'Raspberry Pi 5', socC: 48 },
      });
      expect(labels()).toEqual({
        'farm-agent.io/phones': '1',
        'farm-agent.io/device-types': 'oriole',
        'farm-agent.io/awake': 'true',
      });
      const event = kube.requests.find(
        (r) => r.path === '/apis/events.k8s.io/v1/namespaces/default/events',
      );
      expect(event?.status).toBe(201);

      await reporter.setOverride('quarantine', 'usb-1-1-2', 'screen cracked');
      expect(overrides.at(-1)).toEqual({
        node: {},
        slots: { 'usb-1-1-2': { quarantine: 'screen cracked' } },
      });

      await kube.setDown(true);
      snapshot.lifecycle['usb-1-1-2'] = { idleChecks: 0, asleep: true };
      snapshot.slots[0] = {
        ...snapshot.slots[0],
        state: 'asleep',
      } as ClusterSnapshot['slots'][number];
      reporter.changed();
      reporter.event({ type: 'Normal', reason: 'Slept', note: 'idle', slot: 'usb-1-1-2' });
      await waitFor('unreachable', () => !reporter.status().reachable);
      await kube.setDown(false);
      await waitFor(
        'converged',
        () =>
          labels()?.['farm-agent.io/awake'] === 'false' &&
          lease()?.['farm-agent.io/lifecycle'] === '{"usb-1-1-2":"asleep"}' &&
          reporter.status().pendingEvents === 0,
      );
      expect(reporter.status()).toMatchObject({ reachable: true });
      // Kept through the outage: the override is still what the Node says.
      expect(overrides.at(-1)).toEqual({
        node: {},
        slots: { 'usb-1-1-2': { quarantine: 'screen cracked' } },
      });
      expect(
        kube.requests.every((r) => r.status !== 401 && r.status !== 400 && r.status !== 422),
      ).toBe(true);
    } finally {
      await reporter.stop();
      api.close();
    }
  });
});
