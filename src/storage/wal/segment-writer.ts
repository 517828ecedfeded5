import fs from 'node:fs/promises';
import type { StorageFullError } from '../durable-log.js';
import { SALT_BYTES } from './aead.js';
import { readU64, writeU64 } from './bytes.js';
import type { LogPosition, SignedCheckpoint } from './checkpoint.js';
import { fsyncDir, isNoSpace, numberedName, ShortWriteError } from './files.js';

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
  /** The log's position right after this record. */
  position: LogPosition;
  checkpoint: SignedCheckpoint | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Appends sealed frames to the current segment with group commit. After a write or sync error
 * nothing more is accepted: once fdatasync has failed the kernel may have dropped dirty pages, so
 * continuing could acknowledge records that are not on disk.
 *
 * Running out of space (ENOSPC, EDQUOT, a short write) is the exception: the segment is cut back
 * to its last durable byte and closed, every record after the last durable one is rejected (none
 * was acknowledged), and `onRecordsDropped` tells the log. Those records' sequence numbers were
 * used under this epoch's key, so the next write opens a new segment under the salt given to
 * `resumeWith` (a new key): no nonce is used twice, and the log stays one unbroken chain.
 */
export class SegmentWriter {
  readonly stats: WriterStats = { records: 0, batches: 0, syncs: 0, bytes: 0 };
  private pending: PendingRecord[] = [];
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;
  /** The open segment; undefined after running out of space, until the next batch opens one. */
  private handle: fs.FileHandle | undefined;
  /** Set when records were dropped: nothing is written until resumeWith() gives a new salt. */
  private staleSalt = false;

  private constructor(
    private readonly walDir: string,
    private salt: Buffer,
    private readonly segmentBytes: number,
    private readonly durability: Durability,
    /** Called after a batch holding a checkpoint is durable, before the next batch is written. */
    private readonly onCheckpointDurable: (checkpoint: SignedCheckpoint) => Promise<void>,
    readonly segments: SegmentInfo[],
    handle: fs.FileHandle,
    private size: number,
    private readonly onSync: ((seconds: number) => void) | undefined,
    private readonly onRecordsDropped: (durable: LogPosition, cause: string) => StorageFullError,
    /** The newest durable record's position. */
    private durablePosition: LogPosition,
  ) {
    this.handle = handle;
  }

  get durable(): LogPosition {
    return this.durablePosition;
  }

  /** True after records were dropped for lack of space: the next segment needs a new salt. */
  get needsNewKey(): boolean {
    return this.staleSalt;
  }

  /** The salt (epoch key) of the segment the next write opens, after records were dropped. */
  resumeWith(salt: Buffer): void {
    if (!this.staleSalt) throw new Error('wal: resumeWith() is only for a writer that dropped records');
    this.salt = salt;
    this.staleSalt = false;
  }

  /** Opens a new segment after `existing` (a writer never appends to a previous epoch's file). */
  static async open(options: {
    walDir: string;
    salt: Buffer;
    segmentBytes: number;
    durability: Durability;
    existing: SegmentInfo[];
    /** Where the log ends now (what replay found). */
    durable: LogPosition;
    onCheckpointDurable: (checkpoint: SignedCheckpoint) => Promise<void>;
    /**
     * Told, synchronously and before the appends are rejected, that records after `durable` were
     * dropped for lack of space; answers the error they are rejected with.
     */
    onRecordsDropped: (durable: LogPosition, cause: string) => StorageFullError;
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
      options.onRecordsDropped,
      options.durable,
    );
  }

