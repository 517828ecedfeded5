import crypto from 'node:crypto';
import type { Mutation } from '../durable-log.js';
import { SEALED_OVERHEAD, type SealingKey } from './aead.js';
import { readU64, writeU64 } from './bytes.js';

/**
 * One log record on disk:
 *   u32 sealed length | u8 kind | u64 sequence | 32-byte hash of the previous record | sealed body
 * The plaintext header is the AEAD's additional data, so a record cannot be moved to another
 * position or chain without failing authentication; the sequence is also the GCM nonce counter.
 */
export const RECORD_HEADER_BYTES = 4 + 1 + 8 + 32;
/** Far above any object the API server accepts; a larger length field is damage, not data. */
export const MAX_SEALED_BODY_BYTES = 256 * 1024 * 1024;

export enum RecordKind {
  Mutation = 1,
  Checkpoint = 2,
}

export interface SealedRecord {
  frame: Buffer;
  /** SHA-256 of the whole frame: the chain hash the next record must carry. */
  hash: Buffer;
}

export function sealRecord(
  key: SealingKey,
  kind: RecordKind,
  sequence: number,
  prevHash: Buffer,
  plaintext: readonly Uint8Array[],
): SealedRecord {
  let plaintextLength = 0;
  for (const part of plaintext) plaintextLength += part.length;
  const header = Buffer.alloc(RECORD_HEADER_BYTES);
  header.writeUInt32BE(plaintextLength + SEALED_OVERHEAD, 0);
  header.writeUInt8(kind, 4);
  writeU64(header, 5, sequence);
  prevHash.copy(header, 13);
  const frame = key.seal(sequence, header, plaintext, RECORD_HEADER_BYTES);
  header.copy(frame, 0);
  return { frame, hash: sha256(frame) };
}

export interface RecordHeader {
  sealedLength: number;
  kind: number;
  sequence: number;
  prevHash: Buffer;
}

export function readRecordHeader(buf: Buffer, offset: number): RecordHeader {
  return {
    sealedLength: buf.readUInt32BE(offset),
    kind: buf.readUInt8(offset + 4),
    sequence: readU64(buf, offset + 5),
    prevHash: buf.subarray(offset + 13, offset + RECORD_HEADER_BYTES),
  };
}

export function sha256(data: Uint8Array): Buffer {
  return crypto.hash('sha256', data, 'buffer');
}

/**
 * Mutation plaintext: u8 type | u64 revision | u16 len + resource | u16 len + key | value.
 * Returned as [head, value] so the value is encrypted from where it lies instead of copied first.
 */
export function encodeMutation(mutation: Mutation): Uint8Array[] {
  const resourceLength = Buffer.byteLength(mutation.resource, 'utf8');
  const keyLength = Buffer.byteLength(mutation.key, 'utf8');
  if (resourceLength > 0xffff || keyLength > 0xffff) {
    throw new RangeError(`wal: resource or key of revision ${mutation.revision} is longer than 65535 bytes`);
  }
  const head = Buffer.allocUnsafe(1 + 8 + 2 + resourceLength + 2 + keyLength);
  let at = head.writeUInt8(mutation.type === 'put' ? 0 : 1, 0);
  writeU64(head, at, mutation.revision);
  at += 8;
  at = head.writeUInt16BE(resourceLength, at);
  at += head.write(mutation.resource, at, 'utf8');
  at = head.writeUInt16BE(keyLength, at);
  head.write(mutation.key, at, 'utf8');
  return [head, mutation.value];
}

/** Returns undefined on a malformed body (only possible if our own encoder was bypassed). */
export function decodeMutation(body: Buffer): Mutation | undefined {
  if (body.length < 13 || body[0]! > 1) return undefined;
  const revision = readU64(body, 1);
  let at = 9;
  const resourceLength = body.readUInt16BE(at);
  at += 2;
  if (at + resourceLength + 2 > body.length) return undefined;
  const resource = body.toString('utf8', at, at + resourceLength);
  at += resourceLength;
  const keyLength = body.readUInt16BE(at);
  at += 2;
  if (at + keyLength > body.length) return undefined;
  const key = body.toString('utf8', at, at + keyLength);
  at += keyLength;
  return { revision, type: body[0] === 0 ? 'put' : 'delete', resource, key, value: body.subarray(at) };
}
