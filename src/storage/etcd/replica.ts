/**
 * One replica of a Nautilus cluster on etcd: follows the replicated log into the local store, and
 * stands for election. Exactly one replica leads at a time — the one whose lease holds the leader
 * key — and only it writes (through the fenced transactions of the log). Followers apply every
 * record from an etcd watch of the prefix, so each keeps a full, hot copy of the state.
 *
 *   follower ──(leader key free: won the create-if-absent transaction)──▶ candidate
 *   candidate ──(read the log to its head)──▶ leader
 *   leader/candidate ──(lease lost, fenced, key gone, etcd unsure)──▶ follower (resigns, re-reads the log)
 *
 * Failover speed: the leader key goes when etcd expires the lease (TTL) or when it is revoked.
 * A graceful stop revokes it at once; a follower that finds the leader's address refusing
 * connections (its process is gone: nothing of it can write, so nothing is lost) revokes it too,
 * so a killed leader is replaced within one etcd round trip or two of being noticed; a leader
 * that is merely unreachable is replaced after its lease TTL.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import type { Store } from '../store.js';
import { WriteUnavailableError } from '../durable-log.js';
import { IntegrityError } from '../wal/errors.js';
import type { Term } from './fencing.js';
import { leaderGuard } from './fencing.js';
import { EtcdLayout } from './layout.js';
import { KeptLease } from './lease.js';
import { openLeader, sealLeader } from './records.js';
import { EtcdLog } from './replicated-log.js';
import { log } from '../../server/log.js';

export type Role = 'follower' | 'candidate' | 'leader';

export interface LeaderInfo {
  id: string;
  url: string;
  leaseId: string;
  /** etcd revision at which this leadership began (the leader key's create revision). */
  createRevision: number;
}

export interface EtcdReplicaOptions {
  client: Etcd3;
  prefix: string;
  dataKey: Buffer;
  /** Lease TTL in seconds (etcd raises it to its minimum, 2 s with etcd's default timing). */
  leaseTtlSeconds?: number;
  /** The local state can no longer follow the log (a gap, damage, history compacted away). */
  onFatal: (error: Error) => void;
}

/** How long a consistent read on a follower waits for the log to reach the leader's head. */
const CONSISTENT_READ_WAIT_MS = 3000;
const CAMPAIGN_RETRY_MS = 200;

export class ReadNotFreshError extends Error {
  override readonly name = 'ReadNotFreshError';
  constructor(readonly wanted: number, readonly current: number) {
    super(`Too large resource version: ${wanted}, current: ${current}`);
  }
}

export class EtcdReplica extends EventEmitter<{ leading: []; following: []; leader: [LeaderInfo | undefined] }> {
  /** Random per start: tells this process from an earlier one at the same address. */
  readonly id = randomUUID();
  readonly log: EtcdLog;
  readonly layout: EtcdLayout;
  role: Role = 'follower';
  /** Who leads, as the leader key says (undefined while nobody does). */
  leader: LeaderInfo | undefined;
  readonly counters = { elections: 0, stepDowns: 0 };
  private readonly lease: KeptLease;
  private term: Term | undefined;
  private watcher: Watcher | undefined;
  private watchGeneration = 0;
  private campaigning = false;
  private campaignTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly headReaders: Array<{ resolve: (revision: number) => void; reject: (error: Error) => void }> = [];
  private readingHead = false;
  private storeRef: Store | undefined;
  /** Where other replicas reach this one's API (writes are forwarded there while it leads). */
  private url = '';

  constructor(private readonly options: EtcdReplicaOptions) {
    super();
    this.layout = new EtcdLayout(options.prefix);
    this.log = new EtcdLog({
      client: options.client,
      layout: this.layout,
      dataKey: options.dataKey,
      onCommitted: (mutations) => this.store.applyCommitted(mutations),
      rewind: (revision) => this.store.rewindTo(revision),
      onLeadershipLost: (reason) => void this.stepDown(reason),
    });
    this.lease = new KeptLease(options.client, { ttlSeconds: options.leaseTtlSeconds ?? 2 });
    this.lease.on('lost', (reason) => {
      log.info('etcd lease lost', { reason });
      if (this.role !== 'follower') void this.stepDown(`lease lost: ${reason}`);
      this.scheduleCampaign(0);
    });
  }

  get leading(): boolean {
    return this.role === 'leader';
  }

  /** The store this replica keeps (its DurableLog is `log`); before recover(). */
  attach(store: Store): void {
    this.storeRef = store;
  }

  private get store(): Store {
    if (!this.storeRef) throw new Error('etcd replica: attach(store) first');
    return this.storeRef;
  }

