/**
 * The store's DurableLog on etcd: a log of sealed records, one per Nautilus revision, that every
 * replica reads and only the leader appends to.
 *
 * Revisions are Nautilus's own, carried inside the sealed records (not etcd's revisions): the
 * leader assigns them as the local store always has (applied in memory, acknowledged once
 * durable), a follower applies each record with the revision it carries, and a new leader first
 * reads the log to its head and continues from there. The fenced transaction (fencing.ts) makes
 * the record for a revision unique — whoever writes log/N must have seen log/N-1 as the head —
 * so revisions never repeat or go backwards across replicas and failovers.
 *
 * Group commit as in the local WAL: appends queue, one transaction at a time takes everything
 * queued (up to etcd's limits) and resolves the whole batch when etcd has committed it. When a
 * transaction fails, every write not yet acknowledged is forgotten (the store rewinds to the last
 * acknowledged revision) and refused with a retriable error; when its outcome is unknown the
 * replica re-reads the log from etcd, which then shows the write or not — never acknowledged and
 * lost.
 *
 * Compaction: snapshot() stores the whole state as sealed chunks (the snapshot file format) and,
 * in one fenced transaction, makes it current and deletes the records it covers; etcd's history
 * is then compacted to the previous snapshot, so etcd holds about one snapshot interval of log,
 * as the local log does.
 */
import crypto from 'node:crypto';
import type { Etcd3, IKeyValue, IRequestOp, IWatchResponse } from 'etcd3';
import { WriteUnavailableError, type DurableLog, type Mutation, type RecoveredState, type SnapshotEntries, type SnapshotEntry } from '../durable-log.js';
import { GENESIS_POSITION, signCheckpoint, type LogPosition } from '../wal/checkpoint.js';
import { IntegrityError, WrongKeyError } from '../wal/errors.js';
import { signingKeyFromDataKey } from '../wal/index.js';
import { readSnapshotBytes, snapshotBytes } from '../wal/snapshot-file.js';
import { deleteRange, fencedTxn, leaderGuard, put, refusalReason, type Term } from './fencing.js';
import type { EtcdLayout } from './layout.js';
import { decodeHead, decodeManifest, encodeHead, encodeManifest, keyCheckValue, openLogRecord, sealLogBatch, type SnapshotManifest } from './records.js';
import { log } from '../../server/log.js';

export interface EtcdLogOptions {
  client: Etcd3;
  layout: EtcdLayout;
  dataKey: Buffer;
  /** Applies records other replicas committed (follower replication, a new leader's catch-up). */
  onCommitted: (mutations: Mutation[]) => void;
  /** Forgets every write after `revision`, synchronously, before their appends are refused. */
  rewind: (revision: number) => void;
  /** A fenced transaction was refused or its outcome is unknown: this replica no longer leads. */
  onLeadershipLost: (reason: string) => void;
  /** Records per transaction (etcd's --max-txn-ops is 128 by default; one op is the head). */
  maxBatchRecords?: number;
  /** Bytes of records per transaction (etcd's --max-request-bytes is 1.5 MiB by default). */
  maxBatchBytes?: number;
}

interface PendingAppend {
  kind: 'append';
  mutation: Mutation;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface PendingSnapshot {
  kind: 'snapshot';
  manifest: SnapshotManifest;
  resolve: () => void;
  reject: (error: Error) => void;
}

type Pending = PendingAppend | PendingSnapshot;

interface ActiveTerm {
  term: Term;
  /** Mod revision the head has after this replica's last transaction. */
  expectedHead: number;
}

const NOT_LEADER = 'this replica is not the leader; writes go to the leader (retry)';
/** Snapshot bytes per etcd value, well under etcd's request limit. */
const SNAPSHOT_PART_BYTES = 512 * 1024;
const PAGE_RECORDS = 256;
const PAGE_SNAPSHOT_PARTS = 8;
/** Chain hashes kept for snapshot() to find the position of a recently acknowledged revision. */
const RECENT_HASHES = 20_000;

export class EtcdLog implements DurableLog {
  /** The newest record the store holds as acknowledged. */
  private position: LogPosition = GENESIS_POSITION;
  /** The etcd revision the store's state reflects (a follower waits on it for consistent reads). */
  private etcdRevision = 0;
  private active: ActiveTerm | undefined;
  private readonly queue: Pending[] = [];
  private inflight: PendingAppend[] = [];
  private flushing = false;
  private flushScheduled = false;
  private readonly recentHashes = new Map<number, Buffer>();
  private currentSnapshot: { id: string; commitRevision: number } | undefined;
  private readonly revisionWaiters = new Set<{ etcd: boolean; revision: number; resolve: () => void; reject: (error: Error) => void }>();
  private readonly signingKey: crypto.KeyObject;
  private readonly publicKey: crypto.KeyObject;
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  private closed = false;
  readonly stats = { transactions: 0, records: 0, refused: 0, snapshots: 0 };

