import { createRequire } from 'node:module';
import type * as AdbkitModule from '@devicefarmer/adbkit';
import type { Duplex } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostRequest, startAdbServer, stopAllAdbServers } from './adb-server.js';
import type { AdbServerHandle } from './adb-server.js';
import { startFakePhone } from './fake-adbd/index.js';
import type { FakePhone, PhoneScript } from './fake-adbd/index.js';
import {
  A_CNXN,
  A_OKAY,
  A_WRTE,
  PacketDecoder,
  ProtocolError,
  checksum,
  encodePacket,
  serviceName,
} from './fake-adbd/protocol.js';
import { defaultState, formatDumpsysThermal, runShellCommand } from './fake-adbd/shell.js';

// adbkit is CommonJS with an __esModule default: Node's ESM loader hands `import Adb from`
// the whole module.exports (and finds no named `Adb`), vitest hands it exports.default.
// require() gives module.exports under both.
const { Adb } = createRequire(import.meta.url)('@devicefarmer/adbkit') as typeof AdbkitModule;
type AdbClient = ReturnType<typeof Adb.createClient>;

describe('wire protocol (pure)', () => {
  const decoder = () => new PacketDecoder({ maxPayload: 1024, verifyChecksum: () => true });

  it('encodes the 24-byte little-endian header with magic and byte-sum check', () => {
    const packet = encodePacket(A_WRTE, 7, 9, Buffer.from('hi'));
    expect(packet.length).toBe(26);
    expect(packet.readUInt32LE(0)).toBe(A_WRTE);
    expect(packet.readUInt32LE(12)).toBe(2);
    expect(packet.readUInt32LE(16)).toBe(0x68 + 0x69);
    expect(packet.readUInt32LE(20)).toBe((A_WRTE ^ 0xffffffff) >>> 0);
    expect(checksum(Buffer.from([255, 255, 2]))).toBe(512);
  });

  it('decodes packets split and merged at any byte boundary', () => {
    const wire = Buffer.concat([
      encodePacket(A_CNXN, 0x01000001, 4096, Buffer.from('host::\0')),
      encodePacket(A_OKAY, 1, 2),
    ]);
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = decoder();
      const packets = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
      expect(packets.map((p) => [p.command, p.arg0, p.arg1])).toEqual([
        [A_CNXN, 0x01000001, 4096],
        [A_OKAY, 1, 2],
      ]);
      expect(serviceName(packets[0]?.data ?? Buffer.alloc(0))).toBe('host::');
    }
  });

  it('rejects a bad magic, an unknown command, an oversized payload and a bad sum', () => {
    const bad = encodePacket(A_OKAY, 1, 2);
    bad.writeUInt32LE(0, 20);
    expect(() => decoder().push(bad)).toThrow(ProtocolError);
    const unknown = encodePacket(0x41414141, 0, 0);
    expect(() => decoder().push(unknown)).toThrow(/unknown command/);
    expect(() => decoder().push(encodePacket(A_WRTE, 1, 2, Buffer.alloc(2048)))).toThrow(/exceeds/);
    const corrupt = encodePacket(A_WRTE, 1, 2, Buffer.from('abc'));
    corrupt.writeUInt32LE(1, 16);
    expect(() => decoder().push(corrupt)).toThrow(/data_check/);
    const lenient = new PacketDecoder({ maxPayload: 1024, verifyChecksum: () => false });
    expect(lenient.push(corrupt)).toHaveLength(1);
  });
});

describe('shell table (pure)', () => {
  it('prints getprop like toolbox and follows bootCompleted', () => {
    const state = defaultState();
    state.bootCompleted = false;
    const all = runShellCommand(state, 'getprop');
    expect(all).toMatchObject({ kind: 'output' });
    const text = all.kind === 'output' ? all.text : '';
    expect(text).toContain('[ro.build.id]: [QP1A.190711.020]\n');
    expect(text).not.toContain('sys.boot_completed');
    expect(runShellCommand(state, 'getprop sys.boot_completed')).toEqual({
      kind: 'output',
      text: '\n',
    });
    state.bootCompleted = true;
    expect(runShellCommand(state, 'getprop sys.boot_completed')).toEqual({
      kind: 'output',
      text: '1\n',
    });
  });

  it('runs commands separated by `;` in turn, as mksh does', () => {
    const state = defaultState();
    expect(runShellCommand(state, 'echo a; getprop sys.boot_completed;cat /nope; echo b')).toEqual({
      kind: 'output',
      text: 'a\n1\ncat: /nope: No such file or directory\nb\n',
    });
  });

  it('prints thermalservice with tab-indented Temperature lines and Java floats', () => {
    const text = formatDumpsysThermal([{ name: 'CPU0', type: 0, value: 36, status: 1 }]);
    const hal = text.split('Current temperatures from HAL:\n')[1] ?? '';
    expect(hal.split('\n')[0]).toBe('\tTemperature{mValue=36.0, mType=0, mName=CPU0, mStatus=1}');
    expect(text).toContain('Thermal Status: 1\n');
  });
});

