/**
 * Rollout progress (upstream's deployment/progress.go): the Progressing condition — a new
 * ReplicaSet progressing, complete, or stuck past progressDeadlineSeconds — and the
 * ReplicaFailure condition lifted from the ReplicaSets; plus when to look again at a rollout
 * that may be about to miss its deadline.
 */
import type { Obj } from '../../client/api-client.js';
import type { Fields } from '../../registry/common/fields.js';
import { deploymentComplete, deploymentProgressing, deploymentTimedOut, getCondition, hasProgressDeadline, newCondition, PROGRESSING, REASONS, removeCondition, REPLICA_FAILURE, setCondition, type DeploymentCondition } from './conditions.js';
import type { MaybeReplicaSet } from './replica-sets.js';
import { calculateStatus, sameStatus, updateDeploymentStatus, type SyncContext, type SyncState } from './sync.js';

/** Writes status with the progress conditions; says when to look again (ms), if a deadline is pending. */
export async function syncRolloutStatus(ctx: SyncContext, state: SyncState, allRSs: readonly MaybeReplicaSet[], newRS: MaybeReplicaSet): Promise<number | undefined> {
  const d = state.d;
  const status = calculateStatus(allRSs, newRS, d);
  if (!hasProgressDeadline(d)) removeCondition(status, PROGRESSING);
  const current = getCondition(d.status, PROGRESSING);
  const completeAlready = status.replicas === status.updatedReplicas && current?.reason === REASONS.newReplicaSetAvailable;
  if (hasProgressDeadline(d) && !completeAlready) {
    const subject = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
    if (deploymentComplete(d, status)) {
      setCondition(status, newCondition(PROGRESSING, 'True', REASONS.newReplicaSetAvailable, `${subject} has successfully progressed.`));
    } else if (deploymentProgressing(d, status)) {
      // Progress refreshes lastUpdateTime even when the reason stays: the deadline counts from there.
      const condition = newCondition(PROGRESSING, 'True', REASONS.replicaSetUpdated, `${subject} is progressing.`);
      if (current) {
        if (current.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, PROGRESSING);
      }
      setCondition(status, condition);
    } else if (deploymentTimedOut(d, status, ctx.now())) {
      setCondition(status, newCondition(PROGRESSING, 'False', REASONS.progressDeadlineExceeded, `${subject} has timed out progressing.`));
    }
  }
  const failure = replicaFailure(allRSs, newRS);
  if (failure) setCondition(status, failure);
  else removeCondition(status, REPLICA_FAILURE);

  if (sameStatus(d.status, status)) return requeueStuckDeployment(d, status, ctx.now());
  d.status = status;
  await updateDeploymentStatus(ctx, state);
  return undefined;
}

/** The first ReplicaFailure of the new ReplicaSet, else of the old ones (getReplicaFailures). */
function replicaFailure(allRSs: readonly MaybeReplicaSet[], newRS: MaybeReplicaSet): DeploymentCondition | undefined {
  const fromRS = (rs: Obj): DeploymentCondition | undefined => {
    const condition = (rs.status?.conditions as Fields[] | undefined)?.find((c) => c.type === REPLICA_FAILURE);
    if (!condition) return undefined;
    return { type: REPLICA_FAILURE, status: condition.status, lastUpdateTime: condition.lastTransitionTime, lastTransitionTime: condition.lastTransitionTime, reason: condition.reason, message: condition.message };
  };
  if (newRS) {
    const failure = fromRS(newRS);
    if (failure) return failure;
  }
  for (const rs of allRSs) {
    if (!rs || rs === newRS) continue;
    const failure = fromRS(rs);
    if (failure) return failure;
  }
  return undefined;
}

/**
 * For a rollout still running: how long until its deadline passes (plus a second), so it is
 * marked ProgressDeadlineExceeded on time even if nothing else happens (requeueStuckDeployment).
 */
export function requeueStuckDeployment(d: Obj, status: Fields, nowMs: number): number | undefined {
  const current = getCondition(d.status, PROGRESSING);
  if (!hasProgressDeadline(d) || !current) return undefined;
  if (deploymentComplete(d, status) || current.reason === REASONS.progressDeadlineExceeded) return undefined;
  const lastUpdate = Date.parse(current.lastUpdateTime ?? '');
  if (Number.isNaN(lastUpdate)) return undefined;
  // A second past the deadline (upstream polls quickly when it is under a second away; one look suffices).
  return Math.max(0, lastUpdate + d.spec.progressDeadlineSeconds * 1000 - nowMs) + 1000;
}
