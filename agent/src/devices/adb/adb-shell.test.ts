import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AdbFailure, listHostDevices, runShell } from './adb-shell.js';

/**
 * A loopback stand-in for the adb server's side of one session: it checks each request's
 * framing and answers with the byte chunks a test gives, split as TCP may split them.
 */
let server: Server | undefined;
const requests: string[] = [];

function serve(script: (socket: Socket, request: string, index: number) => void): Promise<number> {
  requests.length = 0;
  server = createServer((socket) => {
    let pending = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 4) {
        // The length counts bytes, not characters.
        const length = Number.parseInt(pending.toString('latin1', 0, 4), 16);
        if (pending.length < 4 + length) return;
        const request = pending.toString('utf8', 4, 4 + length);
        pending = pending.subarray(4 + length);
        requests.push(request);
        script(socket, request, requests.length - 1);
      }
    });
  });
  return new Promise((resolve) =>
    server?.listen(0, '127.0.0.1', () => {
      const address = server?.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    }),
  );
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

const run = (port: number, timeoutMs = 2000) =>
  runShell({ port, host: '127.0.0.1' }, 'R58N', 'echo hé', timeoutMs, 'R58N: shell', () =>
    Object.assign(new Error('timed out'), { name: 'Timeout' }),
  );

describe('runShell', () => {
  it('switches to the device, runs the command and returns its output to the end', async () => {
    const port = await serve((socket, _request, index) => {
      if (index === 0) {
        socket.write('OK');
        setTimeout(() => socket.write('AY'), 20);
      } else {
        // The reply and the first output in one chunk, the rest after.
        socket.write('OKAYh');
        setTimeout(() => socket.end(Buffer.from('é\n', 'utf8')), 20);
      }
    });
    expect(await run(port)).toBe('hé\n');
    expect(requests).toEqual(['host:transport:R58N', 'shell:echo hé']);
  });

  it('rejects with adb’s reason, however the FAIL arrives', async () => {
    const port = await serve((socket) => {
      socket.write('FAIL00');
      setTimeout(() => socket.write('0edevice'), 20);
      setTimeout(() => socket.write(' offline'), 40);
    });
    const failure = run(port);
    await expect(failure).rejects.toBeInstanceOf(AdbFailure);
    await expect(failure).rejects.toThrow("Failure: 'device offline'");
    expect(requests).toEqual(['host:transport:R58N']);
  });

  it('rejects a connection closed before the command started', async () => {
    const port = await serve((socket, _request, index) => {
      if (index === 0) socket.end('OKAY');
    });
    await expect(run(port)).rejects.toThrow('adb server closed the connection');
  });

  it('rejects an answer that is not the protocol', async () => {
    const port = await serve((socket) => socket.write('HTTP/1.1 400'));
    await expect(run(port)).rejects.toThrow('adb server answered "HTTP" to transport');
  });

  it('gives up at the deadline and closes the connection', async () => {
    let closed = false;
    const port = await serve((socket, _request, index) => {
      socket.on('close', () => (closed = true));
      if (index === 0) socket.write('OKAY');
      else socket.write('OKAYpartial');
    });
    await expect(run(port, 200)).rejects.toThrow('timed out');
    await expect.poll(() => closed).toBe(true);
  });
});

describe('listHostDevices', () => {
  const list = (port: number) =>
    listHostDevices({ port, host: '127.0.0.1' }, 2000, () => new Error('timed out'));

  it('reads the length-prefixed list, however it is split, one device a line', async () => {
    const body = 'emulator-5554\tdevice\n127.0.0.1:5555\toffline\n';
    const port = await serve((socket) => {
      socket.write(`OKAY${body.length.toString(16).padStart(4, '0')}emu`);
      setTimeout(() => socket.end(body.slice(3)), 20);
    });
    expect(await list(port)).toEqual([
      { serial: 'emulator-5554', type: 'device' },
      { serial: '127.0.0.1:5555', type: 'offline' },
    ]);
    expect(requests).toEqual(['host:devices']);
  });

  it('an empty list is no device', async () => {
    const port = await serve((socket) => socket.end('OKAY0000'));
    expect(await list(port)).toEqual([]);
  });

  it('rejects a list cut short rather than taking part of it for all', async () => {
    const port = await serve((socket) => socket.end('OKAY0020emulator-5554\tdevice\n'));
    await expect(list(port)).rejects.toThrow('host:devices: the answer ended early');
  });

  it('rejects with adb’s reason', async () => {
    const port = await serve((socket) => socket.end('FAIL0004nope'));
    await expect(list(port)).rejects.toThrow("Failure: 'nope'");
  });
});