  constructor(private readonly options: EtcdLogOptions) {
    this.signingKey = signingKeyFromDataKey(options.dataKey);
    this.publicKey = crypto.createPublicKey(this.signingKey);
    this.maxBatchRecords = options.maxBatchRecords ?? 120;
    this.maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
  }

  get durableRevision(): number {
    return this.position.revision;
  }

  /** The etcd revision this replica's state is known to reflect. */
  get appliedEtcdRevision(): number {
    return this.etcdRevision;
  }

  get leading(): boolean {
    return this.active !== undefined;
  }

  /** Public half of the key that signs the head and snapshot checkpoints (derived from the data key). */
  get checkpointPublicKey(): crypto.KeyObject {
    return this.publicKey;
  }

  checkWritable(): void {
    if (!this.active) throw new WriteUnavailableError(NOT_LEADER, 'no');
  }

  async recover(): Promise<RecoveredState> {
    await this.checkDataKey();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.load();
      } catch (error) {
        // A snapshot committed (and history compacted) while we read: read again.
        if (attempt < 5 && /compacted/i.test((error as Error).message)) continue;
        throw error;
      }
    }
  }

  append(mutation: Mutation): Promise<void> {
    if (!this.active) return Promise.reject(new WriteUnavailableError(NOT_LEADER, 'no'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'append', mutation, resolve, reject });
      this.scheduleFlush();
    });
  }

  async snapshot(revision: number, entries: SnapshotEntries): Promise<void> {
    const active = this.active;
    if (!active) return;
    await this.waitFor(revision, false);
    const chainHash = revision === this.position.revision ? this.position.chainHash : this.recentHashes.get(revision);
    if (!chainHash) throw new Error(`etcd: snapshot at revision ${revision}: that revision is not among the recently written ones`);
    const checkpoint = signCheckpoint({ revision, sequence: revision, chainHash }, this.signingKey);
    const id = crypto.randomBytes(8).toString('hex');
    let part = 0;
    for (const bytes of partsOf(snapshotBytes(this.options.dataKey, checkpoint, entries), SNAPSHOT_PART_BYTES)) {
      if (this.active !== active) throw new WriteUnavailableError('etcd: snapshot abandoned: leadership was lost', 'no');
      // Parts are unreferenced until the manifest names them, so only leadership guards them.
      const response = await this.options.client.kv.txn({ compare: leaderGuard(this.options.layout, active.term), success: [put(this.options.layout.snapshotChunk(id, part++), bytes)] });
      if (!response.succeeded) throw new WriteUnavailableError('etcd: snapshot abandoned: leadership was lost', 'no');
    }
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'snapshot', manifest: { id, chunks: part, revision }, resolve, reject });
      this.scheduleFlush();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.endTerm('the server is shutting down', 'unknown');
  }

  // ---- replication (driven by the replica) ----

  /** Applies a watch response of the prefix: the records other replicas committed, in order. */
  applyWatchResponse(response: IWatchResponse): void {
    const mutations: Mutation[] = [];
    let etcdRevision = this.etcdRevision;
    for (const event of response.events) {
      const kv = event.kv;
      etcdRevision = Math.max(etcdRevision, Number(kv.mod_revision));
      if (event.type !== 'Put') continue;
      if (kv.key.equals(this.options.layout.snapshot)) {
        this.currentSnapshot = { id: decodeManifest(kv.value).id, commitRevision: Number(kv.mod_revision) };
        continue;
      }
      const mutation = this.openNext(kv);
      if (mutation) mutations.push(mutation);
    }
    if (mutations.length > 0) this.options.onCommitted(mutations);
    this.etcdRevision = etcdRevision;
    this.wakeWaiters();
  }

  /**
   * Becomes the writer for `term`: reads the log to its head in one linearizable read (nobody else
   * can append any more: the leader key is ours), applies what this replica had not seen yet, and
   * takes the head's mod revision as the expected revision of the first write.
   */
  async beginTerm(term: Term): Promise<void> {
    const { client, layout } = this.options;
    const read = await client.kv.txn({
      success: [
        { request_range: { key: layout.leader } },
        { request_range: { key: layout.head } },
        { request_range: { key: layout.snapshot } },
        { request_range: { key: layout.logRange(this.position.revision + 1)[0], range_end: layout.logRange(0)[1], limit: PAGE_RECORDS } },
      ],
    });
    const atRevision = Number(read.header.revision);
    const [leaderRange, headRange, snapshotRange, logRange] = read.responses.map((r) => r.response_range!);
    const leader = leaderRange.kvs[0];
    if (!leader || Number(leader.create_revision) !== term.createRevision || leader.lease !== term.leaseId) {
      throw new WriteUnavailableError('etcd: lost the leadership while reading the log', 'no');
    }
    const snapshot = snapshotRange.kvs[0];
    if (snapshot) this.currentSnapshot = { id: decodeManifest(snapshot.value).id, commitRevision: Number(snapshot.mod_revision) };
    const mutations: Mutation[] = [];
    let page = logRange;
    for (;;) {
      for (const kv of page.kvs) {
        const mutation = this.openNext(kv);
        if (mutation) mutations.push(mutation);
      }
      if (!page.more) break;
      page = await client.kv.range({ key: layout.log(this.position.revision + 1), range_end: layout.logRange(0)[1], limit: PAGE_RECORDS, revision: String(atRevision) });
    }
    if (mutations.length > 0) this.options.onCommitted(mutations);
    const head = headRange.kvs[0];
    if (head) this.checkHead(head);
    this.etcdRevision = Math.max(this.etcdRevision, atRevision);
    this.active = { term, expectedHead: head ? Number(head.mod_revision) : 0 };
    this.wakeWaiters();
  }

  /**
   * Stops writing: forgets and refuses every write not acknowledged yet. `inflight` says whether
   * the transaction under way may still have applied.
   */
  endTerm(reason: string, inflight: 'no' | 'unknown'): void {
    if (!this.active && this.queue.length === 0 && this.inflight.length === 0) return;
    this.active = undefined;
    this.options.rewind(this.position.revision);
    const message = `the write was not completed: ${reason}; retry`;
    for (const pending of this.inflight.splice(0)) pending.reject(new WriteUnavailableError(message, inflight));
    for (const pending of this.queue.splice(0)) pending.reject(new WriteUnavailableError(message, 'no'));
    for (const waiter of [...this.revisionWaiters]) if (!waiter.etcd) {
      this.revisionWaiters.delete(waiter);
      waiter.reject(new WriteUnavailableError(message, 'no'));
    }
  }

  /** Resolves once this replica has applied everything etcd held at `etcdRevision` (or rejects after `timeoutMs`). */
  waitForEtcdRevision(etcdRevision: number, timeoutMs: number): Promise<boolean> {
    return this.waitWithTimeout(etcdRevision, true, timeoutMs);
  }

  /** Resolves true once this replica holds revision `revision` (false after `timeoutMs`). */
  waitForRevision(revision: number, timeoutMs: number): Promise<boolean> {
    return this.waitWithTimeout(revision, false, timeoutMs);
  }

  /** The head's mod revision now, by a linearizable read: what a consistent read must wait for. */
  async headEtcdRevision(): Promise<number> {
    const response = await this.options.client.kv.range({ key: this.options.layout.head, keys_only: true });
    return Number(response.kvs[0]?.mod_revision ?? 0);
  }

  /** The newest Nautilus revision in etcd, by a linearizable read. */
  async headRevision(): Promise<number> {
    const response = await this.options.client.kv.range({ key: this.options.layout.head });
    const head = response.kvs[0];
    return head ? decodeHead(head.value, this.publicKey).revision : 0;
  }

  // ---- internals ----

  private async checkDataKey(): Promise<void> {
    const { client, layout, dataKey } = this.options;
    const expected = keyCheckValue(dataKey);
    const response = await client.kv.txn({
      compare: [{ key: layout.keycheck, target: 'Version', result: 'Equal', version: '0' }],
      success: [put(layout.keycheck, expected)],
      failure: [{ request_range: { key: layout.keycheck } }],
    });
    if (response.succeeded) return;
    const stored = response.responses[0]?.response_range?.kvs[0]?.value;
    if (!stored || !crypto.timingSafeEqual(Buffer.from(stored), expected)) {
      throw new WrongKeyError(
        `wrong data key: etcd holds the state of a cluster sealed with another data key (${layout.prefix}keycheck); ` +
          'this replica can reach etcd but opens nothing there. Join with --join (attested key release) or start with a copy of the cluster\'s data.key',
      );
    }
  }

  private async load(): Promise<RecoveredState> {
    const { client, layout, dataKey } = this.options;
    const first = await client.kv.txn({ success: [{ request_range: { key: layout.snapshot } }, { request_range: { key: layout.head } }] });
    const atRevision = String(first.header.revision);
    const manifestKv = first.responses[0]!.response_range!.kvs[0];
    const headKv = first.responses[1]!.response_range!.kvs[0];
    let entries: SnapshotEntry[] = [];
    this.position = GENESIS_POSITION;
    if (manifestKv) {
      const manifest = decodeManifest(manifestKv.value);
      const parts: Buffer[] = [];
      const [start, end] = layout.snapshotChunks(manifest.id);
      let from = start;
      for (;;) {
        const page = await client.kv.range({ key: from, range_end: end, limit: PAGE_SNAPSHOT_PARTS, revision: atRevision });
        for (const kv of page.kvs) parts.push(kv.value);
        if (!page.more || page.kvs.length === 0) break;
        from = Buffer.concat([page.kvs.at(-1)!.key, Buffer.from([0])]);
      }
      if (parts.length !== manifest.chunks) throw new IntegrityError(`etcd snapshot ${manifest.id}: ${parts.length} of its ${manifest.chunks} parts are present`);
      const contents = await readSnapshotBytes(`etcd snapshot ${manifest.id}`, Buffer.concat(parts), dataKey, this.publicKey);
      if (contents.checkpoint.revision !== manifest.revision) throw new IntegrityError(`etcd snapshot ${manifest.id} holds revision ${contents.checkpoint.revision}, not ${manifest.revision}`);
      entries = contents.entries;
      this.position = { revision: manifest.revision, sequence: manifest.revision, chainHash: contents.checkpoint.chainHash };
      this.currentSnapshot = { id: manifest.id, commitRevision: Number(manifestKv.mod_revision) };
    }
    const snapshotRevision = this.position.revision;
    const mutations: Mutation[] = [];
    const [, logEnd] = layout.logRange(0);
    for (;;) {
      const page = await client.kv.range({ key: layout.log(this.position.revision + 1), range_end: logEnd, limit: PAGE_RECORDS, revision: atRevision });
      for (const kv of page.kvs) {
        const mutation = this.openNext(kv);
        if (mutation) mutations.push(mutation);
      }
      if (!page.more || page.kvs.length === 0) break;
    }
    if (headKv) this.checkHead(headKv);
    else if (this.position.revision > 0) throw new IntegrityError('etcd: the log has records but no signed head');
    this.etcdRevision = Number(atRevision);
    return { snapshotRevision, entries, mutations };
  }

  /** The record in `kv` if it is the next one; undefined for one already applied. */
  private openNext(kv: IKeyValue): Mutation | undefined {
    const revision = this.options.layout.revisionOfLogKey(kv.key);
    if (revision === undefined || revision <= this.position.revision) return undefined;
    if (revision !== this.position.revision + 1) {
      throw new IntegrityError(`etcd log: record ${revision} follows record ${this.position.revision}: records ${this.position.revision + 1}..${revision - 1} are missing`);
    }
    const { mutation, chainHash } = openLogRecord(this.options.dataKey, revision, kv.value, this.position.chainHash);
    this.advance(revision, chainHash);
    return mutation;
  }

  /** The signed head must name exactly where the log ends: else records were dropped at the tail. */
  private checkHead(kv: IKeyValue): void {
    const head = decodeHead(kv.value, this.publicKey);
    if (head.revision !== this.position.revision || !head.chainHash.equals(this.position.chainHash)) {
      throw new IntegrityError(`etcd log: the signed head names revision ${head.revision}, but the log ends at revision ${this.position.revision}${head.revision === this.position.revision ? ' on another chain' : ''}`);
    }
  }

  private advance(revision: number, chainHash: Buffer): void {
    this.position = { revision, sequence: revision, chainHash };
    this.recentHashes.set(revision, chainHash);
    if (this.recentHashes.size > RECENT_HASHES) this.recentHashes.delete(this.recentHashes.keys().next().value!);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.active && this.queue.length > 0) {
        const active = this.active;
        const next = this.queue[0]!;
        if (next.kind === 'snapshot') {
          this.queue.shift();
          await this.commitSnapshot(active, next);
        } else {
          await this.writeBatch(active, this.takeBatch());
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private takeBatch(): PendingAppend[] {
    const batch: PendingAppend[] = [];
    let bytes = 0;
    while (this.queue.length > 0 && this.queue[0]!.kind === 'append' && batch.length < this.maxBatchRecords) {
      const size = (this.queue[0] as PendingAppend).mutation.value.length + 256;
      if (batch.length > 0 && bytes + size > this.maxBatchBytes) break;
      batch.push(this.queue.shift() as PendingAppend);
      bytes += size;
    }
    return batch;
  }

  private async writeBatch(active: ActiveTerm, batch: PendingAppend[]): Promise<void> {
    const { client, layout, dataKey } = this.options;
    this.inflight = batch;
    const mutations = batch.map((pending) => pending.mutation);
    let request;
    try {
      if (mutations[0]!.revision !== this.position.revision + 1) throw new Error(`revision ${mutations[0]!.revision} does not follow revision ${this.position.revision}`);
      const sealed = sealLogBatch(dataKey, mutations, this.position.chainHash);
      const last = mutations.at(-1)!.revision;
      const head = encodeHead({ revision: last, sequence: last, chainHash: sealed.hashes.at(-1)! }, this.signingKey);
      const ops: IRequestOp[] = sealed.values.map((value, i) => put(layout.log(mutations[i]!.revision), value));
      ops.push(put(layout.head, head));
      request = { txn: fencedTxn(layout, active.term, active.expectedHead, ops), hashes: sealed.hashes, last };
    } catch (error) {
      return this.refuseQueued(`etcd: cannot write: ${(error as Error).message}`);
    }
    let response;
    try {
      response = await client.kv.txn(request.txn);
    } catch (error) {
      if (this.active !== active) return;
      const message = (error as Error).message;
      // etcd refused it before raft: certainly not applied, and leadership is unaffected.
      if (/request is too large|too many operations/i.test(message)) return this.refuseQueued(`etcd refused the transaction: ${message}`);
      this.stats.refused++;
      this.loseLeadership(`etcd did not confirm a write (${message}); its outcome is unknown`, 'unknown');
      return;
    }
    if (this.active !== active) return; // the term ended meanwhile; the follower's re-read shows whether it applied
    this.stats.transactions++;
    if (!response.succeeded) {
      this.stats.refused++;
      this.loseLeadership(`fenced: ${refusalReason(response, active.term, active.expectedHead)}`, 'no');
      return;
    }
    mutations.forEach((mutation, i) => this.advance(mutation.revision, request.hashes[i]!));
    active.expectedHead = Number(response.header.revision);
    this.etcdRevision = active.expectedHead;
    this.stats.records += mutations.length;
    this.inflight = [];
    for (const pending of batch) pending.resolve();
    this.wakeWaiters();
  }

  private async commitSnapshot(active: ActiveTerm, pending: PendingSnapshot): Promise<void> {
    const { client, layout } = this.options;
    const { manifest } = pending;
    const [chunksStart, chunksEnd] = layout.allSnapshotChunks;
    const [mineStart, mineEnd] = layout.snapshotChunks(manifest.id);
    const ops: IRequestOp[] = [
      put(layout.snapshot, encodeManifest(manifest)),
      deleteRange(...layout.logRange(0, manifest.revision + 1)),
      deleteRange(chunksStart, mineStart),
      deleteRange(mineEnd, chunksEnd),
    ];
    let response;
    try {
      response = await client.kv.txn(fencedTxn(layout, active.term, active.expectedHead, ops));
    } catch (error) {
      pending.reject(error as Error);
      return;
    }
    if (!response.succeeded) {
      pending.reject(new WriteUnavailableError('etcd: snapshot not committed: leadership lost', 'no'));
      if (this.active === active) this.loseLeadership(`fenced: ${refusalReason(response, active.term, active.expectedHead)}`, 'no');
      return;
    }
    const previous = this.currentSnapshot;
    this.currentSnapshot = { id: manifest.id, commitRevision: Number(response.header.revision) };
    this.etcdRevision = Math.max(this.etcdRevision, Number(response.header.revision));
    this.stats.snapshots++;
    // History before the previous snapshot is no longer needed by any replica that keeps up.
    if (previous) {
      await client.kv.compact({ revision: String(previous.commitRevision) }).catch((error: Error) => {
        if (!/compacted/i.test(error.message)) log.info('etcd compaction failed', { error: error.message });
      });
    }
    pending.resolve();
  }

  /** Refuses the writes queued (none reached etcd) and keeps leading. */
  private refuseQueued(reason: string): void {
    this.stats.refused++;
    this.options.rewind(this.position.revision);
    const error = new WriteUnavailableError(reason, 'no');
    for (const pending of this.inflight.splice(0)) pending.reject(error);
    for (const pending of this.queue.splice(0)) pending.reject(error);
  }

  private loseLeadership(reason: string, inflight: 'no' | 'unknown'): void {
    this.endTerm(reason, inflight);
    if (!this.closed) this.options.onLeadershipLost(reason);
  }

  private waitFor(revision: number, etcd: boolean): Promise<void> {
    if ((etcd ? this.etcdRevision : this.position.revision) >= revision) return Promise.resolve();
    return new Promise((resolve, reject) => this.revisionWaiters.add({ etcd, revision, resolve, reject }));
  }

  private async waitWithTimeout(revision: number, etcd: boolean, timeoutMs: number): Promise<boolean> {
    if ((etcd ? this.etcdRevision : this.position.revision) >= revision) return true;
    let timer: NodeJS.Timeout | undefined;
    const waiter = { etcd, revision, resolve: () => undefined as void, reject: (_error: Error) => undefined as void };
    try {
      return await new Promise<boolean>((resolve) => {
        waiter.resolve = () => resolve(true);
        waiter.reject = () => resolve(false);
        this.revisionWaiters.add(waiter);
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      this.revisionWaiters.delete(waiter);
    }
  }

  private wakeWaiters(): void {
    for (const waiter of this.revisionWaiters) {
      if ((waiter.etcd ? this.etcdRevision : this.position.revision) >= waiter.revision) {
        this.revisionWaiters.delete(waiter);
        waiter.resolve();
      }
    }
  }
}

/** Re-cuts a stream of buffers into parts of `size` bytes (the last one shorter). */
function* partsOf(pieces: Iterable<Buffer>, size: number): Generator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for (let piece of pieces) {
    while (length + piece.length >= size) {
      const take = size - length;
      pending.push(piece.subarray(0, take));
      yield Buffer.concat(pending, size);
      pending = [];
      length = 0;
      piece = piece.subarray(take);
    }
    if (piece.length > 0) {
      pending.push(piece);
      length += piece.length;
    }
  }
  if (length > 0) yield Buffer.concat(pending, length);
}


