/**
 * What one RollingUpdate step does (upstream daemon/update.go rollingUpdate). Without surge, old
 * pods are deleted while fewer than maxUnavailable nodes lack an available pod (old pods already
 * unavailable go at once); with surge, new pods start beside old ones on up to maxSurge nodes and
 * an old pod goes once its replacement is available.
 */
import type { Obj } from '../../client/api-client.js';
import { isPodAvailable } from '../pod-state.js';

export interface RollingUpdatePlan {
  oldPodsToDelete: string[];
  nodesToCreate: string[];
}

/** An int or a percentage of `total`, rounded up (intstr.GetScaledValueFromIntOrPercent, roundUp). */
export function scaledValue(value: unknown, total: number): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+%$/.test(value)) return Math.ceil((Number(value.slice(0, -1)) * total) / 100);
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return 0;
}

/** The one updated and one old pod on a node; undefined when there are two of either (the manage step fixes that). */
export function updatedAndOldPods(pods: readonly Obj[], isUpdated: (pod: Obj) => boolean): { updated?: Obj; old?: Obj } | undefined {
  let updated: Obj | undefined;
  let old: Obj | undefined;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    if (isUpdated(pod)) {
      if (updated) return undefined;
      updated = pod;
    } else {
      if (old) return undefined;
      old = pod;
    }
  }
  return { updated, old };
}

export interface RollingUpdateInput {
  /** Daemon pods by target node, with an empty entry for every node that should run one. */
  nodeToPods: ReadonlyMap<string, readonly Obj[]>;
  isUpdated: (pod: Obj) => boolean;
  shouldRun: (nodeName: string) => boolean;
  maxSurge: number;
  maxUnavailable: number;
  minReadySeconds: number;
  now: number;
}

export function planRollingUpdate(input: RollingUpdateInput): RollingUpdatePlan {
  const { maxSurge, maxUnavailable, minReadySeconds, now } = input;
  const available = (pod: Obj) => isPodAvailable(pod, minReadySeconds, now);
  const nodes = [...input.nodeToPods.keys()].sort();
  if (maxSurge === 0) {
    let unavailable = 0;
    const replaceNow: string[] = [];
    const candidates: string[] = [];
    for (const node of nodes) {
      const found = updatedAndOldPods(input.nodeToPods.get(node)!, input.isUpdated);
      if (!found) {
        unavailable++;
        continue;
      }
      const { updated, old } = found;
      if ((!old && !updated) || (old && updated)) unavailable++;
      else if (updated) {
        if (!available(updated)) unavailable++;
      } else if (old) {
        if (!available(old)) replaceNow.push(old.metadata.name!);
        else if (unavailable < maxUnavailable) candidates.push(old.metadata.name!);
      }
    }
    const budget = Math.max(0, Math.min(maxUnavailable - unavailable, candidates.length));
    return { oldPodsToDelete: [...replaceNow, ...candidates.slice(0, budget)], nodesToCreate: [] };
  }
  let surging = 0;
  const oldPodsToDelete: string[] = [];
  const replaceNow: string[] = [];
  const candidates: string[] = [];
  for (const node of nodes) {
    const found = updatedAndOldPods(input.nodeToPods.get(node)!, input.isUpdated);
    if (!found || !found.old) continue;
    const { updated, old } = found;
    if (!available(old)) {
      if (!updated) replaceNow.push(node);
    } else if (!updated) {
      if (input.shouldRun(node) && surging < maxSurge) candidates.push(node);
    } else if (!available(updated)) {
      surging++;
    } else {
      oldPodsToDelete.push(old.metadata.name!);
    }
  }
  const budget = Math.max(0, Math.min(maxSurge - surging, candidates.length));
  return { oldPodsToDelete, nodesToCreate: [...replaceNow, ...candidates.slice(0, budget)] };
}
