import { VerificationError, check } from './errors.js';

/** One DER TLV. Just enough ASN.1 for the vendor extensions X509Certificate does not expose. */
export interface DerNode {
  readonly tag: number;
  readonly contents: Buffer;
  /** The whole TLV encoding, for signatures computed over a structure (e.g. tbsCertList). */
  readonly raw: Buffer;
}

export const DER_TAG = { integer: 0x02, bitString: 0x03, octetString: 0x04, oid: 0x06, enumerated: 0x0a, utcTime: 0x17, generalizedTime: 0x18, sequence: 0x30 } as const;

/** Reads consecutive TLVs covering all of `bytes`. */
function readDerSequenceItems(bytes: Buffer, what: string): DerNode[] {
  const nodes: DerNode[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const { node, next } = readTlv(bytes, offset, what);
    nodes.push(node);
    offset = next;
  }
  return nodes;
}

/** Reads exactly one TLV that must span all of `bytes`. */
export function readDer(bytes: Buffer, what: string): DerNode {
  const { node, next } = readTlv(bytes, 0, what);
  check(next === bytes.length, `${what}: trailing bytes after DER value`);
  return node;
}

export function derChildren(node: DerNode, what: string): DerNode[] {
  check(node.tag === DER_TAG.sequence, `${what}: expected a DER SEQUENCE`);
  return readDerSequenceItems(node.contents, what);
}

export function derInteger(node: DerNode, what: string): number {
  check((node.tag === DER_TAG.integer || node.tag === DER_TAG.enumerated) && node.contents.length > 0 && node.contents.length <= 6, `${what}: expected a small DER INTEGER`);
  return node.contents.readIntBE(0, node.contents.length);
}

export function derOid(node: DerNode, what: string): string {
  check(node.tag === DER_TAG.oid && node.contents.length > 0, `${what}: expected a DER OBJECT IDENTIFIER`);
  const arcs: number[] = [];
  let value = 0;
  for (const byte of node.contents) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  const first = arcs.shift()!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

function readTlv(bytes: Buffer, offset: number, what: string): { node: DerNode; next: number } {
  check(offset + 2 <= bytes.length, `${what}: truncated DER`);
  const tag = bytes[offset]!;
  check((tag & 0x1f) !== 0x1f, `${what}: multi-byte DER tags are not supported`);
  let length = bytes[offset + 1]!;
  let cursor = offset + 2;
  if (length & 0x80) {
    const lengthBytes = length & 0x7f;
    check(lengthBytes >= 1 && lengthBytes <= 4 && cursor + lengthBytes <= bytes.length, `${what}: invalid DER length`);
    length = bytes.readUIntBE(cursor, lengthBytes);
    cursor += lengthBytes;
  }
  if (cursor + length > bytes.length) throw new VerificationError(`${what}: truncated DER value`);
  return { node: { tag, contents: bytes.subarray(cursor, cursor + length), raw: bytes.subarray(offset, cursor + length) }, next: cursor + length };
}

/** UTCTime or GeneralizedTime, both in the "Z" form DER requires. */
export function derTime(node: DerNode, what: string): Date {
  const text = node.contents.toString('latin1');
  const match =
    node.tag === DER_TAG.utcTime ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : node.tag === DER_TAG.generalizedTime ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : null;
  check(match, `${what}: expected a DER time`);
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  // RFC 5280: two-digit years 50..99 are 19xx, 00..49 are 20xx.
  const fullYear = node.tag === DER_TAG.utcTime ? (year >= 50 ? 1900 + year : 2000 + year) : year;
  return new Date(Date.UTC(fullYear, month - 1, day, hour, minute, second));
}
