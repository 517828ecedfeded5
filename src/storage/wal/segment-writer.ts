import fs from 'node:fs/promises';
import { SALT_BYTES } from './aead.js';
import { readU64, writeU64 } from './bytes.js';
import type { SignedCheckpoint } from './checkpoint.js';
import { fsyncDir, numberedName } from './files.js';

export const SEGMENT_SUFFIX = '.seg';
/** HKDF purpose of the per-epoch key that seals segment records. */
export const SEGMENT_KEY_PURPOSE = 'wal segment';
const SEGMENT_MAGIC = Buffer.from('NWALSEG1');
/** magic | u64 segment number | salt of the writer epoch that sealed the records in it */
export const SEGMENT_HEADER_BYTES = SEGMENT_MAGIC.length + 8 + SALT_BYTES;

export function encodeSegmentHeader(number: number, salt: Buffer): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(header, 0);
  writeU64(header, 8, number);
  salt.copy(header, 16);
  return header;
}

export function decodeSegmentHeader(bytes: Buffer): { number: number; salt: Buffer } | undefined {
  if (bytes.length < SEGMENT_HEADER_BYTES || !bytes.subarray(0, 8).equals(SEGMENT_MAGIC)) return undefined;
  return { number: readU64(bytes, 8), salt: Buffer.from(bytes.subarray(16, SEGMENT_HEADER_BYTES)) };
}

/**
 * group-commit: everything appended while the previous write+fdatasync ran goes out in one batch.
 * fsync-each and none exist so the benchmark can show what group commit buys; none is not durable.
 */
export type Durability = 'group-commit' | 'fsync-each' | 'none';

export interface SegmentInfo {
  number: number;
  file: string;
  /** Sequence of the newest record in it; undefined while it holds none. */
  lastSequence: number | undefined;
}

export interface WriterStats {
  records: number;
  batches: number;
  syncs: number;
  bytes: number;
}

interface PendingRecord {
  frame: Buffer;
  sequence: number;
  checkpoint: SignedCheckpoint | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Appends sealed frames to the current segment with group commit. After a write or sync error
 * nothing more is accepted: once fdatasync has failed the kernel may have dropped dirty pages, so
 * continuing could acknowledge records that are not on disk.
 */
export class SegmentWriter {
  readonly stats: WriterStats = { records: 0, batches: 0, syncs: 0, bytes: 0 };
  private pending: PendingRecord[] = [];
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    private readonly walDir: string,
    private readonly salt: Buffer,
    private readonly segmentBytes: number,
    private readonly durability: Durability,
    /** Called after a batch holding a checkpoint is durable, before the next batch is written. */
    private readonly onCheckpointDurable: (checkpoint: SignedCheckpoint) => Promise<void>,
    readonly segments: SegmentInfo[],
    private handle: fs.FileHandle,
    private size: number,
    private readonly onSync: ((seconds: number) => void) | undefined,
  ) {}

  /** Opens a new segment after `existing` (a writer never appends to a previous epoch's file). */
  static async open(options: {
    walDir: string;
    salt: Buffer;
    segmentBytes: number;
    durability: Durability;
    existing: SegmentInfo[];
    onCheckpointDurable: (checkpoint: SignedCheckpoint) => Promise<void>;
    /** Told how long each fdatasync took (the fsync-duration metric). */
    onSync?: (seconds: number) => void;
  }): Promise<SegmentWriter> {
    const number = (options.existing.at(-1)?.number ?? 0) + 1;
    const { handle, info } = await createSegment(options.walDir, number, options.salt);
    return new SegmentWriter(
      options.walDir,
      options.salt,
      options.segmentBytes,
      options.durability,
      options.onCheckpointDurable,
      [...options.existing, info],
      handle,
      SEGMENT_HEADER_BYTES,
      options.onSync,
    );
  }

  write(frame: Buffer, sequence: number, checkpoint?: SignedCheckpoint): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('wal: log is closed'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ frame, sequence, checkpoint, resolve, reject });
      // setImmediate, not nextTick: appends arriving from other I/O callbacks of this loop
      // iteration still join the batch.
      if (!this.flushing) this.flushing = new Promise((done) => setImmediate(() => this.flushLoop().then(done)));
    });
  }

  /** Deletes the oldest segments whose records all precede `sequence`; never the current one. */
  async removeSegmentsCoveredBy(sequence: number): Promise<void> {
    let removed = 0;
    while (removed < this.segments.length - 1) {
      const last = this.segments[removed]!.lastSequence;
      if (last !== undefined && last > sequence) break;
      await fs.rm(this.segments[removed]!.file, { force: true });
      removed++;
    }
    if (removed === 0) return;
    this.segments.splice(0, removed);
    await fsyncDir(this.walDir);
  }

  /** Refuses new writes, lets the queued ones finish, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
    await this.handle.close();
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0 && !this.failure) {
      const batch = this.durability === 'fsync-each' ? this.pending.splice(0, 1) : this.pending.splice(0);
      try {
        await this.writeBatch(batch);
      } catch (error) {
        this.failure = new Error(`wal: write to ${this.current.file} failed, log stopped: ${(error as Error).message}`);
        for (const record of [...batch, ...this.pending.splice(0)]) record.reject(this.failure);
        break;
      }
    }
    this.flushing = undefined;
  }

  private async writeBatch(batch: PendingRecord[]): Promise<void> {
    const bytes = Buffer.concat(batch.map((record) => record.frame));
    const { bytesWritten } = await this.handle.write(bytes, 0, bytes.length, this.size);
    if (bytesWritten !== bytes.length) throw new Error(`short write (${bytesWritten} of ${bytes.length} bytes)`);
    if (this.durability !== 'none') {
      const started = process.hrtime.bigint();
      await this.handle.datasync();
      this.onSync?.(Number(process.hrtime.bigint() - started) / 1e9);
      this.stats.syncs++;
    }
    this.size += bytes.length;
    this.current.lastSequence = batch.at(-1)!.sequence;
    this.stats.records += batch.length;
    this.stats.batches++;
    this.stats.bytes += bytes.length;
    for (const record of batch) record.resolve();
    const checkpoint = newestCheckpoint(batch);
    if (checkpoint) await this.onCheckpointDurable(checkpoint);
    if (this.size >= this.segmentBytes) await this.rotate();
  }

  private get current(): SegmentInfo {
    return this.segments.at(-1)!;
  }

  private async rotate(): Promise<void> {
    const { handle, info } = await createSegment(this.walDir, this.current.number + 1, this.salt);
    await this.handle.close();
    this.handle = handle;
    this.size = SEGMENT_HEADER_BYTES;
    this.segments.push(info);
  }
}

async function createSegment(
  walDir: string,
  number: number,
  salt: Buffer,
): Promise<{ handle: fs.FileHandle; info: SegmentInfo }> {
  const file = numberedName(walDir, number, SEGMENT_SUFFIX);
  const handle = await fs.open(file, 'wx', 0o600);
  await handle.write(encodeSegmentHeader(number, salt), 0, SEGMENT_HEADER_BYTES, 0);
  await handle.sync();
  await fsyncDir(walDir);
  return { handle, info: { number, file, lastSequence: undefined } };
}

function newestCheckpoint(batch: PendingRecord[]): SignedCheckpoint | undefined {
  for (let i = batch.length - 1; i >= 0; i--) if (batch[i]!.checkpoint) return batch[i]!.checkpoint;
  return undefined;
}
