import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeAddress, externalConnections, parseProcNetTcp } from './proc-net-tcp.js';

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const ADB_PORTS = new Set([5037, 5555]);

describe('decodeAddress', () => {
  it.each([
    ['0100007F', '127.0.0.1'],
    ['0501A8C0', '192.168.1.5'],
    ['00000000', '0.0.0.0'],
    ['00000000000000000000000001000000', '::1'],
    ['00000000000000000000000000000000', '::'],
    ['0000000000000000FFFF00000100007F', '::ffff:127.0.0.1'],
    ['0000C0FD000000000000000005000000', 'fdc0::5'],
    ['B80D0120000000000000000001000000', '2001:db8::1'],
  ])('%s → %s', (hex, text) => {
    expect(decodeAddress(hex)).toBe(text);
  });

  it.each(['', '0100007', 'ZZ00007F', '0100007F00'])('rejects %j', (hex) => {
    expect(decodeAddress(hex)).toBeUndefined();
  });
});

describe('the loopback flag keep is given', () => {
  it.each([
    ['0100007F', true],
    ['03000A7F', true],
    ['00000000000000000000000001000000', true],
    ['0000000000000000FFFF00000100007F', true],
    ['0000000000000000ffff00000100007f', true],
    ['1E01A8C0', false],
    ['0000000000000000FFFF000020A8C0C0', false],
    ['0000C0FD000000000000000009000000', false],
    ['00000000000000000000000000000000', false],
    ['00000000000000000000000001000001', false],
  ])('peer %s → %s', (hex, loopback) => {
    const local = hex.length === 8 ? '0501A8C0' : '0000C0FD000000000000000005000000';
    const line = `   0: ${local}:13AD ${hex}:D431 01 00000000:00000000 00:00000000 00000000  1000        0 1 1`;
    const seen: boolean[] = [];
    parseProcNetTcp(line, (_state, _port, remoteIsLoopback) => {
      seen.push(remoteIsLoopback);
      return false;
    });
    expect(seen).toEqual([loopback]);
  });
});

describe('parseProcNetTcp', () => {
  it('reads every socket of a real-shaped IPv4 table and skips the header', () => {
    const sockets = parseProcNetTcp(fixture('tcp.txt'));
    expect(sockets).toHaveLength(6);
    expect(sockets[3]).toEqual({
      local: '192.168.1.5',
      localPort: 5037,
      remote: '192.168.1.30',
      remotePort: 54321,
      state: 1,
    });
  });

  it('decodes only the sockets the filter keeps', () => {
    const established = parseProcNetTcp(fixture('tcp.txt'), (state) => state === 1);
    expect(established.map((s) => s.localPort)).toEqual([5037, 8080, 5037, 22]);
    expect(parseProcNetTcp(fixture('tcp.txt'), (_state, port) => port === 5555)).toHaveLength(1);
  });

  it('skips malformed lines instead of failing', () => {
    const text = `${fixture('tcp.txt')}garbage\n  9: 0100007F 0100007F:0016 01\n  10: 0100007F:XYZW 0:0 01\n`;
    expect(parseProcNetTcp(text)).toHaveLength(6);
    expect(parseProcNetTcp('')).toEqual([]);
  });
});

describe('externalConnections', () => {
  it('counts only ESTABLISHED adb connections from outside the host', () => {
    const v4 = externalConnections(fixture('tcp.txt'), ADB_PORTS);
    // Loopback adb client (1), LISTEN (0), TIME_WAIT on 5555 (4), ssh (5) and 8080 (2) do not count.
    expect(v4.map((s) => `${s.remote}→${s.localPort}`)).toEqual(['192.168.1.30→5037']);

    const v6 = externalConnections(fixture('tcp6.txt'), ADB_PORTS);
    expect(v6.map((s) => `${s.remote}→${s.localPort}`)).toEqual([
      '::ffff:192.168.1.32→5555',
      'fdc0::9→5037',
    ]);
  });
});

