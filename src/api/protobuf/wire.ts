/**
 * Protocol Buffers wire format reading (https://protobuf.dev/programming-guides/encoding/), bounded by the
 * buffer it is given: every malformed input becomes a 400 with the byte offset, never an out-of-range read.
 */
import { errors } from '../status.js';

export const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

export interface Tag {
  field: number;
  wireType: number;
}

/** A varint wider than 49 bits comes back as a bigint so that 64-bit values (and negative ints) stay exact. */
export type Varint = number | bigint;

export class ProtoReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  tag(): Tag {
    const at = this.pos;
    const value = this.varint();
    if (typeof value === 'bigint' || value > 0xffffffff) throw malformed(at, 'field tag out of range');
    const field = Math.floor(value / 8);
    if (field === 0) throw malformed(at, 'field number 0');
    return { field, wireType: value % 8 };
  }

  varint(): Varint {
    const at = this.pos;
    let small = 0;
    for (let i = 0; i < 7; i++) {
      const byte = this.byte(at);
      small += (byte & 0x7f) * 2 ** (7 * i);
      if (byte < 0x80) return small;
    }
    let big = BigInt(small);
    for (let i = 7; i < 10; i++) {
      const byte = this.byte(at);
      big |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if (byte < 0x80) return BigInt.asUintN(64, big);
    }
    throw malformed(at, 'varint longer than 10 bytes');
  }

  /** The bounds of a length-delimited value; the reader moves past it. */
  lengthDelimited(): { start: number; end: number } {
    const at = this.pos;
    const length = this.varint();
    if (typeof length === 'bigint' || length > this.end - this.pos) {
      throw malformed(at, `length ${length} runs past the end of the enclosing message`);
    }
    const start = this.pos;
    this.pos += length;
    return { start, end: this.pos };
  }

  bytes(): Buffer {
    const { start, end } = this.lengthDelimited();
    return this.buf.subarray(start, end);
  }

  /** A reader over the next length-delimited value. */
  sub(): ProtoReader {
    const { start, end } = this.lengthDelimited();
    return new ProtoReader(this.buf, start, end);
  }

  skip(wireType: number): void {
    const at = this.pos;
    switch (wireType) {
      case WireType.varint:
        this.varint();
        return;
      case WireType.fixed64:
        this.advance(8, at);
        return;
      case WireType.lengthDelimited:
        this.lengthDelimited();
        return;
      case WireType.fixed32:
        this.advance(4, at);
        return;
      default:
        throw malformed(at, `unsupported wire type ${wireType}`);
    }
  }

  offset(): number {
    return this.pos;
  }

  private advance(count: number, at: number): void {
    if (count > this.end - this.pos) throw malformed(at, 'value runs past the end of the enclosing message');
    this.pos += count;
  }

  private byte(at: number): number {
    if (this.pos >= this.end) throw malformed(at, 'truncated varint');
    return this.buf[this.pos++];
  }
}

export function malformed(offset: number, what: string): Error {
  return errors.badRequest(`malformed protobuf body at byte ${offset}: ${what}`);
}

export function toInt32(value: Varint): number {
  return typeof value === 'bigint' ? Number(BigInt.asIntN(32, value)) : value | 0;
}

export function toInt64(value: Varint): number {
  return typeof value === 'bigint' ? Number(BigInt.asIntN(64, value)) : value;
}

/** Collects one message's encoded fields; nested messages are finished into their own buffer first. */
export class ProtoWriter {
  private readonly parts: Buffer[] = [];

  varintField(field: number, value: number | bigint): void {
    this.parts.push(encodeVarint(field * 8 + WireType.varint), encodeVarint(value));
  }

  bytesField(field: number, value: Buffer): void {
    this.parts.push(encodeVarint(field * 8 + WireType.lengthDelimited), encodeVarint(value.length), value);
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Negative numbers take ten bytes, as two's complement over 64 bits. */
export function encodeVarint(value: number | bigint): Buffer {
  if (typeof value === 'number' && value >= 0 && value < 2 ** 31) {
    const bytes: number[] = [];
    let rest = value;
    while (rest >= 0x80) {
      bytes.push((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    bytes.push(rest);
    return Buffer.from(bytes);
  }
  let rest = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
}
