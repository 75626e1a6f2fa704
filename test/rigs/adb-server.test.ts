import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostRequest, startAdbServer, stopAllAdbServers } from './adb-server.js';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startAdbServer (real Debian adb)', () => {
  afterEach(stopAllAdbServers);

  it('runs a server per call, each on its own port and HOME with its own key', async () => {
    const [a, b] = await Promise.all([startAdbServer(), startAdbServer()]);
    expect(a.port).not.toBe(b.port);
    // OKAY, 4 hex digits of length, then the protocol version in hex (0x29 for adb 29).
    expect(await hostRequest(a.port, 'host:version')).toBe('OKAY00040029');
    expect(await hostRequest(b.port, 'host:version')).toBe('OKAY00040029');
    const keyA = await readFile(join(a.env.HOME ?? '', '.android', 'adbkey.pub'), 'utf8');
    const keyB = await readFile(join(b.env.HOME ?? '', '.android', 'adbkey.pub'), 'utf8');
    expect(keyA).not.toBe(keyB);
    expect(await a.devices()).toEqual(new Map());
  });

  it('kill() SIGKILLs the server: the PID is gone and the port refuses', async () => {
    const server = await startAdbServer();
    expect(isRunning(server.pid)).toBe(true);
    await server.kill();
    expect(isRunning(server.pid)).toBe(false);
    await expect(hostRequest(server.port, 'host:version')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('stop() ends the server and removes its HOME', async () => {
    const server = await startAdbServer();
    const home = server.env.HOME ?? '';
    await server.stop();
    expect(isRunning(server.pid)).toBe(false);
    await expect(access(home)).rejects.toThrow(/ENOENT/);
  });

  it('connect() reports what adb says when nothing listens', async () => {
    const server = await startAdbServer();
    // Port 1 on loopback is closed on any sane machine: adb answers "failed to connect".
    await expect(server.connect('127.0.0.1:1')).rejects.toThrow(/failed to connect/);
  });
});
