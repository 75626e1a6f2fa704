/**
 * The adb transport wire format (system/core/adb/protocol.txt), as pure functions.
 *
 * A packet is a 24-byte little-endian header of six uint32 words
 * (command, arg0, arg1, data_length, data_check, magic) followed by data_length bytes.
 */

export const A_SYNC = 0x434e5953;
export const A_CNXN = 0x4e584e43;
export const A_AUTH = 0x48545541;
export const A_OPEN = 0x4e45504f;
export const A_OKAY = 0x59414b4f;
export const A_WRTE = 0x45545257;
export const A_CLSE = 0x45534c43;
export const A_STLS = 0x534c5453;

/** Protocol version adb 29 speaks; from this version on senders may leave data_check at 0. */
export const A_VERSION = 0x01000001;
export const A_VERSION_SKIP_CHECKSUM = 0x01000001;
/** What the fake phone advertises as its max payload (the value DESIGN.md §7 asks for). */
export const DEVICE_MAX_PAYLOAD = 256 * 1024;

/** AUTH arg0 values. */
export const AUTH_TOKEN = 1;
export const AUTH_SIGNATURE = 2;
export const AUTH_RSAPUBLICKEY = 3;
/** Real adbd sends a 20-byte random token (it is what the host signs with SHA-1 RSA). */
export const AUTH_TOKEN_SIZE = 20;

export const HEADER_SIZE = 24;

const NAMES = new Map<number, string>([
  [A_SYNC, 'SYNC'],
  [A_CNXN, 'CNXN'],
  [A_AUTH, 'AUTH'],
  [A_OPEN, 'OPEN'],
  [A_OKAY, 'OKAY'],
  [A_WRTE, 'WRTE'],
  [A_CLSE, 'CLSE'],
  [A_STLS, 'STLS'],
]);

export function commandName(command: number): string {
  return NAMES.get(command) ?? `0x${command.toString(16).padStart(8, '0')}`;
}

export interface Packet {
  command: number;
  arg0: number;
  arg1: number;
  data: Buffer;
  /** The data_check the sender wrote (adb 29 may leave it 0, see A_VERSION_SKIP_CHECKSUM). */
  dataCheck?: number;
}

/** Byte sum of the payload, mod 2^32: what protocol versions before 0x01000001 verify. */
export function checksum(data: Uint8Array): number {
  let sum = 0;
  for (const byte of data) sum = (sum + byte) >>> 0;
  return sum;
}

/**
 * Encodes one packet. Like adbd we always fill in data_check: older hosts verify it
 * and newer ones ignore it, so a correct sum is never wrong.
 */
export function encodePacket(command: number, arg0: number, arg1: number, data?: Buffer): Buffer {
  const payload = data ?? Buffer.alloc(0);
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt32LE(command >>> 0, 0);
  header.writeUInt32LE(arg0 >>> 0, 4);
  header.writeUInt32LE(arg1 >>> 0, 8);
  header.writeUInt32LE(payload.length, 12);
  header.writeUInt32LE(checksum(payload), 16);
  header.writeUInt32LE((command ^ 0xffffffff) >>> 0, 20);
  return Buffer.concat([header, payload]);
}

/** A violation that real adbd answers by dropping the connection. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

export interface DecoderOptions {
  /** Largest payload accepted; adbd drops a peer that announces more. */
  maxPayload: number;
  /**
   * Whether to verify data_check. adbd only does so while the negotiated version is
   * below A_VERSION_SKIP_CHECKSUM, so the session flips this after the handshake.
   */
  verifyChecksum: () => boolean;
}

/**
 * Incremental decoder: feed it whatever TCP delivers and it yields whole packets.
 * Throws ProtocolError on a bad magic, an unknown command, an oversized payload or
 * (when enabled) a bad checksum, the cases where adbd closes the transport.
 */
export class PacketDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly options: DecoderOptions) {}

  push(chunk: Buffer): Packet[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const packets: Packet[] = [];
    while (this.buffered.length >= HEADER_SIZE) {
      const command = this.buffered.readUInt32LE(0);
      const dataLength = this.buffered.readUInt32LE(12);
      const dataCheck = this.buffered.readUInt32LE(16);
      const magic = this.buffered.readUInt32LE(20);
      if (magic !== (command ^ 0xffffffff) >>> 0) {
        throw new ProtocolError(`bad magic 0x${magic.toString(16)} for ${commandName(command)}`);
      }
      if (!NAMES.has(command)) throw new ProtocolError(`unknown command ${commandName(command)}`);
      if (dataLength > this.options.maxPayload) {
        throw new ProtocolError(
          `payload of ${dataLength} bytes exceeds ${this.options.maxPayload}`,
        );
      }
      if (this.buffered.length < HEADER_SIZE + dataLength) break;
      const data = Buffer.from(this.buffered.subarray(HEADER_SIZE, HEADER_SIZE + dataLength));
      if (this.options.verifyChecksum() && checksum(data) !== dataCheck) {
        throw new ProtocolError(`bad data_check on ${commandName(command)}`);
      }
      packets.push({
        command,
        arg0: this.buffered.readUInt32LE(4),
        arg1: this.buffered.readUInt32LE(8),
        data,
        dataCheck,
      });
      this.buffered = this.buffered.subarray(HEADER_SIZE + dataLength);
    }
    return packets;
  }
}

/** Service names arrive NUL-terminated (adb sends `size + 1` bytes); older hosts did not. */
export function serviceName(data: Buffer): string {
  const nul = data.indexOf(0);
  return data.subarray(0, nul === -1 ? data.length : nul).toString('utf8');
}

/** The CNXN banner: `<type>::<key>=<value>;...;features=<a>,<b>`. */
export function deviceBanner(props: Record<string, string>, features: readonly string[]): string {
  const keys = ['ro.product.name', 'ro.product.model', 'ro.product.device'];
  const parts = keys.map((key) => `${key}=${props[key] ?? ''}`);
  parts.push(`features=${features.join(',')}`);
  return `device::${parts.join(';')}`;
}
