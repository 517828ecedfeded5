/**
 * A minimal protocol-buffers (proto3) message writer: enough wire format (varints and
 * length-delimited fields) to encode the gnostic OpenAPI documents kubectl asks for.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

export class ProtoWriter {
  private readonly parts: Buffer[] = [];

  /** A string field; proto3 omits empty strings. */
  string(field: number, value: string | undefined): this {
    if (value) this.lengthDelimited(field, Buffer.from(value, 'utf8'));
    return this;
  }

  strings(field: number, values: readonly string[] | undefined): this {
    // Repeated fields keep empty entries: their position carries meaning.
    for (const value of values ?? []) this.lengthDelimited(field, Buffer.from(value, 'utf8'));
    return this;
  }

  /** A bool field; proto3 omits false. */
  bool(field: number, value: boolean | undefined): this {
    if (value) {
      this.tag(field, WIRE_VARINT);
      this.parts.push(Buffer.from([1]));
    }
    return this;
  }

  /** An embedded message field, given as an already-encoded body (may be empty but present). */
  message(field: number, body: Buffer | undefined): this {
    if (body) this.lengthDelimited(field, body);
    return this;
  }

  messages(field: number, bodies: readonly Buffer[]): this {
    for (const body of bodies) this.lengthDelimited(field, body);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }

  private lengthDelimited(field: number, bytes: Buffer): void {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.parts.push(encodeVarint(bytes.length), bytes);
  }

  private tag(field: number, wireType: number): void {
    this.parts.push(encodeVarint(field * 8 + wireType));
  }
}

/** Unsigned LEB128 varint of a non-negative safe integer. */
export function encodeVarint(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value} as a varint`);
  const bytes: number[] = [];
  let remaining = value;
  while (remaining >= 0x80) {
    bytes.push((remaining % 0x80) | 0x80);
    remaining = Math.floor(remaining / 0x80);
  }
  bytes.push(remaining);
  return Buffer.from(bytes);
}
