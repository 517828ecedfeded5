import { Decoder, Encoder, Tag } from 'cbor-x';
import { VerificationError } from './errors.js';

// Maps stay Maps so integer keys (COSE labels, PCR indexes) keep their type.
const decoder = new Decoder({ mapsAsObjects: false });
// Plain RFC 8949 output: no record extension, no tag 259 around Maps, no tag 64 on byte strings,
// which the Nitro formats (and other decoders) would not understand.
const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false, variableMapSize: true });

export function encodeCbor(value: unknown): Buffer {
  return Buffer.from(encoder.encode(value));
}

/** Decodes one CBOR item, turning the decoder's exceptions into a VerificationError. */
export function decodeCbor(bytes: Uint8Array, what: string): unknown {
  try {
    return decoder.decode(bytes);
  } catch (error) {
    throw new VerificationError(`${what}: malformed CBOR (${(error as Error).message})`);
  }
}

export function isTag(value: unknown, tag: number): value is Tag {
  return value instanceof Tag && value.tag === tag;
}

export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}
