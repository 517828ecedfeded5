import crypto from 'node:crypto';
import { statfsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type DurableLog, type Mutation, type RecoveredState, type SnapshotEntries, StorageFullError } from '../durable-log.js';
import { DATA_KEY_BYTES, type KeyProvider } from '../keys/key-provider.js';
import { freshSalt, SealingKey } from './aead.js';
import { encodeCheckpoint, GENESIS_POSITION, type LogPosition, signCheckpoint, type SignedCheckpoint } from './checkpoint.js';
import { IntegrityError, WrongKeyError } from './errors.js';
import { fsyncDir, isNoSpace, listNumbered, numberedName, removeTempFiles } from './files.js';
import { dataKeyCheck, MarkerKeeper, type MarkerState, readMarker } from './marker.js';
import { encodeMutation, RecordKind, sealRecord } from './record.js';
import { replayLog } from './replay.js';
import { readSnapshotFile, SNAPSHOT_SUFFIX, writeSnapshotFile } from './snapshot-file.js';
import { log } from '../../server/log.js';
import { type Durability, SEGMENT_KEY_PURPOSE, SEGMENT_SUFFIX, SegmentWriter, type WriterStats } from './segment-writer.js';

export { IntegrityError, WrongKeyError } from './errors.js';
export type { Durability } from './segment-writer.js';

export interface SealedLogOptions {
  /** Data directory; the log lives in dir/wal, snapshots in dir/snapshots, the marker in dir/wal-marker. */
  dir: string;
  keyProvider: KeyProvider;
  /**
   * The server's Ed25519 private key. Checkpoints and the marker are signed with it and verified
   * against its own public key, so it must be the same key on every start (sealed or re-derived),
   * and no public key is read from the untrusted disk. When omitted, one is derived from the data
   * key (HKDF), which is stable wherever the data key is and no weaker than it.
   */
  signingKey?: crypto.KeyObject;
  /** A signed checkpoint record after every this many mutations (default 1000). */
  checkpointEvery?: number;
  /** Start a new segment file once the current one reaches this size (default 64 MiB). */
  segmentBytes?: number;
  /** Operator override: on damage, keep the log up to the last verified checkpoint and drop the rest. */
  recoverToCheckpoint?: boolean;
  /** For benchmarks only; the default, group-commit, is the only durable and fast mode. */
  durability?: Durability;
  /** Told how long each fdatasync of the log took (metrics). */
  onSync?: (seconds: number) => void;
  /** Free bytes the data dir's file system must show before writes are taken again after ENOSPC (default 1 MiB). */
  resumeFreeBytes?: number;
}

export interface RecoveryReport {
  snapshotRevision: number;
  entries: number;
  mutations: number;
  /** Bytes of an incomplete last record that were cut off (a crash in the middle of a write). */
  tornTailBytes: number;
  /** Only with recoverToCheckpoint: what was dropped and why. */
  discarded: { reason: string; records: number } | undefined;
  durationMs: number;
}

export interface SealedLogStats extends WriterStats {
  checkpoints: number;
  snapshots: number;
}

export interface SealedLog extends DurableLog {
  /** Public half of the key that signs checkpoints, snapshots and the marker. */
  readonly checkpointPublicKey: crypto.KeyObject;
  /** What the last recover() found; undefined before it ran. */
  readonly recovery: RecoveryReport | undefined;
  /** The NOSPACE alarm: why writes are refused now (the disk is full), or undefined. */
  readonly noSpaceAlarm: string | undefined;
  readonly durableRevision: number;
  checkWritable(): void;
  stats(): SealedLogStats;
}

const DEFAULT_CHECKPOINT_EVERY = 1000;
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** How many recent revisions a snapshot may name; the store snapshots what it has just appended. */
const SNAPSHOT_POSITION_WINDOW = 10_000;
const DEFAULT_RESUME_FREE_BYTES = 1024 * 1024;
/** While the NOSPACE alarm is raised, free space is looked at this often, and at most this often per write. */
const SPACE_PROBE_EVERY_MS = 1000;
const SPACE_PROBE_MIN_GAP_MS = 50;

