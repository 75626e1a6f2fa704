import { describe, expect, it } from 'vitest';
import { NOW, node, phone } from '../../../test/rigs/fleet-fixtures.js';
import { nextRolloutStep, type AgentPod, type RolloutState } from './rollout-plan.js';

const HOUR = 3_600_000;
const pod = (name: string, nodeName: string, hash: string, ready = true): AgentPod => ({
  name,
  uid: `uid-${name}`,
  node: nodeName,
  hash,
  ready,
});

describe('nextRolloutStep', () => {
  const IDLE: RolloutState = { phase: 'idle' };

  it('does nothing while every pod runs the current revision', () => {
    const world = { currentHash: 'new', pods: [pod('a', 'pi-1', 'new')], fleet: [] };
    expect(nextRolloutStep(IDLE, world, NOW, HOUR)).toEqual({ state: IDLE });
  });

  it('drains an old node, deletes its pod once no task runs, lifts the drain once the new agent reports', () => {
    const old = pod('a', 'pi-1', 'old');
    const busy = node('pi-1', [phone('pi-1', 's', { state: 'busy' })], { pod: 'a' });
    const idleNode = node('pi-2', [phone('pi-2', 's')], { pod: 'b' });
    const world = {
      currentHash: 'new',
      pods: [old, pod('b', 'pi-2', 'old')],
      fleet: [busy, idleNode],
    };
    // The node without a task goes first.
    let step = nextRolloutStep(IDLE, world, NOW, HOUR);
    expect(step.action).toEqual({
      type: 'drain',
      node: 'pi-2',
      reason: 'farm gate: updating farm-agent to revision new',
    });
    expect(step.event).toMatchObject({ reason: 'Draining', node: 'pi-2' });
    // Still a ready phone (the agent has not applied the maintenance yet) and no newer report.
    step = nextRolloutStep(step.state, world, NOW + 1000, HOUR);
    expect(step.action).toBeUndefined();
    idleNode.phones[0] = phone('pi-2', 's', { state: 'maintenance' });
    expect(nextRolloutStep(step.state, world, NOW + 2000, HOUR).action).toBeUndefined();
    idleNode.heartbeat = NOW + 3000;
    step = nextRolloutStep(step.state, world, NOW + 4000, HOUR);
    expect(step.action).toEqual({ type: 'delete', pod: world.pods[1] });
    expect(step.event).toMatchObject({ type: 'Normal', reason: 'Replacing' });
    // The new pod is ready but has not renewed the Lease yet: wait.
    const fresh = pod('c', 'pi-2', 'new');
    const after = { ...world, pods: [old, fresh] };
    expect(nextRolloutStep(step.state, after, NOW + 5000, HOUR).action).toBeUndefined();
    idleNode.pod = 'c';
    step = nextRolloutStep(step.state, after, NOW + 6000, HOUR);
    expect(step).toMatchObject({
      state: IDLE,
      action: { type: 'undrain', node: 'pi-2' },
      event: { reason: 'Replaced' },
    });
  });

  it('waits for a running task, then past the maximum wait deletes anyway and says so', () => {
    const busyNode = node('pi-1', [phone('pi-1', 's', { state: 'busy' })]);
    const world = { currentHash: 'new', pods: [pod('a', 'pi-1', 'old')], fleet: [busyNode] };
    let step = nextRolloutStep(IDLE, world, NOW, HOUR);
    busyNode.heartbeat = NOW + 10_000;
    step = nextRolloutStep(step.state, world, NOW + HOUR - 1, HOUR);
    expect(step.action).toBeUndefined();
    step = nextRolloutStep(step.state, world, NOW + HOUR, HOUR);
    expect(step.action).toEqual({ type: 'delete', pod: world.pods[0] });
    expect(step.event).toMatchObject({
      type: 'Warning',
      reason: 'RolloutProceeded',
      note: expect.stringContaining('after waiting 60 min') as unknown,
    });
  });

  it('replaces an agent that is not ready at once, and leaves an operator maintenance alone', () => {
    const world = {
      currentHash: 'new',
      pods: [pod('a', 'pi-1', 'old', false)],
      fleet: [node('pi-1', [phone('pi-1', 's', { state: 'busy' })], { maintenance: 'cracked' })],
    };
    let step = nextRolloutStep(IDLE, world, NOW, HOUR);
    expect(step.action).toBeUndefined();
    expect(step.state).toMatchObject({ phase: 'draining', ownMaintenance: false });
    step = nextRolloutStep(step.state, world, NOW + 1, HOUR);
    expect(step.action).toMatchObject({ type: 'delete' });
    // No new agent in time: go on, without lifting the operator's maintenance.
    step = nextRolloutStep(step.state, { ...world, pods: [] }, NOW + 2 * HOUR, HOUR);
    expect(step.state).toEqual(IDLE);
    expect(step.action).toBeUndefined();
    expect(step.event).toMatchObject({ type: 'Warning', reason: 'RolloutProceeded' });
  });
});