describe('externalConnections on the table as the kernel prints it', () => {
  const line = (slot: string, local: string, remote: string, state = '01'): string =>
    `${slot}: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 20 4 30 10 -1`;
  /** The kernel pads IPv4 lines to 149 characters; found by position, not searched for. */
  const padded = (lines: string[]): string => lines.map((l) => `${l.padEnd(149)}\n`).join('');
  const peers = (table: string | Uint8Array): string[] =>
    externalConnections(table, ADB_PORTS).map((s) => `${s.remote}:${s.remotePort}→${s.localPort}`);

  it('reads the same from the bytes as from the text, padded or not', () => {
    const text = fixture('tcp.txt');
    const unpadded = text.replace(/ +\n/g, '\n');
    expect(unpadded).not.toBe(text);
    for (const table of [text, unpadded, Buffer.from(text), Buffer.from(unpadded)]) {
      expect(peers(table)).toEqual(['192.168.1.30:54321→5037']);
    }
    expect(peers(Buffer.from(fixture('tcp6.txt')))).toEqual([
      '::ffff:192.168.1.32:50003→5555',
      'fdc0::9:50004→5037',
    ]);
  });

  it('finds the local port past slot numbers wider than 4 digits', () => {
    const table = padded([
      line('9999', '0501A8C0:0016', '1E01A8C0:D431'),
      line('10000', '0501A8C0:13AD', '1E01A8C0:D432'),
      line('123456', '0501A8C0:15B3', '1F01A8C0:D433'),
    ]);
    expect(peers(table)).toEqual(['192.168.1.30:54322→5037', '192.168.1.31:54323→5555']);
  });

  it('does not take an adb port as the peer for one on this host', () => {
    // This host's client of someone else's adb server: the remote port is 5037, the local is not.
    const table = padded([line('   0', '0501A8C0:D431', '1E01A8C0:13AD')]);
    expect(peers(table)).toEqual([]);
  });

  it('reads lower-case hex as the same port', () => {
    const table = padded([line('   0', '0501a8c0:13ad', '1e01a8c0:d431')]);
    expect(peers(table)).toEqual(['192.168.1.30:54321→5037']);
  });

  it('skips the listening socket and loopback peers in both families', () => {
    const table = padded([
      line('   0', '00000000:13AD', '00000000:0000', '0A'),
      line('   1', '0100007F:13AD', '0100007F:C350'),
      line('   2', '0501A8C0:13AD', '0300007F:C351'),
    ]);
    expect(peers(table)).toEqual([]);
  });

  // Decided on the line's bytes before it is parsed: the peer's loopback, the state, the port.
  const v6 = (word4: string, word3 = '00000000'): string => `0000000000000000${word3}${word4}`;
  const HOST6 = '0000C0FD000000000000000005000000';

  it('tells loopback peers from others on the bytes, in both families and either case', () => {
    const table = padded([
      line('   0', '0501A8C0:13AD', '0101007F:C350'), // 127.0.1.1
      line('   1', '0501A8C0:13AD', '0100007f:C351'), // lower case
      line('   2', '0501A8C0:13AD', '7F00000A:C352'), // 10.0.0.127: 7F, but not the first byte
    ]);
    const table6 = padded([
      line('   3', `${HOST6}:13AD`, `${v6('01000000')}:C353`), // ::1
      line('   4', `${HOST6}:13AD`, `${v6('0100007F', 'FFFF0000')}:C354`), // ::ffff:127.0.0.1
      line('   5', `${HOST6}:13AD`, `${v6('0100007f', 'ffff0000')}:C355`),
      line('   6', `${HOST6}:13AD`, `${v6('0A00007F', 'FFFF0000')}:C356`), // ::ffff:127.0.0.10
      line('   7', `${HOST6}:13AD`, `${v6('7F00000A', 'FFFF0000')}:C357`), // ::ffff:10.0.0.127
      line('   8', `${HOST6}:13AD`, `${v6('01000001')}:C358`), // ::100:1, not ::1
    ]);
    expect(peers(table)).toEqual(['10.0.0.127:50002→5037']);
    expect(peers(table6)).toEqual(['::ffff:10.0.0.127:50007→5037', '::100:1:50008→5037']);
  });

  it('counts only ESTABLISHED, in both families', () => {
    const states = ['0A', '06', '02', '08', '11', '10'];
    const table = padded(
      states.map((st, i) => line(`   ${i}`, '0501A8C0:13AD', `1E01A8C0:C35${i}`, st)),
    );
    const table6 = padded(
      states.map((st, i) => line(`   ${i}`, `${HOST6}:15B3`, `${v6('09000000')}:C35${i}`, st)),
    );
    expect(peers(table)).toEqual([]);
    expect(peers(table6)).toEqual([]);
    expect(peers(padded([line('   0', `${HOST6}:15B3`, `${v6('09000000')}:C350`)]))).toEqual([
      '::9:50000→5555',
    ]);
  });

  // The walk looks only where the kernel prints the local port; a port's digits anywhere else
  // on a line (the peer's port, another line's) or a line it does not expect must not fool it.
  const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt';

  it('finds outside connections on the first line and on a last line without its newline', () => {
    const first = line('   0', '0501A8C0:13AD', '1E01A8C0:D431');
    const last = line('   2', '0501A8C0:15B3', '1F01A8C0:D433');
    const middle = line('   1', '0501A8C0:D432', '0100007F:13AD');
    const expected = ['192.168.1.30:54321→5037', '192.168.1.31:54323→5555'];
    const padded3 = padded([first, middle, last]);
    expect(peers(padded3)).toEqual(expected);
    expect(peers(padded3.trimEnd())).toEqual(expected); // no newline, nor the last line's padding
    expect(peers(`${first}\n${middle}\n${last}`)).toEqual(expected); // unpadded
    expect(peers(padded([HEADER, first, middle, last]))).toEqual(expected);
    expect(peers(last)).toEqual(['192.168.1.31:54323→5555']); // a table of one line
  });

  it('does not take the port in the peer column for the local one, in either family', () => {
    const table = padded([
      HEADER,
      line('   0', '0501A8C0:D431', '1E01A8C0:13AD'),
      line('   1', '0501A8C0:D432', '1E01A8C0:15B3'),
    ]);
    const table6 = [
      line('   0', `${HOST6}:D431`, `${v6('09000000')}:13AD`),
      line('   1', `${HOST6}:15B4`, `${v6('09000000')}:15B3`),
    ].join('\n');
    expect(peers(table)).toEqual([]);
    expect(peers(`${table6}\n`)).toEqual([]);
    expect(peers(table6)).toEqual([]);
  });

  it('reads tcp6 lines, longer and unpadded, to a last line without its newline', () => {
    const table6 = [
      '  sl  local_address                         remote_address                        st',
      line('   0', `${HOST6}:13AD`, `${v6('01000000')}:C350`), // ::1
      line('   1', `${v6('0501A8C0', 'FFFF0000')}:15B3`, `${v6('1E01A8C0', 'FFFF0000')}:C351`),
      line('   2', `${HOST6}:D431`, `${v6('09000000')}:13AD`),
      line('   3', `${HOST6}:13AD`, `${v6('09000000')}:C353`),
    ].join('\n');
    expect(peers(table6)).toEqual(['::ffff:192.168.1.30:50001→5555', '::9:50003→5037']);
    expect(peers(Buffer.from(table6))).toEqual(peers(`${table6}\n`));
  });

  it('matches every one of the ports asked for, and no other', () => {
    const table = padded(
      ['13AD', '15B3', '1F90', '13AC', '13BD', '03AD'].map((port, i) =>
        line(`   ${i}`, `0501A8C0:${port}`, `1E01A8C0:C35${i}`),
      ),
    );
    const found = externalConnections(table, new Set([22, 8080, 5555, 5037]));
    expect(found.map((s) => s.localPort)).toEqual([5037, 5555, 8080]);
  });
});
