/**
 * Deployment conditions and the judgements made from status: complete, progressing, timed out.
 * Reasons and messages are upstream's, which `kubectl rollout status` and `describe` show.
 */
import { nowRfc3339 } from '../../api/object.js';
import type { Obj } from '../../client/api-client.js';
import type { Fields } from '../../registry/common/fields.js';

export const AVAILABLE = 'Available';
export const PROGRESSING = 'Progressing';
export const REPLICA_FAILURE = 'ReplicaFailure';

export const REASONS = {
  newReplicaSetCreated: 'NewReplicaSetCreated',
  foundNewReplicaSet: 'FoundNewReplicaSet',
  replicaSetUpdated: 'ReplicaSetUpdated',
  newReplicaSetAvailable: 'NewReplicaSetAvailable',
  progressDeadlineExceeded: 'ProgressDeadlineExceeded',
  replicaSetCreateError: 'ReplicaSetCreateError',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  minimumReplicasAvailable: 'MinimumReplicasAvailable',
  minimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

export interface DeploymentCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export function newCondition(type: string, status: DeploymentCondition['status'], reason: string, message: string): DeploymentCondition {
  const now = nowRfc3339();
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

export function getCondition(status: Fields | undefined, type: string): DeploymentCondition | undefined {
  return (status?.conditions as DeploymentCondition[] | undefined)?.find((c) => c.type === type);
}

/**
 * Puts `condition` in `status` (mutates). Same status and reason: nothing changes. Same status,
 * new reason: the transition time stays (SetDeploymentCondition).
 */
export function setCondition(status: Fields, condition: DeploymentCondition): void {
  const current = getCondition(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  if (current && current.status === condition.status) condition = { ...condition, lastTransitionTime: current.lastTransitionTime };
  status.conditions = [...((status.conditions as DeploymentCondition[] | undefined) ?? []).filter((c) => c.type !== condition.type), condition];
}

export function removeCondition(status: Fields, type: string): void {
  if (!status.conditions) return;
  status.conditions = (status.conditions as DeploymentCondition[]).filter((c) => c.type !== type);
  if (status.conditions.length === 0) delete status.conditions;
}

/** progressDeadlineSeconds set and not "forever" (MaxInt32). */
export function hasProgressDeadline(d: Obj): boolean {
  const deadline = d.spec?.progressDeadlineSeconds;
  return typeof deadline === 'number' && deadline !== 2147483647;
}

/** Every replica updated and available, and the latest spec observed (DeploymentComplete). */
export function deploymentComplete(d: Obj, status: Fields): boolean {
  const desired = d.spec?.replicas ?? 1;
  return (status.updatedReplicas ?? 0) === desired && (status.replicas ?? 0) === desired && (status.availableReplicas ?? 0) === desired && (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** Anything moved forward since the status last written (DeploymentProgressing). */
export function deploymentProgressing(d: Obj, status: Fields): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld || (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

/** No progress for progressDeadlineSeconds since the Progressing condition was last updated (DeploymentTimedOut). */
export function deploymentTimedOut(d: Obj, status: Fields, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const condition = getCondition(status, PROGRESSING);
  if (!condition) return false;
  if (condition.reason === REASONS.newReplicaSetAvailable) return false;
  if (condition.reason === REASONS.progressDeadlineExceeded) return true;
  const from = Date.parse(condition.lastUpdateTime ?? '');
  if (Number.isNaN(from)) return false;
  return from + d.spec.progressDeadlineSeconds * 1000 < nowMs;
}
