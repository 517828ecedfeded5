import crypto from 'node:crypto';
import { readU64, writeU64 } from './bytes.js';

/**
 * A point in the log: every record up to and including `sequence` hashes (as a chain) to
 * `chainHash`, and the newest mutation among them has `revision`.
 */
export interface LogPosition {
  revision: number;
  sequence: number;
  chainHash: Buffer;
}

export interface SignedCheckpoint extends LogPosition {
  signature: Buffer;
}

/** Chain hash before the first record of a log that has never been snapshotted. */
export const GENESIS_CHAIN_HASH = Buffer.alloc(32);
export const GENESIS_POSITION: LogPosition = { revision: 0, sequence: 0, chainHash: GENESIS_CHAIN_HASH };

const SIGNING_DOMAIN = Buffer.from('nautilus-checkpoint-v1\0');
export const CHECKPOINT_BYTES = 8 + 8 + 32 + 64;

function signedMessage(position: LogPosition): Buffer {
  const body = Buffer.alloc(48);
  writeU64(body, 0, position.revision);
  writeU64(body, 8, position.sequence);
  position.chainHash.copy(body, 16);
  return Buffer.concat([SIGNING_DOMAIN, body]);
}

export function signCheckpoint(position: LogPosition, signingKey: crypto.KeyObject): SignedCheckpoint {
  return { ...position, signature: crypto.sign(null, signedMessage(position), signingKey) };
}

export function checkpointSignatureValid(checkpoint: SignedCheckpoint, publicKey: crypto.KeyObject): boolean {
  return crypto.verify(null, signedMessage(checkpoint), publicKey, checkpoint.signature);
}

export function encodeCheckpoint(checkpoint: SignedCheckpoint): Buffer {
  const out = Buffer.alloc(CHECKPOINT_BYTES);
  writeU64(out, 0, checkpoint.revision);
  writeU64(out, 8, checkpoint.sequence);
  checkpoint.chainHash.copy(out, 16);
  checkpoint.signature.copy(out, 48);
  return out;
}

/** Returns undefined when the bytes are not a checkpoint encoding (callers name the place). */
export function decodeCheckpoint(bytes: Buffer): SignedCheckpoint | undefined {
  if (bytes.length !== CHECKPOINT_BYTES) return undefined;
  return {
    revision: readU64(bytes, 0),
    sequence: readU64(bytes, 8),
    chainHash: Buffer.from(bytes.subarray(16, 48)),
    signature: Buffer.from(bytes.subarray(48)),
  };
}
