/**
 * Issue 11 item 7: the real farm-agent program SIGKILLed (no exit handler runs) must not
 * leave its adb server behind with ppid 1; the next agent on the same port starts clean.
 */
import { mkdtemp, realpath, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostRequest } from '../rigs/adb-server.js';
import { startAgentProcess, type AgentProcess } from '../rigs/agent-process.js';
import { isAlive, waitFor } from '../rigs/test-bots.js';

const agents: AgentProcess[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((agent) => agent.stop()));
});

async function adbServerPid(agent: AgentProcess): Promise<number> {
  return await waitFor('the adb server', async () => {
    const status = (await agent.getJson('/status')) as { devices: { adbServer: { pid?: number } } };
    return status.devices.adbServer.pid;
  });
}

describe('the supervised adb server', () => {
  it('dies with a SIGKILLed agent', async () => {
    const agent = await startAgentProcess();
    agents.push(agent);
    const server = await adbServerPid(agent);
    await waitFor('the server answering', async () =>
      (await hostRequest(agent.adbPort, 'host:version', 500).catch(() => '')).startsWith('OKAY'),
    );

    agent.child.kill('SIGKILL');
    await new Promise((resolve) => agent.child.once('exit', resolve));
    // The kernel sends the parent-death signal as the agent exits; reaping may lag.
    await waitFor('the adb server gone', () => !isAlive(server), 5000);
    await waitFor('the port refusing', async () =>
      String(await hostRequest(agent.adbPort, 'host:version', 300).catch(String)).includes(
        'ECONNREFUSED',
      ),
    );
  });

  it('without setpriv it outlives the agent, and the next agent on the port removes it', async () => {
    // A PATH with adb but no setpriv: the agent warns, and its server is unguarded.
    const bin = await mkdtemp(join(tmpdir(), 'no-setpriv-'));
    for (const program of ['adb', 'true']) {
      await symlink(await realpath(`/usr/bin/${program}`), join(bin, program));
    }
    // And node, which the program's #! line looks up on PATH.
    await symlink(process.execPath, join(bin, 'node'));
    const first = await startAgentProcess({ PATH: bin });
    agents.push(first);
    await first.waitForLog((l) => String(l.msg).startsWith('setpriv (util-linux) not found'));
    const orphan = await adbServerPid(first);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(isAlive(orphan)).toBe(true);

    // The rig's own adbPort field is a fresh one; this agent is on the first one's port.
    const second = await startAgentProcess({ FARM_ADB_PORT: String(first.adbPort) });
    agents.push(second);
    await second.waitForLog((l) => String(l.msg).includes('stray adb daemon'));
    await waitFor('the orphan gone', () => !isAlive(orphan), 5000);
    const own = await adbServerPid(second);
    expect(own).not.toBe(orphan);
    await waitFor('its own server answering', async () =>
      (await hostRequest(first.adbPort, 'host:version', 500).catch(() => '')).startsWith('OKAY'),
    );
  });
});
