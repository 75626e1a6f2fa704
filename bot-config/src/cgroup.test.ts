import { describe, expect, it } from 'vitest';
import { cgroupParentFrom } from './cgroup.js';

const mountinfo = [
  '22 1 0:21 / /proc rw,nosuid - proc proc rw',
  '30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec - cgroup2 cgroup2 rw,nsdelegate',
].join('\n');

describe('cgroupParentFrom', () => {
  it('puts per-bot cgroups under our own cgroup v2, at its mount point', () => {
    expect(cgroupParentFrom('0::/kubepods/pod1/agent\n', mountinfo)).toBe(
      '/sys/fs/cgroup/kubepods/pod1/agent/farm-bots',
    );
  });

  it('strips the mount root of a cgroup mounted from below the hierarchy root', () => {
    const nested = '40 25 0:26 /kubepods /sys/fs/cgroup rw - cgroup2 cgroup2 rw';
    expect(cgroupParentFrom('0::/kubepods/pod1\n', nested)).toBe('/sys/fs/cgroup/pod1/farm-bots');
  });

  it('finds none on a cgroup v1 host or without a cgroup2 mount', () => {
    expect(cgroupParentFrom('1:cpu:/x\n', mountinfo)).toBeUndefined();
    expect(cgroupParentFrom('0::/x\n', '22 1 0:21 / /proc rw - proc proc rw')).toBeUndefined();
  });
});
