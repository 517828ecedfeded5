/**
 * SPDY/3.1 framing and sessions, as Kubernetes streams use them (client-go's SPDY executor and
 * port-forwarder, on moby/spdystream): a connection carries streams, each opened with SYN_STREAM
 * (headers such as `streamType`), accepted with SYN_REPLY, carrying DATA frames, half-closed with
 * the FIN flag and aborted with RST_STREAM; PING is answered, GOAWAY ends the session, SETTINGS,
 * HEADERS and WINDOW_UPDATE are read and ignored. There is no flow control on the send side:
 * spdystream neither enforces windows nor sends WINDOW_UPDATE, so honouring the 64 KiB initial
 * window would stall every stream; the socket's own back-pressure applies instead.
 *
 * `acceptSpdyUpgrade` is the HTTP/1.1 side: `Upgrade: SPDY/3.1` with protocol negotiation over
 * `X-Stream-Protocol-Version`, as apimachinery's httpstream.Handshake.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from './spdy-headers.js';

export type { SpdyHeaders } from './spdy-headers.js';

const VERSION = 3;
export const FrameType = { SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9 } as const;
const FLAG_FIN = 0x01;
const FLAG_UNIDIRECTIONAL = 0x02;
export const RstStatus = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, CANCEL: 5, INTERNAL_ERROR: 6 } as const;
const GOAWAY_OK = 0;
const GOAWAY_PROTOCOL_ERROR = 1;
/** The largest control frame read (SPDY allows 16 MiB; Kubernetes' are a few hundred bytes). */
const MAX_CONTROL_FRAME = 1024 * 1024;
/** DATA frames are written in pieces of at most this size. */
const MAX_DATA_CHUNK = 32 * 1024;
/** Frames waiting for processing before the socket is paused. */
const HIGH_WATER_FRAMES = 256;

export const SPDY_UPGRADE = 'SPDY/3.1';
export const PROTOCOL_HEADER = 'x-stream-protocol-version';

interface Frame {
  control: boolean;
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

export class SpdyStream extends EventEmitter {
  /** The peer sent FIN (or reset). */
  remoteEnded = false;
  /** This side sent FIN (or reset). */
  localEnded = false;
  closed = false;
  replied = false;

  constructor(readonly session: SpdySession, readonly id: number, readonly headers: SpdyHeaders) {
    super();
  }

  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  /** Accepts a stream the peer opened. */
  reply(headers: SpdyHeaders = {}): void {
    if (this.replied || this.closed) return;
    this.replied = true;
    this.session.writeControl(FrameType.SYN_REPLY, 0, this.session.withHeaders(this.id, undefined, headers));
  }

  write(data: Buffer | string): boolean {
    if (this.localEnded || this.closed) return false;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let offset = 0; offset < bytes.length; offset += MAX_DATA_CHUNK) this.session.writeData(this.id, 0, bytes.subarray(offset, offset + MAX_DATA_CHUNK));
    return !this.session.congested;
  }

  /** Half-closes: FIN, after `data` if given. */
  end(data?: Buffer | string): void {
    if (this.localEnded || this.closed) return;
    if (data !== undefined && data.length > 0) this.write(data);
    this.localEnded = true;
    this.session.writeData(this.id, FLAG_FIN, Buffer.alloc(0));
    this.maybeClose();
  }

  reset(status: number = RstStatus.CANCEL): void {
    if (this.closed) return;
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(this.id & 0x7fffffff, 0);
    payload.writeUInt32BE(status, 4);
    this.session.writeControl(FrameType.RST_STREAM, 0, payload);
    this.finish();
  }

  /** @internal */
  receiveData(data: Buffer, fin: boolean): void {
    if (this.remoteEnded) return;
    if (data.length > 0) this.emit('data', data);
    if (fin) {
      this.remoteEnded = true;
      this.emit('end');
      this.maybeClose();
    }
  }

  /** @internal closes without telling the peer (it reset the stream, or the session ended). */
  finish(): void {
    if (this.closed) return;
    const hadRemote = this.remoteEnded;
    this.remoteEnded = this.localEnded = this.closed = true;
    if (!hadRemote) this.emit('end');
    this.session.forget(this.id);
    this.emit('close');
  }

  private maybeClose(): void {
    if (this.remoteEnded && this.localEnded) this.finish();
  }
}

/**
 * One SPDY/3.1 connection. `stream` events bring streams the peer opened (reply or reset them);
 * `createStream` opens one (client side: odd ids). `close` is emitted once the session is over.
 */
export class SpdySession extends EventEmitter {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly streams = new Map<number, SpdyStream>();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private nextStreamId: number;
  private nextPingId: number;
  private lastPeerStreamId = 0;
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private goneAway = false;
  ended = false;

