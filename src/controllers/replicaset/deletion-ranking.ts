/**
 * Which pods a ReplicaSet (or ReplicationController) deletes first when it scales down, in
 * upstream's order (ActivePodsWithRanks with LogarithmicScaleDown and PodDeletionCost):
 *  1. not yet scheduled before scheduled;
 *  2. Pending before Unknown before Running;
 *  3. not ready before ready;
 *  4. lower `controller.kubernetes.io/pod-deletion-cost` first;
 *  5. more pods of the same owner family on its node first (spread is kept);
 *  6. ready for a shorter time first (compared on a log2 scale, so pods ready for about as long
 *     count as equal and the choice among them is random-ish, by uid);
 *  7. more container restarts first;
 *  8. created more recently first (same log2 scale).
 */
import type { Obj } from '../../client/api-client.js';
import { isPodActive, isPodReady, maxContainerRestarts, podReadyTime } from '../pod-state.js';

export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

interface Ranked {
  pod: Obj;
  /** How many related active pods share its node. */
  colocated: number;
}

/**
 * The `count` pods to delete out of `pods`. `relatedPods` are the active pods of every
 * ReplicaSet sharing this one's controller (a Deployment's history), used to prefer deleting
 * pods from crowded nodes.
 */
export function podsToDelete(pods: readonly Obj[], relatedPods: readonly Obj[], count: number, nowMs = Date.now()): Obj[] {
  if (count >= pods.length) return [...pods];
  const perNode = new Map<string, number>();
  for (const pod of relatedPods) {
    if (!isPodActive(pod)) continue;
    const node = pod.spec?.nodeName ?? '';
    perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const ranked: Ranked[] = pods.map((pod) => ({ pod, colocated: perNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((a, b) => (deletesBefore(a, b, nowMs) ? -1 : deletesBefore(b, a, nowMs) ? 1 : 0));
  return ranked.slice(0, count).map((r) => r.pod);
}

/** Whether `a` should be deleted before `b` (the Less of upstream's sort). */
export function deletesBefore(a: Ranked, b: Ranked, nowMs: number): boolean {
  const nodeA = a.pod.spec?.nodeName ?? '';
  const nodeB = b.pod.spec?.nodeName ?? '';
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '';
  const phaseA = PHASE_ORDER[a.pod.status?.phase ?? ''] ?? 0;
  const phaseB = PHASE_ORDER[b.pod.status?.phase ?? ''] ?? 0;
  if (phaseA !== phaseB) return phaseA < phaseB;
  const readyA = isPodReady(a.pod);
  const readyB = isPodReady(b.pod);
  if (readyA !== readyB) return !readyA;
  const costA = deletionCost(a.pod);
  const costB = deletionCost(b.pod);
  if (costA !== costB) return costA < costB;
  if (a.colocated !== b.colocated) return a.colocated > b.colocated;
  if (readyA && readyB) {
    const order = newerFirst(podReadyTime(a.pod), podReadyTime(b.pod), a.pod, b.pod, nowMs);
    if (order !== undefined) return order;
  }
  const restartsA = maxContainerRestarts(a.pod);
  const restartsB = maxContainerRestarts(b.pod);
  if (restartsA !== restartsB) return restartsA > restartsB;
  const order = newerFirst(parseTime(a.pod.metadata.creationTimestamp), parseTime(b.pod.metadata.creationTimestamp), a.pod, b.pod, nowMs);
  return order ?? false;
}

/** Missing times first, then the more recent on a log2 scale of age; undefined when equal. */
function newerFirst(timeA: number | undefined, timeB: number | undefined, podA: Obj, podB: Obj, nowMs: number): boolean | undefined {
  if (timeA === timeB) return undefined;
  if (timeA === undefined || timeB === undefined) return timeA === undefined;
  const rankDiff = logRank(nowMs - timeA) - logRank(nowMs - timeB);
  if (rankDiff === 0) return (podA.metadata.uid ?? '') < (podB.metadata.uid ?? '');
  return rankDiff < 0;
}

function parseTime(text: unknown): number | undefined {
  const time = typeof text === 'string' ? Date.parse(text) : NaN;
  return Number.isNaN(time) ? undefined : time;
}

/** floor(log2(age in nanoseconds)), -1 for no age: ages within a factor of two rank alike. */
function logRank(ageMs: number): number {
  const nanos = ageMs * 1e6;
  return nanos > 0 ? Math.floor(Math.log2(nanos)) : -1;
}

/** The pod-deletion-cost annotation as an int32; 0 when absent or malformed (as upstream treats it). */
function deletionCost(pod: Obj): number {
  const text = pod.metadata.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (typeof text !== 'string' || !/^-?\d+$/.test(text)) return 0;
  const value = Number(text);
  return value >= -2147483648 && value <= 2147483647 ? value : 0;
}
