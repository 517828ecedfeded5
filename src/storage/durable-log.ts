/**
 * The contract between the in-memory store and whatever makes it durable (a sealed
 * write-ahead log with snapshots on local disk, or an etcd-backed replicated log).
 * The store never knows which one it talks to; the REST layer never knows either.
 */

/** One committed write, exactly as the store applied it. */
export interface Mutation {
  /** Global revision this write created (strictly increasing, no gaps within one log). */
  revision: number;
  type: 'put' | 'delete';
  /** Resource identity, e.g. "core/pods", "apps/deployments". */
  resource: string;
  /** Object key inside the resource: "namespace/name", or "name" when cluster-scoped. */
  key: string;
  /** The object's JSON bytes as stored (put), or its last state (delete). */
  value: Uint8Array;
}

/** One live object inside a snapshot. */
export interface SnapshotEntry {
  resource: string;
  key: string;
  /** Revision of the object's last write. */
  revision: number;
  value: Uint8Array;
}

/**
 * The live objects a snapshot writes: how many, and each in turn. Each entry's value may be made
 * only as the reader reaches it; reading again gives the same entries (an array is one too).
 */
export interface SnapshotEntries extends Iterable<SnapshotEntry> {
  readonly length: number;
}

export interface RecoveredState {
  /** Revision the snapshot was taken at (0 when there is none). */
  snapshotRevision: number;
  /** Live objects at snapshotRevision. */
  entries: SnapshotEntry[];
  /** Mutations after the snapshot, in revision order. */
  mutations: Mutation[];
}

/**
 * A write the replicated log could not take, while the log itself stays sound: this replica is not
 * (or no longer) the leader, or the outcome of its transaction is unknown. The store undoes every
 * write after `durableRevision` (none of them was acknowledged or shown to a watcher) and keeps
 * serving; the client may retry. `applied: 'no'` when the write is known not to be in the log,
 * `'unknown'` when it may be (a replica that re-reads the log then shows it).
 */
export class WriteUnavailableError extends Error {
  override readonly name: string = 'WriteUnavailableError';
  constructor(message: string, readonly applied: 'no' | 'unknown') {
    super(message);
  }
}

/**
 * The disk under the log is full (ENOSPC/EDQUOT): etcd's NOSPACE alarm. Writes are refused (HTTP
 * 507) while reads and watches go on; nothing refused was acknowledged or applied, and writes are
 * taken again once the log sees free space.
 */
export class StorageFullError extends WriteUnavailableError {
  override readonly name = 'StorageFullError';
  constructor(message: string) {
    super(message, 'no');
  }
}

export interface DurableLog {
  /** Reads what a previous run left; called once, before any append. */
  recover(): Promise<RecoveredState>;
  /**
   * Appends a mutation; resolves only once it is durable (many appends may share one fsync).
   * Rejects with WriteUnavailableError when a replicated log cannot take it (see there).
   */
  append(mutation: Mutation): Promise<void>;
  /** The newest revision known durable: after a WriteUnavailableError, what the log holds. */
  readonly durableRevision?: number;
  /** Throws a WriteUnavailableError when the log takes no writes now (a follower replica). */
  checkWritable?(): void;
  /**
   * Persists the full state at `revision`. `entries` is a consistent view captured synchronously by
   * the store; writes continue while the snapshot is written. Afterwards log segments wholly
   * covered by the snapshot may be removed.
   */
  snapshot(revision: number, entries: SnapshotEntries): Promise<void>;
  close(): Promise<void>;
}