  constructor(readonly socket: Duplex, readonly role: 'server' | 'client', head?: Buffer) {
    super();
    this.nextStreamId = role === 'client' ? 1 : 2;
    this.nextPingId = role === 'client' ? 1 : 2;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => this.destroy());
    socket.on('close', () => this.destroy());
    socket.on('error', () => this.destroy());
    if (head && head.length > 0) this.receive(head);
  }

  get congested(): boolean {
    return this.socket.writableNeedDrain;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Opens a stream; it is usable once `replied` (the `reply` event). */
  createStream(headers: SpdyHeaders, options: { fin?: boolean } = {}): SpdyStream {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new SpdyStream(this, id, headers);
    this.streams.set(id, stream);
    const fixed = Buffer.alloc(10);
    fixed.writeUInt32BE(id, 0);
    fixed.writeUInt32BE(0, 4);
    this.writeControl(FrameType.SYN_STREAM, options.fin ? FLAG_FIN : 0, Buffer.concat([fixed, this.compressor.compress(headers)]));
    if (options.fin) stream.localEnded = true;
    return stream;
  }

  ping(): void {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(this.nextPingId);
    this.nextPingId += 2;
    this.writeControl(FrameType.PING, 0, payload);
  }

  /** Says GOAWAY and ends the connection once what was written is out. */
  close(status = GOAWAY_OK): void {
    if (this.ended) return;
    if (!this.goneAway) {
      this.goneAway = true;
      const payload = Buffer.alloc(8);
      payload.writeUInt32BE(this.lastPeerStreamId, 0);
      payload.writeUInt32BE(status, 4);
      this.writeControl(FrameType.GOAWAY, 0, payload);
    }
    this.socket.end();
  }

  destroy(): void {
    if (this.ended) return;
    this.ended = true;
    for (const stream of [...this.streams.values()]) stream.finish();
    this.decompressor.close();
    if (!this.socket.destroyed) this.socket.destroy();
    this.emit('close');
  }

  /** @internal */
  withHeaders(id: number, prefix: Buffer | undefined, headers: SpdyHeaders): Buffer {
    const idBytes = Buffer.alloc(4);
    idBytes.writeUInt32BE(id & 0x7fffffff);
    return Buffer.concat([idBytes, ...(prefix ? [prefix] : []), this.compressor.compress(headers)]);
  }

  /** @internal */
  writeControl(type: number, flags: number, payload: Buffer): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    const head = Buffer.alloc(8);
    head.writeUInt16BE(0x8000 | VERSION, 0);
    head.writeUInt16BE(type, 2);
    head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
    this.socket.write(Buffer.concat([head, payload]));
  }

  /** @internal */
  writeData(id: number, flags: number, data: Buffer): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    const head = Buffer.alloc(8);
    head.writeUInt32BE(id & 0x7fffffff, 0);
    head.writeUInt32BE(((flags & 0xff) << 24) | data.length, 4);
    this.socket.write(data.length > 0 ? Buffer.concat([head, data]) : head);
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
    if (this.streams.size === 0) this.emit('idle');
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 8 && !this.ended) {
      const first = this.buffer.readUInt32BE(0);
      const control = (first & 0x80000000) !== 0;
      const word = this.buffer.readUInt32BE(4);
      const length = word & 0xffffff;
      if (control && length > MAX_CONTROL_FRAME) return this.protocolError();
      if (this.buffer.length < 8 + length) break;
      const frame: Frame = control
        ? { control, type: first & 0xffff, flags: word >>> 24, streamId: 0, payload: this.buffer.subarray(8, 8 + length) }
        : { control, type: 0, flags: word >>> 24, streamId: first & 0x7fffffff, payload: this.buffer.subarray(8, 8 + length) };
      if (control && ((first >>> 16) & 0x7fff) !== VERSION) return this.protocolError();
      this.buffer = this.buffer.subarray(8 + length);
      this.enqueue(frame);
    }
    if (this.buffer.length === 0) this.buffer = Buffer.alloc(0);
  }

  /** Frames are handled one after another: a header block must be inflated before the next frame. */
  private enqueue(frame: Frame): void {
    this.queued++;
    if (this.queued > HIGH_WATER_FRAMES) this.socket.pause();
    this.chain = this.chain
      .then(() => (this.ended ? undefined : this.handle(frame)))
      .catch((error) => this.protocolError(error))
      .finally(() => {
        this.queued--;
        if (this.queued < HIGH_WATER_FRAMES / 4 && this.socket.isPaused()) this.socket.resume();
      });
  }

  private async handle(frame: Frame): Promise<void> {
    const { payload } = frame;
    if (!frame.control) {
      const stream = this.streams.get(frame.streamId);
      if (stream) stream.receiveData(payload, (frame.flags & FLAG_FIN) !== 0);
      return;
    }
    switch (frame.type) {
      case FrameType.SYN_STREAM: {
        if (payload.length < 10) return this.protocolError();
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const headers = await this.decompressor.decompress(payload.subarray(10));
        const peerParity = this.role === 'server' ? 1 : 0;
        if (id === 0 || id % 2 !== peerParity || id <= this.lastPeerStreamId || this.goneAway) {
          const rst = Buffer.alloc(8);
          rst.writeUInt32BE(id, 0);
          rst.writeUInt32BE(RstStatus.PROTOCOL_ERROR, 4);
          return this.writeControl(FrameType.RST_STREAM, 0, rst);
        }
        this.lastPeerStreamId = id;
        const stream = new SpdyStream(this, id, headers);
        this.streams.set(id, stream);
        if ((frame.flags & FLAG_UNIDIRECTIONAL) !== 0) stream.localEnded = true;
        this.emit('stream', stream);
        if ((frame.flags & FLAG_FIN) !== 0) stream.receiveData(Buffer.alloc(0), true);
        return;
      }
      case FrameType.SYN_REPLY: {
        if (payload.length < 4) return this.protocolError();
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const headers = await this.decompressor.decompress(payload.subarray(4));
        const stream = this.streams.get(id);
        if (!stream || stream.replied) return;
        stream.replied = true;
        stream.emit('reply', headers);
        if ((frame.flags & FLAG_FIN) !== 0) stream.receiveData(Buffer.alloc(0), true);
        return;
      }
      case FrameType.HEADERS:
        // Read for the compression context; Kubernetes streams carry nothing in them.
        if (payload.length < 4) return this.protocolError();
        await this.decompressor.decompress(payload.subarray(4));
        return;
      case FrameType.RST_STREAM: {
        if (payload.length < 8) return this.protocolError();
        const stream = this.streams.get(payload.readUInt32BE(0) & 0x7fffffff);
        if (stream) {
          stream.emit('reset', payload.readUInt32BE(4));
          stream.finish();
        }
        return;
      }
      case FrameType.PING: {
        if (payload.length !== 4) return this.protocolError();
        // Echo the peer's pings; ours coming back need nothing.
        if ((payload.readUInt32BE(0) & 1) !== (this.nextPingId & 1)) this.writeControl(FrameType.PING, 0, payload);
        return;
      }
      case FrameType.GOAWAY:
        this.goneAway = true;
        this.emit('goaway');
        return;
      default:
        // SETTINGS, WINDOW_UPDATE and unknown control frames: ignored, as the spec lets a receiver.
        return;
    }
  }

  private protocolError(error?: unknown): void {
    if (this.ended) return;
    this.emit('protocolError', error);
    this.close(GOAWAY_PROTOCOL_ERROR);
    this.destroy();
  }
}

