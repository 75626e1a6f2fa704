/**
 * One adb transport on one TCP connection: the handshake (CNXN/AUTH) and the
 * multiplexed streams (OPEN/OKAY/WRTE/CLSE), following adbd's handle_packet rules.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  A_AUTH,
  A_CLSE,
  A_CNXN,
  A_OKAY,
  A_OPEN,
  A_VERSION,
  A_VERSION_SKIP_CHECKSUM,
  A_WRTE,
  AUTH_RSAPUBLICKEY,
  AUTH_SIGNATURE,
  AUTH_TOKEN,
  AUTH_TOKEN_SIZE,
  DEVICE_MAX_PAYLOAD,
  PacketDecoder,
  ProtocolError,
  commandName,
  encodePacket,
  serviceName,
} from './protocol.js';
import type { Packet } from './protocol.js';

/**
 * `offline`: adbd never answers CNXN. `wedged`: the same on this connection, but
 * adbd answers the next one (what `adb reconnect offline` gets out of a phone whose
 * transport hung): the phone turns `authorized` when a new connection arrives.
 */
export type PhoneMode = 'authorized' | 'unauthorized' | 'offline' | 'wedged';

/** What the phone does with an OPENed service. */
export type ServiceAnswer =
  | { kind: 'output'; text: string }
  | { kind: 'hang' }
  | { kind: 'refuse' }
  | { kind: 'reboot' }
  /** adbd dies mid-command: part of the output, then every connection drops. */
  | { kind: 'die'; text: string };

/** Everything observable on the wire, for tests and for the timing notes. */
export type PhoneEvent =
  | { type: 'connect'; at: number }
  | {
      type: 'cnxn';
      at: number;
      version: number;
      maxPayload: number;
      dataCheck: number;
      banner: string;
    }
  | { type: 'auth'; at: number; kind: 'signature' | 'publickey' }
  | { type: 'online'; at: number }
  | { type: 'open'; at: number; service: string }
  | { type: 'host-close'; at: number; service: string }
  | { type: 'protocol-error'; at: number; message: string }
  | { type: 'disconnect'; at: number };

export interface SessionHooks {
  mode(): PhoneMode;
  banner(): string;
  answer(service: string): ServiceAnswer;
  reboot(): void;
  /** adbd crashed: every connection of the phone drops. */
  die(): void;
  record(event: PhoneEvent): void;
}

interface Stream {
  localId: number;
  remoteId: number;
  service: string;
  pending: Buffer[];
  /** adb allows one unacknowledged WRTE per stream: the next waits for the host's OKAY. */
  awaitingAck: boolean;
  closeWhenDrained: boolean;
}

/**
 * Version assumed before any CNXN. Sums are not checked then: measured, adb 29 fills in
 * data_check on its first CNXN but sends 0 on the CNXN of an automatic reconnect (it
 * reuses the transport, already at 0x01000001), and real phones accept that.
 */
const VERSION_BEFORE_HANDSHAKE = A_VERSION_SKIP_CHECKSUM;

export class DeviceSession {
  private readonly decoder: PacketDecoder;
  private readonly streams = new Map<number, Stream>();
  private nextLocalId = 1;
  private protocolVersion = VERSION_BEFORE_HANDSHAKE;
  private hostMaxPayload = DEVICE_MAX_PAYLOAD;
  private online = false;
  /** A CNXN arrived and was left unanswered (offline mode, or the RSA dialog is up). */
  private handshakePending = false;

