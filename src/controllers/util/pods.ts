/**
 * What controllers read from a pod's status, as upstream's podutil helpers define it: active,
 * ready, available (ready for minReadySeconds), when it became ready, how often it restarted.
 */
import type { Obj } from '../../client/api-client.js';

/** Not finished (Succeeded/Failed) and not terminating: a pod that counts toward replicas. */
export function isPodActive(pod: Obj): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

export function podReadyCondition(pod: Obj): { status?: string; lastTransitionTime?: string } | undefined {
  const conditions: Array<{ type?: string; status?: string; lastTransitionTime?: string }> | undefined = pod.status?.conditions;
  return Array.isArray(conditions) ? conditions.find((c) => c?.type === 'Ready') : undefined;
}

export function isPodReady(pod: Obj): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

/** When the pod last became ready (ms since the epoch), or undefined when it is not ready or says not. */
export function podReadyTime(pod: Obj): number | undefined {
  const condition = podReadyCondition(pod);
  if (condition?.status !== 'True' || !condition.lastTransitionTime) return undefined;
  const time = Date.parse(condition.lastTransitionTime);
  return Number.isNaN(time) ? undefined : time;
}

/** Ready, and for at least `minReadySeconds` (upstream's IsPodAvailable). */
export function isPodAvailable(pod: Obj, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const readySince = podReadyTime(pod);
  return readySince !== undefined && readySince + minReadySeconds * 1000 < nowMs;
}

/** The highest restart count among the pod's long-running containers (sidecar init containers included). */
export function maxContainerRestarts(pod: Obj): number {
  const sidecars = new Set<string>((pod.spec?.initContainers ?? []).filter((c: Obj) => c?.restartPolicy === 'Always').map((c: Obj) => c.name));
  const statuses: Obj[] = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? []).filter((s: Obj) => sidecars.has(s?.name))];
  let max = 0;
  for (const status of statuses) if (typeof status?.restartCount === 'number') max = Math.max(max, status.restartCount);
  return max;
}

export function parseTime(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}