async function readShell(client: AdbClient, serial: string, command: string): Promise<string> {
  const stream = await client.getDevice(serial).shell(command);
  return (await Adb.util.readAll(stream)).toString('utf8');
}

describe('fake phone against the real adb server', () => {
  let server: AdbServerHandle;
  let client: AdbClient;
  const phones: FakePhone[] = [];

  async function phone(script: PhoneScript = {}): Promise<FakePhone> {
    const started = await startFakePhone(script);
    phones.push(started);
    return started;
  }

  beforeEach(async () => {
    server = await startAdbServer();
    client = Adb.createClient({ host: '127.0.0.1', port: server.port });
  });

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await stopAllAdbServers();
  });

  it('connects as `device` and serves getprop, dumpsys and /proc/uptime to adbkit', async () => {
    const p = await phone({ props: { 'ro.product.model': 'Pixel 4' }, battery: { level: 42 } });
    await server.connect(p.serial);
    expect((await server.devices()).get(p.serial)).toBe('device');
    expect(await client.listDevices()).toEqual([{ id: p.serial, type: 'device' }]);

    const props = await readShell(client, p.serial, 'getprop');
    expect(props).toContain('[ro.product.model]: [Pixel 4]\n');
    expect(props).toContain('[sys.boot_completed]: [1]\n');
    expect(await readShell(client, p.serial, 'getprop ro.build.id')).toBe('QP1A.190711.020\n');
    const battery = await readShell(client, p.serial, 'dumpsys battery');
    expect(battery).toMatch(/^Current Battery Service state:\n/);
    expect(battery).toContain('\n  level: 42\n  scale: 100\n');
    expect(battery).toContain('\n  temperature: 280\n');
    const thermal = await readShell(client, p.serial, 'dumpsys thermalservice');
    expect(thermal).toContain(
      'Current temperatures from HAL:\n\tTemperature{mValue=33.1, mType=0, mName=CPU0, mStatus=0}\n',
    );
    expect(await readShell(client, p.serial, 'cat /proc/uptime')).toMatch(
      /^12345\.67 \d+\.\d\d\n$/,
    );

    // State is live: the next command sees the change.
    p.state.battery.level = 17;
    p.state.thermal[0] = { name: 'CPU0', type: 0, value: 41.5, status: 2 };
    expect(await readShell(client, p.serial, 'dumpsys battery')).toContain('\n  level: 17\n');
    expect(await readShell(client, p.serial, 'dumpsys thermalservice')).toContain('mValue=41.5');
  });

  it('records shell commands, consults onShell first and answers unknown ones like mksh', async () => {
    const p = await phone({
      onShell: (cmd) => (cmd === 'pm path android' ? 'package:/x\n' : undefined),
    });
    await server.connect(p.serial);
    await readShell(client, p.serial, 'input keyevent KEYCODE_SLEEP');
    expect(await readShell(client, p.serial, 'pm path android')).toBe('package:/x\n');
    expect(await readShell(client, p.serial, 'frobnicate')).toBe(
      '/system/bin/sh: frobnicate: inaccessible or not found\n',
    );
    expect(p.shellCommands).toEqual([
      'input keyevent KEYCODE_SLEEP',
      'pm path android',
      'frobnicate',
    ]);
  });

  it('streams large outputs with per-write flow control on concurrent streams', async () => {
    // 600 KB is three WRTEs of at most 256 KB each, so each stream waits for OKAYs.
    const big = `${'x'.repeat(99)}\n`.repeat(6000);
    const p = await phone({ onShell: (cmd) => (cmd === 'big' ? big : undefined) });
    await server.connect(p.serial);
    const outputs = await Promise.all([
      readShell(client, p.serial, 'big'),
      readShell(client, p.serial, 'getprop ro.product.device'),
      readShell(client, p.serial, 'big'),
      readShell(client, p.serial, 'dumpsys battery'),
    ]);
    expect(outputs[0]).toBe(big);
    expect(outputs[1]).toBe('x1s\n');
    expect(outputs[2]).toBe(big);
    expect(outputs[3]).toContain('level: 85');
    expect(p.openStreams()).toBe(0);
  });

  it('refuses services it does not offer', async () => {
    const p = await phone();
    await server.connect(p.serial);
    // adbkit opens `tcp:5000`; the phone answers CLSE(0, id), adb ends the client stream.
    const opened = client.getDevice(p.serial).openTcp(5000);
    await expect(opened.then((s: Duplex) => Adb.util.readAll(s))).rejects.toThrow();
    await p.waitForEvent((e) => e.type === 'open' && e.service === 'tcp:5000');
    expect(p.openStreams()).toBe(0);
  });

  it('a hanging command never answers, and destroying the stream closes it on the phone', async () => {
    const p = await phone({ hang: new Set(['dumpsys battery']) });
    await server.connect(p.serial);
    const stream = await client.getDevice(p.serial).shell('dumpsys battery');
    const settled = await Promise.race([
      Adb.util.readAll(stream).then(() => 'answered'),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 300)),
    ]);
    expect(settled).toBe('hung');
    expect(p.openStreams()).toBe(1);
    // Other streams on the same transport are unaffected.
    expect(await readShell(client, p.serial, 'getprop ro.build.type')).toBe('user\n');
    stream.destroy();
    await p.waitForEvent((e) => e.type === 'host-close' && e.service === 'shell:dumpsys battery');
    expect(p.openStreams()).toBe(0);
  });

  it('unauthorized: adb connect fails to authenticate and lists `unauthorized` until allowed', async () => {
    const p = await phone({ mode: 'unauthorized' });
    await expect(server.connect(p.serial)).rejects.toThrow(/failed to authenticate/);
    expect((await server.devices()).get(p.serial)).toBe('unauthorized');
    // The server tried its one key (signature) and then offered it (public key).
    const auth = p.events.flatMap((e) => (e.type === 'auth' ? [e.kind] : []));
    expect(auth).toEqual(['signature', 'publickey']);
    await expect(readShell(client, p.serial, 'getprop')).rejects.toThrow(/unauthorized/);
    p.mode = 'authorized'; // the user taps "Allow"
    await server.waitForState(p.serial, 'device', 2000);
    expect(await readShell(client, p.serial, 'getprop ro.product.model')).toBe('SM-G980F\n');
  });

  it('offline: TCP is up but CNXN is never answered, so the server lists `offline`', async () => {
    const p = await phone({ mode: 'offline' });
    // `adb connect` would block 10 s before failing; the listing appears at once.
    await server.connectNoWait(p.serial);
    await server.waitForState(p.serial, 'offline', 2000);
    await p.waitForEvent((e) => e.type === 'cnxn');
    await expect(readShell(client, p.serial, 'getprop')).rejects.toThrow(/offline/);
    p.mode = 'authorized';
    await server.waitForState(p.serial, 'device', 2000);
  });

  it('wedged: offline on its connection, `device` again after adb reconnect offline and connect', async () => {
    const p = await phone();
    await server.connect(p.serial);
    p.mode = 'wedged';
    p.dropConnection();
    // adb reconnects by itself (~250 ms) and finds the wedge: its CNXN goes unanswered.
    await p.waitForEvent(
      (e) => e.type === 'cnxn' && p.events.filter((x) => x.type === 'cnxn').length === 2,
    );
    await server.waitForState(p.serial, 'offline', 2000);
    // adb 29: the offline transport is reset and, for a network phone, dropped.
    expect(await hostRequest(server.port, 'host:reconnect-offline')).toMatch(
      new RegExp(`^OKAY[0-9a-f]{4}reconnecting ${p.serial.replace(/\./g, '\\.')}$`),
    );
    await server.waitForState(p.serial, undefined, 2000);
    await server.connect(p.serial);
    await server.waitForState(p.serial, 'device', 2000);
  });

  it('dies mid-command: part of the output, then the connection drops; adb reconnects', async () => {
    const p = await phone({ dies: new Set(['dumpsys battery']) });
    await server.connect(p.serial);
    const out = await readShell(client, p.serial, 'dumpsys battery').catch((e: Error) => e.message);
    expect(out.length).toBeGreaterThan(0);
    expect(out).not.toContain('temperature');
    await server.waitForState(p.serial, 'device', 3000);
    expect(p.events.filter((e) => e.type === 'disconnect').length).toBeGreaterThanOrEqual(1);
  });

  it('dropConnection: the server sees `offline` at once and reconnects by itself', async () => {
    const p = await phone();
    await server.connect(p.serial);
    p.dropConnection();
    await server.waitForState(p.serial, 'offline', 1000);
    // Measured ~250 ms: adb's reconnect handler retries a dropped TCP device quickly.
    const back = await server.waitForState(p.serial, 'device', 3000);
    expect(back).toBeLessThan(3000);
    expect(p.events.filter((e) => e.type === 'online')).toHaveLength(2);
  });

  it('reboot: drops, refuses while away, comes back with boot_completed after the boot delay', async () => {
    const p = await phone({ rebootAwayMs: 300, bootDelayMs: 400 });
    await server.connect(p.serial);
    await client.getDevice(p.serial).reboot();
    expect(p.state.bootCompleted).toBe(false);
    await server.waitForState(p.serial, 'offline', 1000);
    await p.waitForEvent((e) => e.type === 'open' && e.service === 'reboot:');
    // adb retries refused TCP devices only every 10 s and `adb connect` answers
    // "already connected" meanwhile, so a fast test disconnects and connects again.
    await new Promise((resolve) => setTimeout(resolve, 350));
    await server.disconnect(p.serial);
    await server.connect(p.serial);
    expect(await readShell(client, p.serial, 'getprop sys.boot_completed')).toBe('\n');
    expect(await readShell(client, p.serial, 'cat /proc/uptime')).toMatch(/^8\.50 /);
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(await readShell(client, p.serial, 'getprop sys.boot_completed')).toBe('1\n');
  });

  it('reboot without help: adb reconnects on its own about 10 s later', async () => {
    // Away longer than adb's first quick retry (~250 ms): a 200 ms reboot is caught by it.
    const p = await phone({ rebootAwayMs: 1000 });
    await server.connect(p.serial);
    const started = Date.now();
    await p.reboot();
    const back = await server.waitForState(p.serial, 'device', 15_000);
    // Measured 10.2-10.4 s: the quick retry is refused, the next comes 10 s later.
    expect(Date.now() - started).toBeGreaterThan(5000);
    expect(back).toBeLessThan(15_000);
  }, 20_000);

  it('trackDevices sees add, change and remove', async () => {
    const tracker = await client.trackDevices();
    const seen: string[] = [];
    tracker.on('add', (d: { type: string }) => seen.push(`add:${d.type}`));
    tracker.on('change', (d: { type: string }) => seen.push(`change:${d.type}`));
    tracker.on('remove', () => seen.push('remove'));
    const p = await phone();
    await server.connect(p.serial);
    await server.disconnect(p.serial);
    await server.waitForState(p.serial, undefined, 2000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    tracker.end();
    // A TCP device is registered `offline` first and turns `device` after CNXN.
    expect(seen).toEqual(['add:offline', 'change:device', 'remove']);
  });

  it('survives the adb server being killed, and a new server can use it', async () => {
    const p = await phone();
    await server.connect(p.serial);
    const tracker = await client.trackDevices();
    const trackerEnded = new Promise<string>((resolve) => {
      tracker.on('error', (e: Error) => resolve(`error: ${e.message}`));
    });
    await server.kill();
    // adbkit's tracker reports the dead server once and never reconnects.
    expect(await trackerEnded).toBe('error: Connection closed');
    await p.waitForEvent((e) => e.type === 'disconnect');
    expect(p.connections()).toBe(0);

    const next = await startAdbServer();
    await next.connect(p.serial);
    const nextClient = Adb.createClient({ host: '127.0.0.1', port: next.port });
    expect(await readShell(nextClient, p.serial, 'getprop ro.product.name')).toBe('x1sxx\n');
  });
});