export async function createSealedLog(options: SealedLogOptions): Promise<SealedLog> {
  if (options.signingKey && (options.signingKey.type !== 'private' || options.signingKey.asymmetricKeyType !== 'ed25519')) {
    throw new TypeError('wal: signingKey must be an Ed25519 private key');
  }
  const checkpointEvery = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 1) throw new RangeError('wal: checkpointEvery must be a positive integer');
  if (!Number.isInteger(segmentBytes) || segmentBytes < 4096) throw new RangeError('wal: segmentBytes must be at least 4096');
  const dataKey = await options.keyProvider.dataKey();
  if (dataKey.length !== DATA_KEY_BYTES) {
    throw new Error(`wal: key provider ${options.keyProvider.name} returned ${dataKey.length} bytes; a data key has ${DATA_KEY_BYTES}`);
  }
  return new SealedLogImpl({
    dir: options.dir,
    dataKey,
    signingKey: options.signingKey ?? signingKeyFromDataKey(dataKey),
    checkpointEvery,
    segmentBytes,
    recoverToCheckpoint: options.recoverToCheckpoint ?? false,
    durability: options.durability ?? 'group-commit',
    onSync: options.onSync,
    resumeFreeBytes: options.resumeFreeBytes ?? DEFAULT_RESUME_FREE_BYTES,
  });
}