/** An HTTP error for an upgrade that cannot be accepted (written raw: the socket is not an HTTP response). */
export function writeRawHttpError(socket: Duplex, code: number, message: string, extraHeaders: Record<string, string> = {}): void {
  const reason: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' };
  const extra = Object.entries(extraHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const body = `${message}\n`;
  socket.end(`HTTP/1.1 ${code} ${reason[code] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** The protocols a request offers in X-Stream-Protocol-Version (repeated or comma-separated). */
export function offeredProtocols(req: IncomingMessage): string[] {
  const offered: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() !== PROTOCOL_HEADER) continue;
    for (const value of req.rawHeaders[i + 1].split(',')) if (value.trim()) offered.push(value.trim());
  }
  return offered;
}

export function isSpdyUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase().split(',').some((v) => v.trim() === SPDY_UPGRADE.toLowerCase());
}

/**
 * Answers an `Upgrade: SPDY/3.1` request with 101 and returns the server session and the
 * negotiated protocol ('' when the client offered none, as upstream's legacy fallback) — or
 * writes upstream's error and returns undefined.
 */
export function acceptSpdyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, supported: string[]): { session: SpdySession; protocol: string } | undefined {
  const connection = (req.headers.connection ?? '').toLowerCase();
  if (!connection.includes('upgrade') || !isSpdyUpgrade(req)) {
    writeRawHttpError(socket, 400, 'unable to upgrade: missing upgrade headers in request');
    return undefined;
  }
  const offered = offeredProtocols(req);
  let protocol = '';
  if (offered.length > 0) {
    protocol = offered.find((p) => supported.includes(p)) ?? '';
    if (!protocol) {
      writeRawHttpError(socket, 403, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.join(' ')}]`, { 'X-Accepted-Stream-Protocol-Versions': supported.join(', ') });
      return undefined;
    }
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${SPDY_UPGRADE}\r\n${protocol ? `X-Stream-Protocol-Version: ${protocol}\r\n` : ''}\r\n`);
  return { session: new SpdySession(socket, 'server', head), protocol };
}
