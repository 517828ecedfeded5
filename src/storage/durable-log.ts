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

export interface RecoveredState {
  /** Revision the snapshot was taken at (0 when there is none). */
  snapshotRevision: number;
  /** Live objects at snapshotRevision. */
  entries: SnapshotEntry[];
  /** Mutations after the snapshot, in revision order. */
  mutations: Mutation[];
}

export interface DurableLog {
  /** Reads what a previous run left; called once, before any append. */
  recover(): Promise<RecoveredState>;
  /** Appends a mutation; resolves only once it is durable (many appends may share one fsync). */
  append(mutation: Mutation): Promise<void>;
  /**
   * Persists the full state at `revision`. `entries` is a consistent view captured synchronously by
   * the store; writes continue while the snapshot is written. Afterwards log segments wholly
   * covered by the snapshot may be removed.
   */
  snapshot(revision: number, entries: readonly SnapshotEntry[]): Promise<void>;
  close(): Promise<void>;
}
