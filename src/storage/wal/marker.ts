import crypto from 'node:crypto';
import { readU64, writeU64 } from './bytes.js';
import { CHECKPOINT_BYTES, decodeCheckpoint, encodeCheckpoint, type SignedCheckpoint } from './checkpoint.js';
import { IntegrityError, WrongKeyError } from './errors.js';
import { readIfExists, writeFileAtomic } from './files.js';

/**
 * The signed "high-water mark" of the durable state: the newest checkpoint known durable in the
 * log and the newest snapshot. Recovery must reach at least this point, so putting back an older
 * snapshot, or older segments, is detected. It only ever moves forward, and is written after the
 * state it names is durable. It also carries a key check, so a wrong data key is reported as such.
 *
 * Layout: magic | u64 snapshot revision | u64 snapshot sequence | checkpoint | key check | Ed25519
 * signature over everything before it.
 */
export interface MarkerState {
  checkpoint: SignedCheckpoint;
  snapshotRevision: number;
  snapshotSequence: number;
}

const MAGIC = Buffer.from('NMARKER1');
const KEY_CHECK_BYTES = 32;
const SIGNED_BYTES = MAGIC.length + 16 + CHECKPOINT_BYTES + KEY_CHECK_BYTES;
const MARKER_BYTES = SIGNED_BYTES + 64;

export function dataKeyCheck(dataKey: Buffer): Buffer {
  return crypto.createHmac('sha256', dataKey).update('nautilus data key check v1').digest();
}

export async function readMarker(
  file: string,
  dataKey: Buffer,
  publicKey: crypto.KeyObject,
): Promise<MarkerState | undefined> {
  const bytes = await readIfExists(file);
  if (!bytes) return undefined;
  if (bytes.length !== MARKER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new IntegrityError(`marker ${file}: malformed (${bytes.length} bytes)`);
  }
  // The key check comes first so that a wrong key is reported as such, not as tampering.
  const signed = bytes.subarray(0, SIGNED_BYTES);
  const keyCheck = bytes.subarray(SIGNED_BYTES - KEY_CHECK_BYTES, SIGNED_BYTES);
  if (!crypto.timingSafeEqual(keyCheck, dataKeyCheck(dataKey))) {
    throw new WrongKeyError(
      `wrong data key: the key from the key provider is not the key this data directory was sealed with (marker ${file})`,
    );
  }
  if (!crypto.verify(null, signed, publicKey, bytes.subarray(SIGNED_BYTES))) {
    throw new IntegrityError(`marker ${file}: signature does not verify with the server key`);
  }
  return {
    snapshotRevision: readU64(bytes, 8),
    snapshotSequence: readU64(bytes, 16),
    checkpoint: decodeCheckpoint(bytes.subarray(24, 24 + CHECKPOINT_BYTES))!,
  };
}

/** Keeps the marker's state and writes it atomically, one write at a time, never backwards. */
export class MarkerKeeper {
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly keyCheck: Buffer,
    private readonly signingKey: crypto.KeyObject,
    private state: MarkerState,
  ) {}

  get current(): MarkerState {
    return this.state;
  }

  /** Moves the marker forward to whatever of `update` is newer; resolves once it is durable. */
  advance(update: { checkpoint?: SignedCheckpoint; snapshotRevision?: number; snapshotSequence?: number }): Promise<void> {
    const next: MarkerState = { ...this.state };
    if (update.checkpoint && update.checkpoint.sequence > next.checkpoint.sequence) next.checkpoint = update.checkpoint;
    if (update.snapshotSequence !== undefined && update.snapshotSequence >= next.snapshotSequence) {
      next.snapshotSequence = update.snapshotSequence;
      next.snapshotRevision = update.snapshotRevision!;
    }
    return this.replace(next);
  }

  /** Sets the marker to exactly `state`; only recovery uses this, to move it back on purpose. */
  replace(state: MarkerState): Promise<void> {
    this.state = state;
    const write = this.writes.then(() => writeFileAtomic(this.file, this.encode(state)));
    this.writes = write.catch(() => undefined);
    return write;
  }

  private encode(state: MarkerState): Buffer {
    const signed = Buffer.alloc(SIGNED_BYTES);
    MAGIC.copy(signed, 0);
    writeU64(signed, 8, state.snapshotRevision);
    writeU64(signed, 16, state.snapshotSequence);
    encodeCheckpoint(state.checkpoint).copy(signed, 24);
    this.keyCheck.copy(signed, 24 + CHECKPOINT_BYTES);
    return Buffer.concat([signed, crypto.sign(null, signed, this.signingKey)]);
  }
}
