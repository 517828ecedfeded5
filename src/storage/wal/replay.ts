import type crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Mutation } from '../durable-log.js';
import { SealingKey } from './aead.js';
import { isAllZero } from './bytes.js';
import { checkpointSignatureValid, decodeCheckpoint, type LogPosition, type SignedCheckpoint } from './checkpoint.js';
import { IntegrityError } from './errors.js';
import { fsyncDir } from './files.js';
import type { MarkerState } from './marker.js';
import {
  decodeMutation,
  MAX_SEALED_BODY_BYTES,
  readRecordHeader,
  RECORD_HEADER_BYTES,
  RecordKind,
  sha256,
} from './record.js';
import { decodeSegmentHeader, SEGMENT_HEADER_BYTES, SEGMENT_KEY_PURPOSE, type SegmentInfo } from './segment-writer.js';

export interface ReplayInput {
  walDir: string;
  segments: { number: number; file: string }[];
  dataKey: Buffer;
  publicKey: crypto.KeyObject;
  /** Where the snapshot left off (the genesis position when there is none). */
  start: LogPosition;
  marker: MarkerState | undefined;
  recoverToCheckpoint: boolean;
}

export interface ReplayResult {
  mutations: Mutation[];
  end: LogPosition;
  /** The newest signed checkpoint verified in the log, if any after the snapshot. */
  latestCheckpoint: SignedCheckpoint | undefined;
  segments: SegmentInfo[];
  /** Bytes cut from an incomplete last record: the normal trace of a crash. */
  tornTailBytes: number;
  /** Set when recoverToCheckpoint discarded records; says why. */
  discarded: { reason: string; records: number } | undefined;
}

/** A place the log may be cut back to: right after the snapshot position or a verified checkpoint. */
interface CutPoint extends LogPosition {
  segmentIndex: number;
  offset: number;
  mutationCount: number;
  checkpoint: SignedCheckpoint | undefined;
}

/**
 * Reads the segments after a snapshot and checks everything an attacker on the host could change:
 * authentication of each record, its sequence (no gaps, no reordering), the hash chain, revision
 * order, checkpoint signatures, and that the log reaches the signed marker.
 */
export async function replayLog(input: ReplayInput): Promise<ReplayResult> {
  const replay = new Replay(input);
  try {
    await replay.run();
    replay.checkReachesMarker();
  } catch (error) {
    if (!(error instanceof IntegrityError) || !input.recoverToCheckpoint) throw error;
    return replay.cutBack(error.message);
  }
  return replay.result(undefined);
}

class Replay {
  private readonly keys = new Map<string, SealingKey>();
  private readonly mutations: Mutation[] = [];
  private readonly segments: SegmentInfo[] = [];
  private position: LogPosition;
  private lastGood: CutPoint;
  private latestCheckpoint: SignedCheckpoint | undefined;
  private tornTailBytes = 0;

  constructor(private readonly input: ReplayInput) {
    this.position = input.start;
    this.lastGood = { ...input.start, segmentIndex: 0, offset: SEGMENT_HEADER_BYTES, mutationCount: 0, checkpoint: undefined };
  }

  async run(): Promise<void> {
    const { segments } = this.input;
    for (let index = 0; index < segments.length; index++) {
      await this.replaySegment(index, index === segments.length - 1);
    }
  }