  constructor(
    private readonly socket: Socket,
    private readonly hooks: SessionHooks,
  ) {
    this.decoder = new PacketDecoder({
      maxPayload: DEVICE_MAX_PAYLOAD,
      verifyChecksum: () => this.protocolVersion < A_VERSION_SKIP_CHECKSUM,
    });
    hooks.record({ type: 'connect', at: Date.now() });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.streams.clear();
      hooks.record({ type: 'disconnect', at: Date.now() });
    });
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /**
   * Finishes a handshake the phone sat on: the user tapped "Allow" on the RSA dialog,
   * or a wedged adbd recovered. The host waits on the same connection, so this works.
   */
  approve(): void {
    if (this.handshakePending && !this.online && !this.socket.destroyed) this.sendConnect();
  }

  drop(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let packets: Packet[];
    try {
      packets = this.decoder.push(chunk);
    } catch (error) {
      // adbd treats a corrupt header as a dead transport and closes it.
      if (!(error instanceof ProtocolError)) throw error;
      this.hooks.record({ type: 'protocol-error', at: Date.now(), message: error.message });
      this.socket.destroy();
      return;
    }
    for (const packet of packets) {
      if (this.socket.destroyed) return;
      this.handle(packet);
    }
  }

  private send(command: number, arg0: number, arg1: number, data?: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(encodePacket(command, arg0, arg1, data));
  }

  private handle(p: Packet): void {
    switch (p.command) {
      case A_CNXN:
        return this.onConnect(p);
      case A_AUTH:
        return this.onAuth(p);
      // The guards below are adbd's: packets for streams are ignored until the
      // transport is online, and ids of 0 where adbd requires one are dropped.
      case A_OPEN:
        if (this.online && p.arg0 !== 0 && p.arg1 === 0) this.onOpen(p);
        return;
      case A_OKAY:
        if (this.online && p.arg0 !== 0 && p.arg1 !== 0) this.onOkay(p);
        return;
      case A_WRTE:
        if (this.online && p.arg0 !== 0 && p.arg1 !== 0) this.onWrite(p);
        return;
      case A_CLSE:
        if (this.online && p.arg1 !== 0) this.onClose(p);
        return;
      default:
        // SYNC and STLS are never sent by adb 29 to a device that did not ask for them.
        this.hooks.record({
          type: 'protocol-error',
          at: Date.now(),
          message: `unexpected ${commandName(p.command)}`,
        });
    }
  }

  private onConnect(p: Packet): void {
    this.protocolVersion = Math.min(p.arg0, A_VERSION);
    this.hostMaxPayload = Math.min(p.arg1, DEVICE_MAX_PAYLOAD);
    this.hooks.record({
      type: 'cnxn',
      at: Date.now(),
      version: p.arg0,
      maxPayload: p.arg1,
      dataCheck: p.dataCheck ?? 0,
      banner: p.data.toString('utf8'),
    });
    // A new CNXN restarts the transport: adbd forgets every stream of the old one.
    this.streams.clear();
    this.online = false;
    this.handshakePending = true;
    switch (this.hooks.mode()) {
      case 'offline':
      case 'wedged':
        return; // TCP is up but adbd never answers: the host lists the device `offline`.
      case 'unauthorized':
        return this.sendToken();
      case 'authorized':
        return this.sendConnect();
    }
  }

  private onAuth(p: Packet): void {
    if (this.online || this.hooks.mode() !== 'unauthorized') return;
    if (p.arg0 === AUTH_SIGNATURE) {
      // No key of ours verifies it: ask again, as adbd does after a wrong signature.
      this.hooks.record({ type: 'auth', at: Date.now(), kind: 'signature' });
      this.sendToken();
    } else if (p.arg0 === AUTH_RSAPUBLICKEY) {
      // adbd would now show "Allow USB debugging?" and wait for a person.
      this.hooks.record({ type: 'auth', at: Date.now(), kind: 'publickey' });
    }
  }

  private sendToken(): void {
    this.send(A_AUTH, AUTH_TOKEN, 0, randomBytes(AUTH_TOKEN_SIZE));
  }

  private sendConnect(): void {
    this.online = true;
    this.handshakePending = false;
    this.send(A_CNXN, A_VERSION, DEVICE_MAX_PAYLOAD, Buffer.from(this.hooks.banner(), 'utf8'));
    this.hooks.record({ type: 'online', at: Date.now() });
  }

  private onOpen(p: Packet): void {
    const service = serviceName(p.data);
    this.hooks.record({ type: 'open', at: Date.now(), service });
    const answer = this.hooks.answer(service);
    if (answer.kind === 'refuse') {
      this.send(A_CLSE, 0, p.arg0);
      return;
    }
    const stream: Stream = {
      localId: this.nextLocalId++,
      remoteId: p.arg0,
      service,
      pending: [],
      awaitingAck: false,
      closeWhenDrained: false,
    };
    this.streams.set(stream.localId, stream);
    this.send(A_OKAY, stream.localId, stream.remoteId);
    if (answer.kind === 'reboot') {
      // Like `reboot` on a phone: the service never answers, the transport just dies.
      setImmediate(() => this.hooks.reboot());
    } else if (answer.kind === 'output') {
      this.queue(stream, Buffer.from(answer.text, 'utf8'));
    } else if (answer.kind === 'die') {
      this.send(A_WRTE, stream.localId, stream.remoteId, Buffer.from(answer.text, 'utf8'));
      setImmediate(() => this.hooks.die());
    }
  }

  private queue(stream: Stream, data: Buffer): void {
    for (let offset = 0; offset < data.length; offset += this.hostMaxPayload) {
      stream.pending.push(data.subarray(offset, offset + this.hostMaxPayload));
    }
    stream.closeWhenDrained = true;
    this.pump(stream);
  }

  private pump(stream: Stream): void {
    if (stream.awaitingAck) return;
    const chunk = stream.pending.shift();
    if (chunk) {
      stream.awaitingAck = true;
      this.send(A_WRTE, stream.localId, stream.remoteId, chunk);
    } else if (stream.closeWhenDrained) {
      this.streams.delete(stream.localId);
      this.send(A_CLSE, stream.localId, stream.remoteId);
    }
  }

  /** Host's OKAY(remote, local): its ready-for-more after one of our WRTEs. */
  private onOkay(p: Packet): void {
    const stream = this.streams.get(p.arg1);
    if (!stream || stream.remoteId !== p.arg0) return;
    stream.awaitingAck = false;
    this.pump(stream);
  }

  /** Host's WRTE(remote, local): input for the shell, which we acknowledge and drop. */
  private onWrite(p: Packet): void {
    const stream = this.streams.get(p.arg1);
    if (!stream || stream.remoteId !== p.arg0) return;
    this.send(A_OKAY, stream.localId, stream.remoteId);
  }

  /** Host's CLSE(remote, local): adbd tears the stream down and does not answer. */
  private onClose(p: Packet): void {
    const stream = this.streams.get(p.arg1);
    if (!stream || (p.arg0 !== 0 && stream.remoteId !== p.arg0)) return;
    this.streams.delete(stream.localId);
    this.hooks.record({ type: 'host-close', at: Date.now(), service: stream.service });
  }
}
