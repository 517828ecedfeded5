/**
 * What controllers read from a pod's status (k8s.io/kubernetes/pkg/api/v1/pod util): readiness,
 * availability after minReadySeconds, and whether the pod still counts as running.
 */
import type { Obj } from '../client/api-client.js';

function readyCondition(pod: Obj): Obj | undefined {
  return (pod.status?.conditions ?? []).find((c: Obj) => c.type === 'Ready');
}

export function isPodReady(pod: Obj): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** Ready for at least `minReadySeconds` at `nowMs`. */
export function isPodAvailable(pod: Obj, minReadySeconds: number, nowMs: number): boolean {
  const condition = readyCondition(pod);
  if (condition?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const since = Date.parse(condition.lastTransitionTime ?? '');
  return Number.isFinite(since) && since + minReadySeconds * 1000 < nowMs;
}

/** How long until a ready pod becomes available (0 if it is, or is not ready at all). */
export function msUntilAvailable(pod: Obj, minReadySeconds: number, nowMs: number): number {
  const condition = readyCondition(pod);
  if (condition?.status !== 'True' || !minReadySeconds) return 0;
  const since = Date.parse(condition.lastTransitionTime ?? '');
  if (!Number.isFinite(since)) return 0;
  return Math.max(0, since + minReadySeconds * 1000 - nowMs + 1);
}

export function isPodTerminating(pod: Obj): boolean {
  return pod.metadata.deletionTimestamp !== undefined;
}

export function isPodFinished(pod: Obj): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** controller.IsPodActive: neither finished nor being deleted. */
export function isPodActive(pod: Obj): boolean {
  return !isPodFinished(pod) && !isPodTerminating(pod);
}

/** Upstream's ActivePods ordering for deletion: the pod least far along goes first. */
export function comparePodsForDeletion(a: Obj, b: Obj): number {
  const scheduled = (p: Obj) => (p.spec?.nodeName ? 1 : 0);
  if (scheduled(a) !== scheduled(b)) return scheduled(a) - scheduled(b);
  const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
  const phase = (p: Obj) => phaseRank[p.status?.phase ?? 'Pending'] ?? 0;
  if (phase(a) !== phase(b)) return phase(a) - phase(b);
  const ready = (p: Obj) => (isPodReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  // Newer pods go before older ones.
  const created = (p: Obj) => Date.parse(p.metadata.creationTimestamp ?? '') || 0;
  return created(b) - created(a);
}

/** When the pod last became ready (ms since the epoch); undefined when it is not ready or does not say. */
export function podReadyTime(pod: Obj): number | undefined {
  const condition = readyCondition(pod);
  if (condition?.status !== 'True') return undefined;
  const since = Date.parse(condition.lastTransitionTime ?? '');
  return Number.isFinite(since) ? since : undefined;
}

/** The highest restart count among the pod's long-running containers (sidecar init containers included). */
export function maxContainerRestarts(pod: Obj): number {
  const sidecars = new Set<string>((pod.spec?.initContainers ?? []).filter((c: Obj) => c?.restartPolicy === 'Always').map((c: Obj) => c.name));
  const statuses: Obj[] = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? []).filter((s: Obj) => sidecars.has(s?.name))];
  let max = 0;
  for (const status of statuses) if (typeof status?.restartCount === 'number') max = Math.max(max, status.restartCount);
  return max;
}