  /**
   * Call after the store was restored from `log.recover()` and the API server listens at `url`:
   * follows the log, then stands for election.
   */
  async start(url: string): Promise<void> {
    this.url = url;
    await this.lease.current();
    await this.watchFrom(this.log.appliedEtcdRevision + 1);
    const response = await this.options.client.kv.range({ key: this.layout.leader });
    this.noteLeader(response.kvs[0]);
    if (!this.leader) void this.campaign();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.campaignTimer);
    const wasLeading = this.role !== 'follower';
    this.role = 'follower';
    this.log.endTerm('the server is shutting down', 'unknown');
    if (wasLeading) this.emit('following');
    const watcher = this.watcher;
    this.watcher = undefined;
    // Bounded: an unreachable etcd must not hold up the shutdown.
    await withinMs(watcher?.cancel(), 1000);
    // Revoking deletes the leader key now, so another replica takes over without waiting a TTL.
    await withinMs(this.lease.revoke(), 1000);
  }

  /**
   * For a consistent read on a follower: waits until this replica has applied everything the
   * leader had acknowledged when the read arrived (a linearizable read of the head's revision).
   */
  async waitForLeaderHead(): Promise<void> {
    if (this.role === 'leader') return;
    const target = await this.readHead();
    if (!(await this.log.waitForEtcdRevision(target, CONSISTENT_READ_WAIT_MS))) {
      throw new ReadNotFreshError(await this.log.headRevision().catch(() => this.store.revision), this.store.revision);
    }
  }

  /** Waits (bounded) until this replica holds `revision`, e.g. one a client saw on another replica. */
  async waitForRevision(revision: number): Promise<void> {
    if (this.store.revision >= revision) return;
    if (this.role === 'leader' || !(await this.log.waitForRevision(revision, CONSISTENT_READ_WAIT_MS))) {
      throw new ReadNotFreshError(revision, this.store.revision);
    }
  }

  /** Revisions this replica is behind the log's head (0 on the leader). */
  async lagRevisions(): Promise<number> {
    if (this.role === 'leader') return 0;
    return Math.max(0, (await this.log.headRevision()) - this.store.revision);
  }

  /**
   * The leader's address refuses connections: its process is gone and can write nothing more, so
   * its lease can go now rather than at its TTL.
   */
  async leaderIsGone(leader: LeaderInfo): Promise<void> {
    if (this.stopped || this.leader?.createRevision !== leader.createRevision || leader.id === this.id) return;
    log.info('the leader is gone (its address refuses connections): revoking its lease', { leader: leader.url, leaseId: leader.leaseId });
    await this.options.client.leaseClient.leaseRevoke({ ID: leader.leaseId }).catch((error: Error) => log.debug('lease revoke failed', { error: error.message }));
  }

  private async watchFrom(revision: number): Promise<void> {
    const generation = ++this.watchGeneration;
    const previous = this.watcher;
    this.watcher = undefined;
    await previous?.cancel().catch(() => undefined);
    const watcher = await this.options.client.watch().prefix(this.options.prefix).startRevision(String(revision)).create();
    if (generation !== this.watchGeneration || this.stopped) {
      await watcher.cancel().catch(() => undefined);
      return;
    }
    this.watcher = watcher;
    watcher.on('data', (response: IWatchResponse) => {
      if (this.watcher === watcher) this.onWatch(response);
    });
    watcher.on('error', (error: Error) => {
      if (this.watcher === watcher && !this.stopped) this.options.onFatal(new Error(`etcd watch failed: ${error.message} (this replica fell behind etcd's compacted history; restart it to reload)`));
    });
  }

  private onWatch(response: IWatchResponse): void {
    try {
      // While leading (or taking over) the log is this replica's own; it reads it itself.
      if (this.role === 'follower') this.log.applyWatchResponse(response);
    } catch (error) {
      this.options.onFatal(error instanceof IntegrityError ? error : new IntegrityError(`etcd log: ${(error as Error).message}`));
      return;
    }
    for (const event of response.events) {
      if (!event.kv.key.equals(this.layout.leader)) continue;
      if (event.type === 'Delete') {
        this.noteLeader(undefined);
        if (this.role !== 'follower') void this.stepDown('the leader key was deleted (lease expired or revoked)');
        else this.scheduleCampaign(0);
      } else {
        this.noteLeader(event.kv);
        if (this.role !== 'follower' && this.term && Number(event.kv.create_revision) !== this.term.createRevision) {
          void this.stepDown('another replica was elected');
        }
      }
    }
  }

  private noteLeader(kv: IKeyValue | undefined): void {
    let leader: LeaderInfo | undefined;
    if (kv) {
      const record = openLeader(this.options.dataKey, kv.value);
      if (record) leader = { ...record, leaseId: kv.lease, createRevision: Number(kv.create_revision) };
    }
    if (leader?.createRevision === this.leader?.createRevision && leader?.id === this.leader?.id) return;
    this.leader = leader;
    this.emit('leader', leader);
    // An earlier process at this very address (killed, then restarted) still holds the lease.
    if (leader && leader.url === this.url && leader.id !== this.id) void this.leaderIsGone(leader);
  }

  private scheduleCampaign(delayMs: number): void {
    if (this.stopped || this.campaignTimer) return;
    this.campaignTimer = setTimeout(() => {
      this.campaignTimer = undefined;
      void this.campaign();
    }, delayMs);
    this.campaignTimer.unref();
  }

  private async campaign(): Promise<void> {
    if (this.stopped || this.role !== 'follower' || this.campaigning || this.leader) return;
    this.campaigning = true;
    const { client, dataKey } = this.options;
    const url = this.url;
    try {
      const leaseId = await this.lease.current();
      const response = await client.kv.txn({
        compare: [{ key: this.layout.leader, target: 'Version', result: 'Equal', version: '0' }],
        success: [{ request_put: { key: this.layout.leader, value: sealLeader(dataKey, { id: this.id, url }), lease: leaseId } }],
        failure: [{ request_range: { key: this.layout.leader } }],
      });
      if (!response.succeeded) {
        this.noteLeader(response.responses[0]?.response_range?.kvs[0]);
        return;
      }
      const term: Term = { createRevision: Number(response.header.revision), leaseId };
      this.term = term;
      this.role = 'candidate';
      this.noteLeader({ key: this.layout.leader, value: sealLeader(dataKey, { id: this.id, url }), lease: leaseId, create_revision: String(term.createRevision), mod_revision: String(term.createRevision), version: '1' });
      try {
        await this.log.beginTerm(term);
      } catch (error) {
        if (error instanceof IntegrityError) this.options.onFatal(error);
        await this.stepDown(`could not take over the log: ${(error as Error).message}`);
        return;
      }
      if (this.role !== 'candidate' || this.term !== term || this.stopped) return;
      this.role = 'leader';
      this.counters.elections++;
      log.info('elected leader', { revision: this.store.revision, etcdRevision: term.createRevision });
      this.emit('leading');
    } catch (error) {
      if (error instanceof WriteUnavailableError || !this.stopped) log.debug('campaign failed', { error: (error as Error).message });
      this.scheduleCampaign(CAMPAIGN_RETRY_MS);
    } finally {
      this.campaigning = false;
    }
  }

  private async stepDown(reason: string): Promise<void> {
    if (this.role === 'follower') return;
    const wasLeading = this.role === 'leader';
    this.role = 'follower';
    this.counters.stepDowns++;
    log.info('no longer the leader', { reason });
    this.log.endTerm(reason, 'unknown');
    if (wasLeading) this.emit('following');
    const term = this.term;
    this.term = undefined;
    if (this.stopped) return;
    // Re-read the log from the last acknowledged point: it shows whatever of ours etcd applied.
    try {
      await this.watchFrom(this.log.appliedEtcdRevision + 1);
    } catch (error) {
      this.options.onFatal(new Error(`etcd: cannot follow the log again: ${(error as Error).message}`));
      return;
    }
    // Still holding the key (e.g. etcd answered nothing)? Resign, so somebody can lead.
    if (term) {
      await this.options.client.kv
        .txn({ compare: leaderGuard(this.layout, term), success: [{ request_delete_range: { key: this.layout.leader } }] })
        .catch((error: Error) => log.debug('resign failed', { error: error.message }));
    }
    this.scheduleCampaign(CAMPAIGN_RETRY_MS);
  }

  /** Linearizable reads of the head, shared by the readers that arrived before each one started. */
  private readHead(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.headReaders.push({ resolve, reject });
      void this.pumpHeadReads();
    });
  }

  private async pumpHeadReads(): Promise<void> {
    if (this.readingHead) return;
    this.readingHead = true;
    try {
      while (this.headReaders.length > 0) {
        const readers = this.headReaders.splice(0);
        try {
          const revision = await this.log.headEtcdRevision();
          for (const reader of readers) reader.resolve(revision);
        } catch (error) {
          for (const reader of readers) reader.reject(error as Error);
        }
      }
    } finally {
      this.readingHead = false;
    }
  }
}

function withinMs(promise: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!promise) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    promise.then(
      () => (clearTimeout(timer), resolve()),
      () => (clearTimeout(timer), resolve()),
    );
  });
}
