/**
 * The RollingUpdate strategy (upstream's deployment/rolling.go): grow the new ReplicaSet while
 * the total stays within replicas + maxSurge, shrink the old ones while the available pods stay
 * at or above replicas - maxUnavailable — unhealthy old pods first, since removing them costs
 * no availability.
 */
import type { Obj } from '../../client/api-client.js';
import { deploymentComplete } from './conditions.js';
import { syncRolloutStatus } from './progress.js';
import { activeReplicaSets, availableReplicaCount, desiredReplicas, maxUnavailable, newReplicaSetReplicas, olderFirst, replicaCount, specReplicas, type MaybeReplicaSet } from './replica-sets.js';
import { cleanupDeployment, getAllReplicaSetsAndSyncRevision, scaleReplicaSetAndRecordEvent, type SyncContext, type SyncState } from './sync.js';

export async function rolloutRolling(ctx: SyncContext, state: SyncState): Promise<number | undefined> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, state, true);
  const allRSs: MaybeReplicaSet[] = [...oldRSs, newRS];
  if (await reconcileNewReplicaSet(ctx, state, allRSs, newRS!)) return syncRolloutStatus(ctx, state, allRSs, newRS);
  if (await reconcileOldReplicaSets(ctx, state, allRSs, activeReplicaSets(oldRSs), newRS!)) return syncRolloutStatus(ctx, state, allRSs, newRS);
  if (deploymentComplete(state.d, state.d.status ?? {})) await cleanupDeployment(ctx, state, oldRSs);
  return syncRolloutStatus(ctx, state, allRSs, newRS);
}

/** Scales the new ReplicaSet toward the desired count as far as maxSurge allows; says whether it scaled. */
export async function reconcileNewReplicaSet(ctx: SyncContext, state: SyncState, allRSs: readonly MaybeReplicaSet[], newRS: Obj): Promise<boolean> {
  const desired = desiredReplicas(state.d);
  if (specReplicas(newRS) === desired) return false;
  if (specReplicas(newRS) > desired) return (await scaleReplicaSetAndRecordEvent(ctx, state, newRS, desired)).scaled;
  return (await scaleReplicaSetAndRecordEvent(ctx, state, newRS, newReplicaSetReplicas(state.d, allRSs, newRS))).scaled;
}

/** Scales old ReplicaSets down as far as maxUnavailable allows; says whether any scaled. */
export async function reconcileOldReplicaSets(ctx: SyncContext, state: SyncState, allRSs: readonly MaybeReplicaSet[], oldRSs: Obj[], newRS: Obj): Promise<boolean> {
  if (replicaCount(oldRSs) === 0) return false;
  const d = state.d;
  const minAvailable = desiredReplicas(d) - maxUnavailable(d);
  const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  // Scaling down more would leave fewer than minAvailable once the new pods' unavailability is counted.
  const maxScaledDown = replicaCount(allRSs) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  const cleaned = await cleanupUnhealthyReplicas(ctx, state, oldRSs, maxScaledDown);
  const scaledDown = await scaleDownOldReplicaSetsForRollingUpdate(ctx, state, [...cleaned.oldRSs, newRS], cleaned.oldRSs);
  return cleaned.count + scaledDown > 0;
}

/** Removes old replicas that are not available, oldest ReplicaSets first, up to `maxCleanup`. */
export async function cleanupUnhealthyReplicas(ctx: SyncContext, state: SyncState, oldRSs: Obj[], maxCleanup: number): Promise<{ oldRSs: Obj[]; count: number }> {
  const sorted = [...oldRSs].sort(olderFirst);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (total >= maxCleanup) break;
    const rs = sorted[i];
    const available = rs.status?.availableReplicas ?? 0;
    if (specReplicas(rs) === 0 || specReplicas(rs) === available) continue;
    const count = Math.min(maxCleanup - total, specReplicas(rs) - available);
    const target = specReplicas(rs) - count;
    if (target > specReplicas(rs)) throw new Error(`when cleaning up unhealthy replicas, got invalid request to scale down ${rs.metadata.namespace}/${rs.metadata.name} ${specReplicas(rs)} -> ${target}`);
    sorted[i] = (await scaleReplicaSetAndRecordEvent(ctx, state, rs, target)).rs;
    total += count;
  }
  return { oldRSs: sorted, count: total };
}

/** Scales old ReplicaSets down, oldest first, by as many available pods as exceed minAvailable. */
export async function scaleDownOldReplicaSetsForRollingUpdate(ctx: SyncContext, state: SyncState, allRSs: readonly MaybeReplicaSet[], oldRSs: Obj[]): Promise<number> {
  const d = state.d;
  const minAvailable = desiredReplicas(d) - maxUnavailable(d);
  const available = availableReplicaCount(allRSs);
  if (available <= minAvailable) return 0;
  const toScaleDown = available - minAvailable;
  let total = 0;
  for (const rs of [...oldRSs].sort(olderFirst)) {
    if (total >= toScaleDown) break;
    if (specReplicas(rs) === 0) continue;
    const count = Math.min(specReplicas(rs), toScaleDown - total);
    await scaleReplicaSetAndRecordEvent(ctx, state, rs, specReplicas(rs) - count);
    total += count;
  }
  return total;
}
