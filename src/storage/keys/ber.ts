/**
 * A minimal BER reader: enough to take apart the CMS EnvelopedData that AWS KMS returns as
 * CiphertextForRecipient, which is BER (indefinite lengths, octet strings split into pieces), not
 * strict DER. Single-byte tags only; everything else is rejected with a position.
 */
export interface BerNode {
  /** The identifier octet, e.g. 0x30 SEQUENCE, 0x04 OCTET STRING, 0xa0 [0] constructed. */
  tag: number;
  constructed: boolean;
  /** Primitive contents (empty for constructed nodes). */
  contents: Buffer;
  children: BerNode[];
}

export class BerError extends Error {
  override readonly name = 'BerError';
}

export function parseBer(bytes: Buffer): BerNode {
  const { node, end } = parseAt(bytes, 0, 0);
  if (end !== bytes.length) throw new BerError(`${bytes.length - end} trailing bytes after the outer element`);
  return node;
}

const MAX_DEPTH = 32;

function parseAt(bytes: Buffer, offset: number, depth: number): { node: BerNode; end: number } {
  if (depth > MAX_DEPTH) throw new BerError(`nesting deeper than ${MAX_DEPTH} at byte ${offset}`);
  if (offset + 2 > bytes.length) throw new BerError(`truncated element at byte ${offset}`);
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new BerError(`multi-byte tag at byte ${offset} is not supported`);
  const constructed = (tag & 0x20) !== 0;
  let at = offset + 1;
  const first = bytes[at++]!;
  if (first === 0x80) {
    if (!constructed) throw new BerError(`primitive element with indefinite length at byte ${offset}`);
    const children: BerNode[] = [];
    for (;;) {
      if (at + 2 > bytes.length) throw new BerError(`indefinite-length element at byte ${offset} has no end-of-contents`);
      if (bytes[at] === 0 && bytes[at + 1] === 0) return { node: { tag, constructed, contents: Buffer.alloc(0), children }, end: at + 2 };
      const child = parseAt(bytes, at, depth + 1);
      children.push(child.node);
      at = child.end;
    }
  }
  let length = first;
  if (first > 0x80) {
    const count = first & 0x7f;
    if (count > 4 || at + count > bytes.length) throw new BerError(`bad length at byte ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[at++]!;
  }
  const end = at + length;
  if (end > bytes.length) throw new BerError(`element at byte ${offset} claims ${length} bytes, only ${bytes.length - at} remain`);
  if (!constructed) return { node: { tag, constructed, contents: bytes.subarray(at, end), children: [] }, end };
  const children: BerNode[] = [];
  while (at < end) {
    const child = parseAt(bytes, at, depth + 1);
    if (child.end > end) throw new BerError(`element at byte ${at} overruns its parent`);
    children.push(child.node);
    at = child.end;
  }
  return { node: { tag, constructed, contents: Buffer.alloc(0), children }, end };
}

/** An OCTET STRING's bytes (tag given, since IMPLICIT tagging changes it), joined if chunked. */
export function octetString(node: BerNode): Buffer {
  if (!node.constructed) return node.contents;
  return Buffer.concat(node.children.map(octetString));
}

/** Hex of an OBJECT IDENTIFIER's contents, for comparing against the constants below. */
export function oidHex(node: BerNode | undefined): string | undefined {
  return node && node.tag === 0x06 ? node.contents.toString('hex') : undefined;
}

export const OID = {
  envelopedData: '2a864886f70d010703', // 1.2.840.113549.1.7.3
  data: '2a864886f70d010701', // 1.2.840.113549.1.7.1
  rsaesOaep: '2a864886f70d010107', // 1.2.840.113549.1.1.7
  sha256: '608648016503040201', // 2.16.840.1.101.3.4.2.1
  aes256Cbc: '60864801650304012a', // 2.16.840.1.101.3.4.1.42
} as const;
