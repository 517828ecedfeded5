/**
 * SPDY/3 header blocks: the name/value block format and its zlib compression with the protocol's
 * preset dictionary (SPDY/3 draft, "Compression"). Each direction of a connection is one zlib
 * stream; a block is one sync-flushed piece of it.
 *
 * Outgoing blocks are written as deflate *stored* blocks, each followed by an empty one as a sync
 * flush ends it — a valid zlib stream that any inflater (Go's compress/zlib in client-go included) reads, with no compressor state to keep and no
 * asynchronous zlib call on the write path; header blocks here are a few dozen bytes. Incoming
 * blocks go through a real inflater with the dictionary, one per connection.
 */
import { createInflate, constants, type Inflate } from 'node:zlib';

/** Header names (lowercase) → values; a value with NULs is several values, as SPDY/3 sends them. */
export type SpdyHeaders = Record<string, string[]>;

const DICTIONARY_WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
  'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
  'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
  'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
  'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
];
const DICTIONARY_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
  '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,' +
  'publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

/** The SPDY/3 header compression dictionary: each word with a 32-bit length before it, then the tail. */
export const SPDY3_DICTIONARY: Buffer = Buffer.concat([
  ...DICTIONARY_WORDS.map((word) => {
    const bytes = Buffer.from(word, 'latin1');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  }),
  Buffer.from(DICTIONARY_TAIL, 'latin1'),
]);

/** The most a peer's header blocks may inflate to, per block (more is a protocol error). */
export const MAX_HEADER_BLOCK_BYTES = 256 * 1024;

export class HeaderBlockError extends Error {}

export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const entries = Object.entries(headers);
  parts.push(u32(entries.length));
  for (const [name, values] of entries) {
    const key = Buffer.from(name.toLowerCase());
    const value = Buffer.from(values.join('\0'));
    parts.push(u32(key.length), key, u32(value.length), value);
  }
  return Buffer.concat(parts);
}

/** Parses one name/value block from the start of `data`: the headers and the bytes it took, or undefined if incomplete. */
export function decodeHeaderBlock(data: Buffer): { headers: SpdyHeaders; length: number } | undefined {
  if (data.length < 4) return undefined;
  const count = data.readUInt32BE(0);
  let offset = 4;
  const headers: SpdyHeaders = {};
  for (let i = 0; i < count; i++) {
    if (data.length < offset + 4) return undefined;
    const nameLength = data.readUInt32BE(offset);
    if (nameLength === 0 || nameLength > MAX_HEADER_BLOCK_BYTES) throw new HeaderBlockError('invalid header name length');
    if (data.length < offset + 4 + nameLength + 4) return undefined;
    const name = data.toString('latin1', offset + 4, offset + 4 + nameLength).toLowerCase();
    offset += 4 + nameLength;
    const valueLength = data.readUInt32BE(offset);
    if (valueLength > MAX_HEADER_BLOCK_BYTES) throw new HeaderBlockError('invalid header value length');
    if (data.length < offset + 4 + valueLength) return undefined;
    const value = data.toString('utf8', offset + 4, offset + 4 + valueLength);
    offset += 4 + valueLength;
    (headers[name] ??= []).push(...value.split('\0'));
  }
  return { headers, length: offset };
}

function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + data[i]) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const STORED_BLOCK_MAX = 0xffff;
const SYNC_MARKER = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);

/** One direction's compressor: a zlib stream (dictionary announced) of stored deflate blocks. */
export class HeaderCompressor {
  private started = false;

  compress(headers: SpdyHeaders): Buffer {
    const block = encodeHeaderBlock(headers);
    const parts: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      // CMF 0x78 (deflate, 32 KiB window); FLG 0x20: FDICT set, and (CMF·256 + FLG) is a multiple of 31.
      const zlibHeader = Buffer.alloc(6);
      zlibHeader[0] = 0x78;
      zlibHeader[1] = 0x20;
      zlibHeader.writeUInt32BE(adler32(SPDY3_DICTIONARY), 2);
      parts.push(zlibHeader);
    }
    for (let offset = 0; offset < block.length || offset === 0; offset += STORED_BLOCK_MAX) {
      const piece = block.subarray(offset, offset + STORED_BLOCK_MAX);
      const head = Buffer.alloc(5);
      head[0] = 0x00; // BFINAL 0, BTYPE 00 (stored), padded to the byte
      head.writeUInt16LE(piece.length, 1);
      head.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(head, piece);
      if (block.length === 0) break;
    }
    // An empty stored block ends it, as a sync flush does: inflaters (Go's) hand out the data when they see it.
    parts.push(SYNC_MARKER);
    return Buffer.concat(parts);
  }
}

/** One direction's decompressor: feeds each block's bytes to the connection's inflater, in order. */
export class HeaderDecompressor {
  private readonly inflater: Inflate;
  private pending: Buffer = Buffer.alloc(0);
  private failure?: Error;
  private wake?: () => void;

  constructor() {
    this.inflater = createInflate({ dictionary: SPDY3_DICTIONARY });
    this.inflater.on('data', (chunk: Buffer) => {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      if (this.pending.length > MAX_HEADER_BLOCK_BYTES) this.fail(new HeaderBlockError('header block too large'));
      this.wake?.();
    });
    this.inflater.on('error', (error) => this.fail(new HeaderBlockError(`header block does not inflate: ${error.message}`)));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
  }

  /** The headers of one compressed block (call one at a time, in the order the frames came). */
  async decompress(compressed: Buffer): Promise<SpdyHeaders> {
    if (this.failure) throw this.failure;
    let flushed = false;
    this.inflater.write(compressed);
    this.inflater.flush(constants.Z_SYNC_FLUSH, () => {
      flushed = true;
      this.wake?.();
    });
    for (;;) {
      if (this.failure) throw this.failure;
      const parsed = decodeHeaderBlock(this.pending);
      if (parsed) {
        this.pending = this.pending.subarray(parsed.length);
        return parsed.headers;
      }
      // Flushed: whatever the block inflates to is out by the next turn; short of a block is an error.
      const after = flushed;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (after) setImmediate(resolve);
      });
      this.wake = undefined;
      if (after && !this.failure && !decodeHeaderBlock(this.pending)) throw new HeaderBlockError('truncated header block');
    }
  }

  close(): void {
    this.inflater.close();
  }
}