  private async replaySegment(index: number, isLast: boolean): Promise<void> {
    const { number, file } = this.input.segments[index]!;
    const where = `segment ${path.basename(file)}`;
    const bytes = await fs.readFile(file);
    const header = decodeSegmentHeader(bytes);
    if (!header) {
      if (isLast && (bytes.length < SEGMENT_HEADER_BYTES || isAllZero(bytes))) {
        // Created by a run that crashed before the header was durable: it never held a record.
        await this.truncateTail(file, 0, bytes.length, true);
        return;
      }
      throw new IntegrityError(`${where}: bad segment header`);
    }
    if (header.number !== number) {
      throw new IntegrityError(`${where}: header says segment ${header.number}; segment files were renamed`);
    }
    const previous = this.input.segments[index - 1];
    const key = this.keyFor(header.salt);
    const info: SegmentInfo = { number, file, lastSequence: undefined };
    this.segments.push(info);
    let offset = SEGMENT_HEADER_BYTES;
    while (offset < bytes.length) {
      const remaining = bytes.length - offset;
      const sealedLength = remaining >= 4 ? bytes.readUInt32BE(offset) : 0;
      // Incomplete, or zeros: a file extended by the crash whose data blocks never reached the disk.
      const torn =
        remaining < RECORD_HEADER_BYTES ||
        remaining < RECORD_HEADER_BYTES + sealedLength ||
        (sealedLength === 0 && isAllZero(bytes.subarray(offset)));
      if (torn) {
        if (isLast) return this.truncateTail(file, offset, remaining, false);
        throw new IntegrityError(`${where}: ends with a partial record at offset ${offset}, but it is not the last segment`);
      }
      if (sealedLength > MAX_SEALED_BODY_BYTES || sealedLength < 16) {
        throw new IntegrityError(`${where} offset ${offset}: impossible record length ${sealedLength}`);
      }
      const record = readRecordHeader(bytes, offset);
      const frameEnd = offset + RECORD_HEADER_BYTES + sealedLength;
      const at = `${where} offset ${offset}`;
      if (record.sequence > this.input.start.sequence) {
        this.checkSequence(record.sequence, bytes, frameEnd, at, previous && offset === SEGMENT_HEADER_BYTES ? previous.number : undefined, number);
        if (!record.prevHash.equals(this.position.chainHash)) {
          throw new IntegrityError(
            `hash chain broken at sequence ${record.sequence} (${at}): it was not written after the record before it`,
          );
        }
        const frame = bytes.subarray(offset, frameEnd);
        const plaintext = key.open(record.sequence, frame.subarray(0, RECORD_HEADER_BYTES), frame.subarray(RECORD_HEADER_BYTES));
        if (!plaintext) {
          throw new IntegrityError(`record at sequence ${record.sequence} (${at}) fails authentication: its bytes were altered`);
        }
        const checkpoint = this.accept(record.kind, record.sequence, sha256(frame), plaintext, at);
        this.checkAgainstMarker();
        if (checkpoint) {
          const segmentIndex = this.segments.length - 1;
          this.lastGood = { ...this.position, segmentIndex, offset: frameEnd, mutationCount: this.mutations.length, checkpoint };
        }
      } else {
        // Already covered by the snapshot: only walked over. The first record after it must still
        // chain to the snapshot's hash, which pins these bytes too.
        Object.assign(this.lastGood, { segmentIndex: this.segments.length - 1, offset: frameEnd });
      }
      info.lastSequence = record.sequence;
      offset = frameEnd;
    }
  }

  private checkSequence(
    found: number,
    bytes: Buffer,
    nextOffset: number,
    at: string,
    previousSegment: number | undefined,
    segment: number,
  ): void {
    const expected = this.position.sequence + 1;
    if (found === expected) return;
    if (found < expected) {
      throw new IntegrityError(`record at ${at} repeats sequence ${found} (expected ${expected}): records were duplicated or reordered`);
    }
    const next = nextOffset + RECORD_HEADER_BYTES <= bytes.length ? readRecordHeader(bytes, nextOffset).sequence : undefined;
    if (next === expected) {
      throw new IntegrityError(`records ${expected} and ${found} are out of order (swapped) at ${at}`);
    }
    const missingSegments =
      previousSegment !== undefined && segment > previousSegment + 1
        ? `; segment ${previousSegment + 1}${segment > previousSegment + 2 ? `..${segment - 1}` : ''} was deleted`
        : '';
    throw new IntegrityError(
      `records ${expected}..${found - 1} are missing: expected sequence ${expected} but found ${found} at ${at}${missingSegments}`,
    );
  }

