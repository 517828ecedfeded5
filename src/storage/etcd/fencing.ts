/**
 * Fencing: every write of a leader is one etcd transaction that applies only while
 *   - the leader key is still the one this replica created (same create revision, same lease), and
 *   - the log head was last written by this replica's previous transaction (expected mod revision).
 * A replica that lost leadership — its lease expired or was revoked, or another replica was elected
 * and wrote — therefore cannot write, even before it learns that it lost: etcd refuses the
 * transaction as a whole. On failure the transaction reads the leader key and the head instead,
 * so the refusal says why.
 */
import type { ICompare, IRequestOp, ITxnRequest, ITxnResponse } from 'etcd3';
import type { EtcdLayout } from './layout.js';

/** One leadership: what the leader key looked like when this replica created it. */
export interface Term {
  /** etcd revision of the transaction that created the leader key. */
  readonly createRevision: number;
  readonly leaseId: string;
}

export function leaderGuard(layout: EtcdLayout, term: Term): ICompare[] {
  return [
    { key: layout.leader, target: 'Create', result: 'Equal', create_revision: String(term.createRevision) },
    { key: layout.leader, target: 'Lease', result: 'Equal', lease: term.leaseId },
  ];
}

/** A transaction of `ops` that applies only for the current leader whose last write left the head at `expectedHeadRevision`. */
export function fencedTxn(layout: EtcdLayout, term: Term, expectedHeadRevision: number, ops: IRequestOp[]): ITxnRequest {
  return {
    compare: [...leaderGuard(layout, term), { key: layout.head, target: 'Mod', result: 'Equal', mod_revision: String(expectedHeadRevision) }],
    success: ops,
    failure: [{ request_range: { key: layout.leader, keys_only: true } }, { request_range: { key: layout.head, keys_only: true } }],
  };
}

/** Why a fenced transaction was refused, from its failure reads. */
export function refusalReason(response: ITxnResponse, term: Term, expectedHeadRevision: number): string {
  const leader = response.responses[0]?.response_range?.kvs[0];
  const head = response.responses[1]?.response_range?.kvs[0];
  if (!leader) return 'the leader key is gone (the lease expired or was revoked)';
  if (Number(leader.create_revision) !== term.createRevision || leader.lease !== term.leaseId) {
    return `another replica holds the leadership (elected at etcd revision ${leader.create_revision})`;
  }
  return `the log head moved (etcd revision ${head?.mod_revision ?? 0}, expected ${expectedHeadRevision})`;
}

export function put(key: Buffer, value: Buffer): IRequestOp {
  return { request_put: { key, value } };
}

export function deleteRange(key: Buffer, rangeEnd: Buffer): IRequestOp {
  return { request_delete_range: { key, range_end: rangeEnd } };
}
