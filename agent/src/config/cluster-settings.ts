import { durationIn, parseNonEmpty, parseSwarmingId } from './parse.js';
import { shortHostName, setting } from './setting.js';

/** What the agent reports to Kubernetes, where, and how often. */
export const CLUSTER_SETTINGS = {
  namespace: setting({
    env: 'FARM_NAMESPACE',
    doc: 'Namespace of the heartbeat Lease (Downward API `metadata.namespace`).',
    parse: parseSwarmingId,
    default: 'farm',
  }),
  podName: setting({
    env: 'FARM_POD_NAME',
    doc: 'Holder of the heartbeat Lease (Downward API `metadata.name`).',
    parse: parseSwarmingId,
    default: shortHostName,
    defaultDoc: 'short host name',
  }),
  kubeconfig: setting({
    env: 'FARM_KUBECONFIG',
    doc: 'Kubeconfig for runs outside the cluster (`KUBECONFIG` is deliberately ignored). In a pod the service account is used; with neither, the agent runs standalone. Set but missing or unusable: start-up stops.',
    parse: parseNonEmpty,
  }),
  leaseRenewInterval: setting({
    env: 'FARM_LEASE_RENEW_INTERVAL',
    doc: 'How often the node’s heartbeat Lease is renewed (it lasts four times as long).',
    parse: durationIn('1s', '5m'),
    default: '10s',
  }),
  overridesPoll: setting({
    env: 'FARM_OVERRIDES_POLL',
    doc: 'How often the Node is read for operator annotations (maintenance, quarantine).',
    parse: durationIn('1s', '1h'),
    default: '30s',
  }),
};
