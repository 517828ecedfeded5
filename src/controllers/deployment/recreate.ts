/**
 * The Recreate strategy (upstream's deployment/recreate.go): scale every old ReplicaSet to zero,
 * wait until none of their pods is running, then create or scale up the new one.
 */
import type { Obj } from '../../client/api-client.js';
import { deploymentComplete } from './conditions.js';
import { syncRolloutStatus } from './progress.js';
import { activeReplicaSets, actualReplicaCount, desiredReplicas, specReplicas, type MaybeReplicaSet } from './replica-sets.js';
import { cleanupDeployment, getAllReplicaSetsAndSyncRevision, scaleReplicaSetAndRecordEvent, type SyncContext, type SyncState } from './sync.js';

export async function rolloutRecreate(ctx: SyncContext, state: SyncState): Promise<number | undefined> {
  // The new ReplicaSet is not created yet: no new pod may run beside an old one.
  let { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, state, false);
  let allRSs: MaybeReplicaSet[] = [...oldRSs, newRS];
  let scaledDown = false;
  for (const rs of activeReplicaSets(oldRSs)) {
    if ((await scaleReplicaSetAndRecordEvent(ctx, state, rs, 0)).scaled) scaledDown = true;
  }
  if (scaledDown) return syncRolloutStatus(ctx, state, allRSs, newRS);
  if (oldPodsRunning(ctx, newRS, oldRSs)) return syncRolloutStatus(ctx, state, allRSs, newRS);
  if (!newRS) {
    ({ newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, state, true));
    allRSs = [...oldRSs, newRS];
  }
  if (newRS && specReplicas(newRS) !== desiredReplicas(state.d)) await scaleReplicaSetAndRecordEvent(ctx, state, newRS, desiredReplicas(state.d));
  if (deploymentComplete(state.d, state.d.status ?? {})) await cleanupDeployment(ctx, state, oldRSs);
  return syncRolloutStatus(ctx, state, allRSs, newRS);
}

/** Any old pod not finished yet (terminating ones included: they may still run) (oldPodsRunning). */
export function oldPodsRunning(ctx: SyncContext, newRS: MaybeReplicaSet, oldRSs: readonly Obj[]): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const rs of oldRSs) {
    if (rs.metadata.uid === newRS?.metadata.uid) continue;
    for (const pod of ctx.podsOf(rs)) {
      const phase = pod.status?.phase;
      if (phase !== 'Failed' && phase !== 'Succeeded') return true;
    }
  }
  return false;
}