/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function signingKeyFromDataKey(dataKey: Buffer): crypto.KeyObject {
  const seed = Buffer.from(crypto.hkdfSync('sha256', dataKey, Buffer.alloc(0), 'nautilus wal signing v1', 32));
  return crypto.createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

interface Settings {
  dir: string;
  dataKey: Buffer;
  signingKey: crypto.KeyObject;
  checkpointEvery: number;
  segmentBytes: number;
  recoverToCheckpoint: boolean;
  durability: Durability;
  onSync: ((seconds: number) => void) | undefined;
  resumeFreeBytes: number;
}

class SealedLogImpl implements SealedLog {
  recovery: RecoveryReport | undefined;
  private readonly walDir: string;
  private readonly snapshotDir: string;
  private readonly publicKey: crypto.KeyObject;

  get checkpointPublicKey(): crypto.KeyObject {
    return this.publicKey;
  }
  private writer: SegmentWriter | undefined;
  private marker: MarkerKeeper | undefined;
  /**
   * This run's epoch key: a fresh salt per start, so sequence-number nonces never repeat under a
   * key; a new one also after records were dropped for lack of space (their numbers are reused).
   */
  private sealingKey: SealingKey;
  /** Raised on ENOSPC (log, marker or snapshot): why writes are refused. */
  private alarm: { reason: string; since: number } | undefined;
  private alarmProbe: NodeJS.Timeout | undefined;
  private lastProbe = 0;
  /** The end of the log as appended (not necessarily durable yet). */
  private position: LogPosition = GENESIS_POSITION;
  /** Log position of each recently appended revision, for snapshot() to find where it is taken. */
  private readonly recentPositions = new Map<number, LogPosition>();
  private mutationsSinceCheckpoint = 0;
  private snapshotQueue: Promise<void> = Promise.resolve();
  private counters = { checkpoints: 0, snapshots: 0 };
  private closing = false;

  constructor(private readonly settings: Settings) {
    this.walDir = path.join(settings.dir, 'wal');
    this.snapshotDir = path.join(settings.dir, 'snapshots');
    this.publicKey = crypto.createPublicKey(settings.signingKey);
    this.sealingKey = new SealingKey(settings.dataKey, freshSalt(), SEGMENT_KEY_PURPOSE);
  }

  async recover(): Promise<RecoveredState> {
    if (this.writer) throw new Error('wal: recover() was already called');
    const started = performance.now();
    const { dataKey, recoverToCheckpoint } = this.settings;
    await fs.mkdir(this.walDir, { recursive: true, mode: 0o700 });
    await fs.mkdir(this.snapshotDir, { recursive: true, mode: 0o700 });
    const markerFile = path.join(this.settings.dir, 'wal-marker');
    // Leftovers of writes a crash interrupted; the data directory itself is shared, so only ours.
    await fs.rm(`${markerFile}.tmp`, { force: true });
    await removeTempFiles(this.snapshotDir);

    const segments = await listNumbered(this.walDir, SEGMENT_SUFFIX);
    const snapshots = await listNumbered(this.snapshotDir, SNAPSHOT_SUFFIX);
    const marker = await this.readMarkerOrExplain(markerFile, segments.length + snapshots.length > 0);

    const newestSnapshot = snapshots.at(-1);
    if (marker && marker.snapshotRevision > (newestSnapshot?.number ?? 0)) {
      throw new IntegrityError(
        `snapshot rollback: the signed marker records a snapshot at revision ${marker.snapshotRevision}, but the newest ` +
          `snapshot present is ${newestSnapshot ? `at revision ${newestSnapshot.number}` : 'none'}`,
      );
    }
    const snapshot = newestSnapshot && (await readSnapshotFile(newestSnapshot.file, dataKey, this.publicKey));
    if (snapshot && snapshot.checkpoint.revision !== newestSnapshot.number) {
      throw new IntegrityError(
        `snapshot ${path.basename(newestSnapshot.file)} contains revision ${snapshot.checkpoint.revision}: snapshot files were renamed`,
      );
    }
    if (snapshot && marker && marker.snapshotSequence > snapshot.checkpoint.sequence) {
      throw new IntegrityError(
        `snapshot rollback: snapshot at revision ${snapshot.checkpoint.revision} ends at sequence ${snapshot.checkpoint.sequence}, ` +
          `older than the sequence ${marker.snapshotSequence} in the signed marker`,
      );
    }
    const start: LogPosition = snapshot?.checkpoint ?? GENESIS_POSITION;
    const replay = await replayLog({
      walDir: this.walDir,
      segments,
      dataKey,
      publicKey: this.publicKey,
      start,
      marker,
      recoverToCheckpoint,
    });

    const startCheckpoint: SignedCheckpoint = snapshot?.checkpoint ?? signCheckpoint(GENESIS_POSITION, this.settings.signingKey);
    const recoveredState: MarkerState = {
      checkpoint: replay.latestCheckpoint ?? startCheckpoint,
      snapshotRevision: start.revision,
      snapshotSequence: start.sequence,
    };
    this.marker = new MarkerKeeper(markerFile, dataKeyCheck(dataKey), this.settings.signingKey, marker ?? recoveredState);
    // A fresh directory gets its marker before its first segment exists; an operator-approved cut
    // moves the marker back to the point recovery kept.
    if (!marker || replay.discarded) await this.marker.replace(recoveredState);

    this.position = replay.end;
    this.recentPositions.set(replay.end.revision, replay.end);
    this.writer = await SegmentWriter.open({
      walDir: this.walDir,
      salt: this.sealingKey.salt,
      segmentBytes: this.settings.segmentBytes,
      durability: this.settings.durability,
      existing: replay.segments,
      durable: replay.end,
      onCheckpointDurable: (checkpoint) => this.marker!.advance({ checkpoint }),
      onSync: this.settings.onSync,
      onRecordsDropped: (durable, cause) => {
        // Everything sealed after `durable` is gone: the next append follows `durable` again.
        this.position = durable;
        for (const revision of [...this.recentPositions.keys()]) if (revision > durable.revision) this.recentPositions.delete(revision);
        this.raiseNoSpace(cause);
        return this.storageFull();
      },
    });
    await this.writer.removeSegmentsCoveredBy(start.sequence);
    await this.removeSnapshotsBefore(start.revision);

    this.recovery = {
      snapshotRevision: start.revision,
      entries: snapshot?.entries.length ?? 0,
      mutations: replay.mutations.length,
      tornTailBytes: replay.tornTailBytes,
      discarded: replay.discarded,
      durationMs: performance.now() - started,
    };
    return { snapshotRevision: start.revision, entries: snapshot?.entries ?? [], mutations: replay.mutations };
  }

  get noSpaceAlarm(): string | undefined {
    return this.alarm?.reason;
  }

  get durableRevision(): number {
    return this.writer?.durable.revision ?? this.position.revision;
  }

  /**
   * Throws StorageFullError while the NOSPACE alarm is raised and the file system still shows
   * too little free space (one statfs, at most every SPACE_PROBE_MIN_GAP_MS); clears it otherwise.
   */
  checkWritable(): void {
    if (this.alarm && !this.probeSpace(false)) throw this.storageFull();
  }

  private storageFull(): StorageFullError {
    return new StorageFullError(
      `database space exceeded: the disk of the data dir ${this.settings.dir} is full (${this.alarm?.reason}); ` +
        'writes are refused until space is freed; reads and watches go on',
    );
  }

  append(mutation: Mutation): Promise<void> {
    const writer = this.writer;
    if (!writer) return Promise.reject(new Error('wal: recover() must complete before append()'));
    if (this.closing) return Promise.reject(new Error('wal: log is closed'));
    try {
      this.checkWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    if (!(mutation.revision > this.position.revision)) {
      return Promise.reject(new Error(`wal: revision ${mutation.revision} does not follow revision ${this.position.revision}`));
    }
    let plaintext: Uint8Array[];
    try {
      plaintext = encodeMutation(mutation);
    } catch (error) {
      return Promise.reject(error);
    }
    const sequence = this.position.sequence + 1;
    const sealed = sealRecord(this.sealingKey, RecordKind.Mutation, sequence, this.position.chainHash, plaintext);
    this.position = { revision: mutation.revision, sequence, chainHash: sealed.hash };
    this.rememberPosition(this.position);
    const durable = writer.write(sealed.frame, this.position);
    if (++this.mutationsSinceCheckpoint >= this.settings.checkpointEvery) {
      // A failure surfaces through the appends around it; this promise needs no other listener.
      this.appendCheckpoint(writer).catch(() => undefined);
    }
    return durable;
  }

  snapshot(revision: number, entries: SnapshotEntries): Promise<void> {
    const position = this.recentPositions.get(revision);
    if (!this.writer) return Promise.reject(new Error('wal: recover() must complete before snapshot()'));
    if (this.closing) return Promise.reject(new Error('wal: log is closed'));
    try {
      // Its checkpoint record is a write like any other: not while the disk is full.
      this.checkWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    if (!position) {
      return Promise.reject(
        new Error(`wal: snapshot at revision ${revision}: that revision is not among the recently appended ones (newest ${this.position.revision})`),
      );
    }
    const run = this.snapshotQueue.then(() => this.writeSnapshot(this.writer!, position, entries)).catch((error: Error) => {
      // A snapshot that found the disk full raises the alarm as a log write does; it is retried later.
      if (isNoSpace(error)) this.raiseNoSpace(`snapshot: ${error.message}`);
      throw error;
    });
    this.snapshotQueue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.alarmProbe);
    await this.snapshotQueue;
    await this.writer?.close();
  }

  stats(): SealedLogStats {
    const writer = this.writer?.stats ?? { records: 0, batches: 0, syncs: 0, bytes: 0 };
    return { ...writer, ...this.counters };
  }

  private appendCheckpoint(writer: SegmentWriter): Promise<void> {
    const checkpoint = signCheckpoint(this.position, this.settings.signingKey);
    const sequence = this.position.sequence + 1;
    const sealed = sealRecord(this.sealingKey, RecordKind.Checkpoint, sequence, this.position.chainHash, [encodeCheckpoint(checkpoint)]);
    this.position = { revision: this.position.revision, sequence, chainHash: sealed.hash };
    this.mutationsSinceCheckpoint = 0;
    this.counters.checkpoints++;
    return writer.write(sealed.frame, this.position, checkpoint);
  }

  private raiseNoSpace(reason: string): void {
    if (!this.alarm) log.warn('NOSPACE alarm raised: refusing writes until space is freed', { dir: this.settings.dir, reason });
    this.alarm = { reason, since: Date.now() };
    this.alarmProbe ??= setInterval(() => this.probeSpace(true), SPACE_PROBE_EVERY_MS).unref();
  }

  /** Looks at the free space (statfs); with enough, clears the alarm. True when it is clear. */
  private probeSpace(periodic: boolean): boolean {
    if (!this.alarm) return true;
    const now = Date.now();
    if (!periodic && now - this.lastProbe < SPACE_PROBE_MIN_GAP_MS) return false;
    this.lastProbe = now;
    let free: number;
    try {
      const stats = statfsSync(this.settings.dir);
      free = stats.bavail * stats.bsize;
    } catch {
      return false;
    }
    if (free < this.settings.resumeFreeBytes) return false;
    log.info('NOSPACE alarm cleared: taking writes again', { dir: this.settings.dir, freeBytes: free, seconds: (now - this.alarm.since) / 1000 });
    this.alarm = undefined;
    clearInterval(this.alarmProbe);
    this.alarmProbe = undefined;
    if (this.writer?.needsNewKey) {
      this.sealingKey = new SealingKey(this.settings.dataKey, freshSalt(), SEGMENT_KEY_PURPOSE);
      this.writer.resumeWith(this.sealingKey.salt);
    }
    return true;
  }

  private async writeSnapshot(writer: SegmentWriter, position: LogPosition, entries: SnapshotEntries): Promise<void> {
    // The checkpoint's durability implies every record up to `position` is durable, so a snapshot
    // never gets ahead of its own log.
    await this.appendCheckpoint(writer);
    const checkpoint = signCheckpoint(position, this.settings.signingKey);
    await writeSnapshotFile(numberedName(this.snapshotDir, position.revision, SNAPSHOT_SUFFIX), this.settings.dataKey, checkpoint, entries);
    await this.marker!.advance({ checkpoint, snapshotRevision: position.revision, snapshotSequence: position.sequence });
    this.counters.snapshots++;
    await writer.removeSegmentsCoveredBy(position.sequence);
    await this.removeSnapshotsBefore(position.revision);
    for (const revision of this.recentPositions.keys()) {
      if (revision >= position.revision) break;
      this.recentPositions.delete(revision);
    }
  }

  private rememberPosition(position: LogPosition): void {
    this.recentPositions.set(position.revision, position);
    if (this.recentPositions.size > SNAPSHOT_POSITION_WINDOW) {
      this.recentPositions.delete(this.recentPositions.keys().next().value!);
    }
  }

  private async removeSnapshotsBefore(revision: number): Promise<void> {
    const older = (await listNumbered(this.snapshotDir, SNAPSHOT_SUFFIX)).filter((snapshot) => snapshot.number < revision);
    for (const snapshot of older) await fs.rm(snapshot.file, { force: true });
    if (older.length > 0) await fsyncDir(this.snapshotDir);
  }

  private async readMarkerOrExplain(file: string, hasData: boolean): Promise<MarkerState | undefined> {
    let marker: MarkerState | undefined;
    try {
      marker = await readMarker(file, this.settings.dataKey, this.publicKey);
    } catch (error) {
      if (error instanceof WrongKeyError || !(error instanceof IntegrityError) || !this.settings.recoverToCheckpoint) throw error;
      return undefined;
    }
    if (!marker && hasData && !this.settings.recoverToCheckpoint) {
      throw new IntegrityError(
        `the signed marker ${file} is missing although the data directory holds a log or snapshots; ` +
          'without it a rollback to older data cannot be ruled out',
      );
    }
    return marker;
  }
}