  /** Applies one authenticated record; returns it when it is a (verified) checkpoint. */
  private accept(kind: number, sequence: number, hash: Buffer, plaintext: Buffer, at: string): SignedCheckpoint | undefined {
    const before = this.position;
    if (kind === RecordKind.Mutation) {
      const mutation = decodeMutation(plaintext);
      if (!mutation) throw new IntegrityError(`record at sequence ${sequence} (${at}) is not a valid mutation`);
      if (mutation.revision <= before.revision) {
        throw new IntegrityError(
          `revision ${mutation.revision} at sequence ${sequence} (${at}) does not follow revision ${before.revision}`,
        );
      }
      this.mutations.push(mutation);
      this.position = { revision: mutation.revision, sequence, chainHash: hash };
      return undefined;
    }
    if (kind === RecordKind.Checkpoint) {
      const checkpoint = decodeCheckpoint(plaintext);
      if (!checkpoint) throw new IntegrityError(`checkpoint at sequence ${sequence} (${at}) is malformed`);
      if (!checkpointSignatureValid(checkpoint, this.input.publicKey)) {
        throw new IntegrityError(`checkpoint at sequence ${sequence} (${at}): signature does not verify with the server key`);
      }
      if (
        checkpoint.sequence !== before.sequence ||
        checkpoint.revision !== before.revision ||
        !checkpoint.chainHash.equals(before.chainHash)
      ) {
        throw new IntegrityError(
          `checkpoint at sequence ${sequence} (${at}) signs revision ${checkpoint.revision} at sequence ${checkpoint.sequence}, ` +
            `but the log before it is at revision ${before.revision}, sequence ${before.sequence}`,
        );
      }
      this.position = { revision: before.revision, sequence, chainHash: hash };
      this.latestCheckpoint = checkpoint;
      return checkpoint;
    }
    throw new IntegrityError(`record at sequence ${sequence} (${at}) has unknown kind ${kind}`);
  }

  /** The marker's checkpoint must lie on this very chain, not just at the same sequence. */
  private checkAgainstMarker(): void {
    const marked = this.input.marker?.checkpoint;
    if (!marked || marked.sequence !== this.position.sequence) return;
    if (!this.position.chainHash.equals(marked.chainHash)) {
      throw new IntegrityError(
        `the log at sequence ${marked.sequence} is not the log the signed marker was written for: a different history was put in place`,
      );
    }
  }

  checkReachesMarker(): void {
    const marker = this.input.marker;
    if (!marker) return;
    const marked = marker.checkpoint;
    if (marked.sequence === this.input.start.sequence && !marked.chainHash.equals(this.input.start.chainHash)) {
      throw new IntegrityError(`the snapshot's chain hash at sequence ${marked.sequence} differs from the signed marker`);
    }
    if (marked.sequence > this.position.sequence) {
      throw new IntegrityError(
        `rollback detected: the log ends at sequence ${this.position.sequence} (revision ${this.position.revision}) but the signed ` +
          `marker records a durable checkpoint at sequence ${marked.sequence} (revision ${marked.revision}); ` +
          `records or whole segments were removed, or an older copy of the data was put back`,
      );
    }
  }

  private async truncateTail(file: string, offset: number, bytes: number, removeFile: boolean): Promise<void> {
    this.tornTailBytes += bytes;
    if (removeFile) {
      await fs.rm(file);
      await fsyncDir(this.input.walDir);
      return;
    }
    const handle = await fs.open(file, 'r+');
    try {
      await handle.truncate(offset);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** recoverToCheckpoint: keep everything up to the last verified cut point, delete the rest. */
  async cutBack(reason: string): Promise<ReplayResult> {
    const cut = this.lastGood;
    const discarded = this.mutations.length - cut.mutationCount;
    const keptSegments = this.segments.slice(0, cut.segmentIndex + 1);
    for (const segment of this.input.segments.slice(keptSegments.length)) await fs.rm(segment.file, { force: true });
    const cutSegment = keptSegments.at(-1);
    if (cutSegment) {
      const handle = await fs.open(cutSegment.file, 'r+');
      try {
        await handle.truncate(cut.offset);
        await handle.sync();
      } finally {
        await handle.close();
      }
      cutSegment.lastSequence = cut.offset > SEGMENT_HEADER_BYTES ? cut.sequence : undefined;
    }
    await fsyncDir(this.input.walDir);
    this.mutations.length = cut.mutationCount;
    this.segments.splice(0, this.segments.length, ...keptSegments);
    this.position = { revision: cut.revision, sequence: cut.sequence, chainHash: cut.chainHash };
    this.latestCheckpoint = cut.checkpoint;
    return this.result({ reason, records: discarded });
  }

  result(discarded: ReplayResult['discarded']): ReplayResult {
    return {
      mutations: this.mutations,
      end: this.position,
      latestCheckpoint: this.latestCheckpoint,
      segments: this.segments,
      tornTailBytes: this.tornTailBytes,
      discarded,
    };
  }

  private keyFor(salt: Buffer): SealingKey {
    const id = salt.toString('hex');
    let key = this.keys.get(id);
    if (!key) {
      key = new SealingKey(this.input.dataKey, salt, SEGMENT_KEY_PURPOSE);
      this.keys.set(id, key);
    }
    return key;
  }
}
