/**
 * The Job's pod-failure backoff (upstream backoff_utils.go): a replacement for a failed pod is
 * created only after 10s·2^(n-1) (at most 6 minutes) since the last failure, where n counts the
 * failures since the last success. The record lives in memory, as upstream's does.
 */
import type { Obj } from '../../client/api-client.js';

export const DEFAULT_POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 6 * 60_000;

export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

/** When a pod finished: its containers' last exit, else when it turned unready, else its deletion, else `fallback`. */
export function finishedTime(pod: Obj, fallback: number): number {
  let latest: number | undefined;
  for (const status of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])] as Obj['spec'][]) {
    const at = Date.parse(status.state?.terminated?.finishedAt ?? '');
    if (Number.isFinite(at)) latest = latest === undefined ? at : Math.max(latest, at);
  }
  if (latest !== undefined) return latest;
  const unready = ((pod.status?.conditions ?? []) as Obj['spec'][]).find((c) => c.type === 'Ready' && c.status === 'False');
  const unreadyAt = Date.parse(unready?.lastTransitionTime ?? '');
  if (Number.isFinite(unreadyAt)) return unreadyAt;
  const deletedAt = Date.parse(pod.metadata.deletionTimestamp ?? '');
  return Number.isFinite(deletedAt) ? deletedAt : fallback;
}

export class BackoffStore {
  private readonly records = new Map<string, BackoffRecord>();

  /** The record after counting the newly finished pods (not saved until `save`). */
  next(key: string, newSucceeded: readonly Obj[], newFailed: readonly Obj[], now: number): BackoffRecord {
    const previous = this.records.get(key) ?? { failuresAfterLastSuccess: 0 };
    const times = (pods: readonly Obj[]) => pods.map((p) => finishedTime(p, now)).sort((a, b) => a - b);
    const failed = times(newFailed);
    if (newSucceeded.length === 0) {
      if (failed.length === 0) return { ...previous };
      return { failuresAfterLastSuccess: previous.failuresAfterLastSuccess + failed.length, lastFailureTime: failed[failed.length - 1] };
    }
    // A success resets the count; only failures after it count.
    const lastSuccess = times(newSucceeded).pop()!;
    const after = failed.filter((t) => t > lastSuccess);
    return after.length === 0 ? { failuresAfterLastSuccess: 0 } : { failuresAfterLastSuccess: after.length, lastFailureTime: after[after.length - 1] };
  }

  save(key: string, record: BackoffRecord): void {
    this.records.set(key, record);
  }

  remove(key: string): void {
    this.records.delete(key);
  }
}

/** How long until a replacement may be created (0: now). */
export function remainingBackoffMs(record: BackoffRecord, now: number, initialMs = DEFAULT_POD_FAILURE_BACKOFF_MS, maxMs = MAX_POD_FAILURE_BACKOFF_MS): number {
  if (record.failuresAfterLastSuccess === 0 || record.lastFailureTime === undefined) return 0;
  let backoff = initialMs;
  for (let i = 1; i < record.failuresAfterLastSuccess; i++) {
    backoff *= 2;
    if (backoff >= maxMs) {
      backoff = maxMs;
      break;
    }
  }
  const elapsed = now - record.lastFailureTime;
  return backoff < elapsed ? 0 : backoff - elapsed;
}