  write(frame: Buffer, position: LogPosition, checkpoint?: SignedCheckpoint): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('wal: log is closed'));
    // Sealed under the key whose sequence numbers the dropped records used: never written. (While
    // the batch that ran out of space is being cut back, a record queued now is dropped with it.)
    if (this.staleSalt && !this.flushing) return Promise.reject(new Error('wal: records were dropped for lack of space; the log resumes under a new key first'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ frame, position, checkpoint, resolve, reject });
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
    await this.handle?.close();
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0 && !this.failure) {
      const batch = this.durability === 'fsync-each' ? this.pending.splice(0, 1) : this.pending.splice(0);
      try {
        if (!this.handle) await this.openNextSegment();
        await this.writeBatch(batch);
      } catch (error) {
        if (isNoSpace(error) && (await this.cutBackToDurable(error as Error))) {
          const dropped = [...batch, ...this.pending.splice(0)];
          const full = this.onRecordsDropped(this.durablePosition, `the log in ${this.walDir}: ${(error as Error).message}`);
          // Those of the batch already acknowledged are settled; rejecting them does nothing.
          for (const record of dropped) record.reject(full);
          continue;
        }
        this.failure = new Error(`wal: write to ${this.current?.file ?? this.walDir} failed, log stopped: ${(error as Error).message}`);
        for (const record of [...batch, ...this.pending.splice(0)]) record.reject(this.failure);
        break;
      }
    }
    this.flushing = undefined;
  }

  /**
   * After running out of space: truncates the segment to its last durable byte (a partial record
   * must not stay behind later records) and closes it, or removes it if it holds no record.
   * False when even that fails: then the log stops.
   */
  private async cutBackToDurable(cause: Error): Promise<boolean> {
    const handle = this.handle;
    this.handle = undefined;
    this.staleSalt = true;
    if (!handle) return true; // opening the next segment failed; createSegment removed it
    try {
      if (this.current.lastSequence === undefined) {
        await handle.close();
        await fs.rm(this.current.file, { force: true });
        this.segments.pop();
        await fsyncDir(this.walDir);
      } else {
        await handle.truncate(this.size);
        await handle.datasync();
        await handle.close();
      }
      return true;
    } catch (error) {
      cause.message += `; cutting the segment back failed too: ${(error as Error).message}`;
      await handle.close().catch(() => undefined);
      return false;
    }
  }

  private async openNextSegment(): Promise<void> {
    const { handle, info } = await createSegment(this.walDir, (this.segments.at(-1)?.number ?? 0) + 1, this.salt);
    this.handle = handle;
    this.size = SEGMENT_HEADER_BYTES;
    this.segments.push(info);
  }

  private async writeBatch(batch: PendingRecord[]): Promise<void> {
    const handle = this.handle!;
    const bytes = Buffer.concat(batch.map((record) => record.frame));
    const { bytesWritten } = await handle.write(bytes, 0, bytes.length, this.size);
    if (bytesWritten !== bytes.length) throw new ShortWriteError(bytesWritten, bytes.length);
    if (this.durability !== 'none') {
      const started = process.hrtime.bigint();
      await handle.datasync();
      this.onSync?.(Number(process.hrtime.bigint() - started) / 1e9);
      this.stats.syncs++;
    }
    this.size += bytes.length;
    this.current.lastSequence = batch.at(-1)!.position.sequence;
    this.durablePosition = batch.at(-1)!.position;
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
    const previous = this.handle!;
    await this.openNextSegment();
    await previous.close();
  }
}

async function createSegment(
  walDir: string,
  number: number,
  salt: Buffer,
): Promise<{ handle: fs.FileHandle; info: SegmentInfo }> {
  const file = numberedName(walDir, number, SEGMENT_SUFFIX);
  const handle = await fs.open(file, 'wx', 0o600);
  try {
    const { bytesWritten } = await handle.write(encodeSegmentHeader(number, salt), 0, SEGMENT_HEADER_BYTES, 0);
    if (bytesWritten !== SEGMENT_HEADER_BYTES) throw new ShortWriteError(bytesWritten, SEGMENT_HEADER_BYTES);
    await handle.sync();
    await fsyncDir(walDir);
  } catch (error) {
    // A segment without its header must not stay behind: the next one would follow it.
    await handle.close().catch(() => undefined);
    await fs.rm(file, { force: true });
    throw error;
  }
  return { handle, info: { number, file, lastSequence: undefined } };
}

function newestCheckpoint(batch: PendingRecord[]): SignedCheckpoint | undefined {
  for (let i = batch.length - 1; i >= 0; i--) if (batch[i]!.checkpoint) return batch[i]!.checkpoint;
  return undefined;
}
