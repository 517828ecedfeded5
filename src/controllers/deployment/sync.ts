/**
 * What every kind of deployment sync shares (upstream's deployment/sync.go): finding or creating
 * the new ReplicaSet and keeping revisions in step, scaling (proportionally when a rollout is in
 * flight), pruning old ReplicaSets beyond revisionHistoryLimit, and computing status.
 */
import { ApiError } from '../../api/status.js';
import { jsonEqual } from '../../api/object.js';
import type { ApiClient, Obj } from '../../client/api-client.js';
import type { Fields } from '../../registry/common/fields.js';
import type { EventRecorder } from '../../client/event-recorder.js';
import type { Lister } from '../../client/informer.js';
import { DEPLOYMENTS, REPLICA_SETS } from '../../client/resource-types.js';
import { log } from '../../server/log.js';
import { controllerOf } from '../reconciler.js';
import { newControllerRef } from '../controller-ref.js';
import { isNamespaceTerminating } from '../pod-control.js';
import { DESIRED_REPLICAS_ANNOTATION, replicasAnnotationsNeedUpdate, setDeploymentRevision, setNewReplicaSetAnnotations, setReplicasAnnotations, REVISION_ANNOTATION } from './annotations.js';
import { AVAILABLE, getCondition, hasProgressDeadline, newCondition, PROGRESSING, REASONS, setCondition } from './conditions.js';
import { computePodTemplateHash, equalIgnoringHash, POD_TEMPLATE_HASH_LABEL } from './hash.js';
import {
  activeReplicaSets,
  actualReplicaCount,
  availableReplicaCount,
  desiredReplicas,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  isRollingUpdate,
  isSaturated,
  largerThenNewer,
  largerThenOlder,
  lowerRevisionFirst,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newReplicaSetReplicas,
  proportion,
  readyReplicaCount,
  replicaCount,
  specReplicas,
  type MaybeReplicaSet,
} from './replica-sets.js';

/** What a sync reads and writes with. */
export interface SyncContext {
  client: ApiClient;
  events: EventRecorder;
  /** The ReplicaSet cache (to find the one a create collided with). */
  replicaSets: Lister;
  /** Pods owned by a ReplicaSet (by its uid), for Recreate. */
  podsOf(rs: Obj): Obj[];
  now(): number;
}

/**
 * One sync's working state: a private copy of the deployment, refreshed after each write of it,
 * and its ReplicaSets, each replaced by what a write of it returned.
 */
export interface SyncState {
  d: Obj;
  rsList: Obj[];
}

/** Writes the deployment's status (and revision annotation) and carries on with what was stored. */
export async function updateDeploymentStatus(ctx: SyncContext, state: SyncState): Promise<void> {
  const d = state.d;
  d.status = compactStatus(d.status ?? {});
  state.d = await ctx.client.update(DEPLOYMENTS, d.metadata.namespace, d.metadata.name!, d, { subresource: 'status' });
}

async function updateReplicaSet(ctx: SyncContext, state: SyncState, rs: Obj): Promise<Obj> {
  const updated = await ctx.client.update(REPLICA_SETS, rs.metadata.namespace, rs.metadata.name!, rs);
  const index = state.rsList.findIndex((r) => r.metadata.uid === updated.metadata.uid);
  if (index >= 0) state.rsList[index] = updated;
  else state.rsList.push(updated);
  return updated;
}

/** The new ReplicaSet (created when asked and missing) and all the others. */
export async function getAllReplicaSetsAndSyncRevision(ctx: SyncContext, state: SyncState, createIfMissing: boolean): Promise<{ newRS: MaybeReplicaSet; oldRSs: Obj[] }> {
  const oldRSs = findOldReplicaSets(state.d, state.rsList);
  const newRS = await getNewReplicaSet(ctx, state, oldRSs, createIfMissing);
  return { newRS, oldRSs };
}

async function getNewReplicaSet(ctx: SyncContext, state: SyncState, oldRSs: Obj[], createIfMissing: boolean): Promise<MaybeReplicaSet> {
  const d = state.d;
  const existing = findNewReplicaSet(d, state.rsList);
  const newRevision = maxRevision(oldRSs) + 1;
  if (existing) {
    // Only annotations and minReadySeconds may change here: copy those, share the rest (read-only).
    const copy: Obj = { ...existing, metadata: { ...existing.metadata, annotations: { ...(existing.metadata.annotations ?? {}) } }, spec: { ...existing.spec } };
    const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true, maxSurge(d));
    const minReadySecondsChanged = (copy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
    if (annotationsUpdated || minReadySecondsChanged) {
      setMinReadySeconds(copy, d);
      return updateReplicaSet(ctx, state, copy);
    }
    // The ReplicaSet's own revision is the one to show: it was set when it became the new one.
    let needsUpdate = setDeploymentRevision(d, copy.metadata.annotations?.[REVISION_ANNOTATION]);
    if (hasProgressDeadline(d) && !getCondition(d.status, PROGRESSING)) {
      d.status ??= {};
      setCondition(d.status, newCondition(PROGRESSING, 'True', REASONS.foundNewReplicaSet, `Found new replica set "${copy.metadata.name}"`));
      needsUpdate = true;
    }
    if (needsUpdate) await updateDeploymentStatus(ctx, state);
    return copy;
  }
  if (!createIfMissing) return undefined;

  const template = structuredClone(d.spec?.template ?? {});
  const hash = computePodTemplateHash(template, d.status?.collisionCount);
  template.metadata ??= {};
  template.metadata.labels = { ...(d.spec?.template?.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const selector = structuredClone(d.spec?.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const candidate: Obj = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `${d.metadata.name}-${hash}`, namespace: d.metadata.namespace, ownerReferences: [newControllerRef(d, DEPLOYMENTS)], labels: { ...template.metadata.labels } },
    spec: { replicas: 0, selector, template },
  };
  setMinReadySeconds(candidate, d);
  const replicas = newReplicaSetReplicas(d, [...oldRSs, candidate], candidate);
  candidate.spec.replicas = replicas;
  setNewReplicaSetAnnotations(d, candidate, newRevision, false, maxSurge(d));

  let created: Obj;
  let alreadyExisted = false;
  try {
    created = await ctx.client.create(REPLICA_SETS, d.metadata.namespace, candidate);
    state.rsList.push(created);
  } catch (error) {
    if (error instanceof ApiError && error.code === 409 && error.reason === 'AlreadyExists') {
      const found = ctx.replicaSets.get(d.metadata.namespace, candidate.metadata.name!);
      if (found && controllerOf(found)?.uid === d.metadata.uid && equalIgnoringHash(d.spec?.template, found.spec?.template)) {
        created = found;
        alreadyExisted = true;
      } else {
        // Another ReplicaSet holds the name: a hash collision. A new collisionCount gives a new hash next time.
        d.status ??= {};
        d.status.collisionCount = (d.status.collisionCount ?? 0) + 1;
        try {
          await updateDeploymentStatus(ctx, state);
          log.info('hash collision for deployment; bumped collisionCount', { deployment: `${d.metadata.namespace}/${d.metadata.name}`, collisionCount: d.status.collisionCount });
        } catch {
          // Retried with the sync.
        }
        throw error;
      }
    } else {
      if (isNamespaceTerminating(error)) throw error;
      const message = `Failed to create new replica set "${candidate.metadata.name}": ${(error as Error).message}`;
      if (hasProgressDeadline(d)) {
        d.status ??= {};
        setCondition(d.status, newCondition(PROGRESSING, 'False', REASONS.replicaSetCreateError, message));
        await updateDeploymentStatus(ctx, state).catch(() => undefined);
      }
      ctx.events.event(state.d, 'Warning', REASONS.replicaSetCreateError, message);
      throw error;
    }
  }
  if (!alreadyExisted && replicas > 0) ctx.events.event(state.d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${replicas}`);
  const current = state.d;
  let needsUpdate = setDeploymentRevision(current, String(newRevision));
  if (!alreadyExisted && hasProgressDeadline(current)) {
    current.status ??= {};
    setCondition(current.status, newCondition(PROGRESSING, 'True', REASONS.newReplicaSetCreated, `Created new replica set "${created.metadata.name}"`));
    needsUpdate = true;
  }
  if (needsUpdate) await updateDeploymentStatus(ctx, state);
  return created;
}

/** The deployment's minReadySeconds on a ReplicaSet; 0 is left out, as upstream's omitempty does. */
function setMinReadySeconds(rs: Obj, d: Obj): void {
  if (d.spec?.minReadySeconds) rs.spec.minReadySeconds = d.spec.minReadySeconds;
  else delete rs.spec.minReadySeconds;
}

/** Scales `rs` to `newScale` if it is not there, with the ScalingReplicaSet event. */
export async function scaleReplicaSetAndRecordEvent(ctx: SyncContext, state: SyncState, rs: Obj, newScale: number): Promise<{ scaled: boolean; rs: Obj }> {
  if (specReplicas(rs) === newScale) return { scaled: false, rs };
  return scaleReplicaSet(ctx, state, rs, newScale, specReplicas(rs) < newScale ? 'up' : 'down');
}

/** Sets a ReplicaSet's size and its desired/max replica annotations. */
export async function scaleReplicaSet(ctx: SyncContext, state: SyncState, rs: Obj, newScale: number, operation: string): Promise<{ scaled: boolean; rs: Obj }> {
  const d = state.d;
  const desired = desiredReplicas(d);
  const max = desired + maxSurge(d);
  const sizeChanged = specReplicas(rs) !== newScale;
  if (!sizeChanged && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
  const oldScale = specReplicas(rs);
  const copy = structuredClone(rs);
  copy.spec.replicas = newScale;
  setReplicasAnnotations(copy, desired, max);
  const updated = await updateReplicaSet(ctx, state, copy);
  if (sizeChanged) ctx.events.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${operation} replica set ${rs.metadata.name} from ${oldScale} to ${newScale}`);
  return { scaled: sizeChanged, rs: updated };
}

/**
 * Scales to a new replica count: the one active ReplicaSet takes it all; a saturated new one
 * means the old go to zero; mid-rollout, the change is shared out in proportion to size, the
 * remainder to the largest (upstream's scale).
 */
export async function scale(ctx: SyncContext, state: SyncState, newRS: MaybeReplicaSet, oldRSs: Obj[]): Promise<void> {
  const d = state.d;
  const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
  if (activeOrLatest) {
    if (specReplicas(activeOrLatest) === desiredReplicas(d)) return;
    await scaleReplicaSetAndRecordEvent(ctx, state, activeOrLatest, desiredReplicas(d));
    return;
  }
  if (isSaturated(d, newRS)) {
    for (const old of activeReplicaSets(oldRSs)) await scaleReplicaSetAndRecordEvent(ctx, state, old, 0);
    return;
  }
  if (!isRollingUpdate(d)) return;
  const all = activeReplicaSets([...oldRSs, newRS]);
  const allowed = desiredReplicas(d) > 0 ? desiredReplicas(d) + maxSurge(d) : 0;
  const toAdd = allowed - replicaCount(all);
  let operation = '';
  if (toAdd > 0) {
    all.sort(largerThenNewer);
    operation = 'up';
  } else if (toAdd < 0) {
    all.sort(largerThenOlder);
    operation = 'down';
  }
  const sizes = new Map<string, number>();
  let added = 0;
  for (const rs of all) {
    if (toAdd !== 0) {
      const share = proportion(rs, d, toAdd, added);
      sizes.set(rs.metadata.name!, specReplicas(rs) + share);
      added += share;
    } else sizes.set(rs.metadata.name!, specReplicas(rs));
  }
  for (let i = 0; i < all.length; i++) {
    const rs = all[i];
    // What proportions could not place goes to (or comes from) the largest.
    if (i === 0 && toAdd !== 0) sizes.set(rs.metadata.name!, Math.max(0, sizes.get(rs.metadata.name!)! + toAdd - added));
    await scaleReplicaSet(ctx, state, rs, sizes.get(rs.metadata.name!)!, operation);
  }
}

/** Deletes the oldest empty ReplicaSets beyond revisionHistoryLimit (cleanupDeployment). */
export async function cleanupDeployment(ctx: SyncContext, state: SyncState, oldRSs: Obj[]): Promise<void> {
  const limit = state.d.spec?.revisionHistoryLimit;
  // Unset or MaxInt32: keep every old ReplicaSet.
  if (typeof limit !== 'number' || limit === 2147483647) return;
  const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
  const diff = cleanable.length - limit;
  if (diff <= 0) return;
  cleanable.sort(lowerRevisionFirst);
  for (const rs of cleanable.slice(0, diff)) {
    // Only what holds no pods and whose status is current.
    if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0) || rs.metadata.deletionTimestamp) continue;
    try {
      await ctx.client.delete(REPLICA_SETS, rs.metadata.namespace, rs.metadata.name!, { preconditions: { uid: rs.metadata.uid } });
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
  }
}

/** Status from the ReplicaSets, with the Available condition (calculateStatus). */
export function calculateStatus(allRSs: readonly MaybeReplicaSet[], newRS: MaybeReplicaSet, d: Obj): Fields {
  const available = availableReplicaCount(allRSs);
  const unavailable = Math.max(0, replicaCount(allRSs) - available);
  const status: Fields = {
    observedGeneration: d.metadata.generation,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: unavailable,
  };
  const conditions = d.status?.conditions;
  if (conditions?.length) status.conditions = conditions.map((c: Fields) => ({ ...c }));
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (available >= desiredReplicas(d) - maxUnavailable(d)) {
    setCondition(status, newCondition(AVAILABLE, 'True', REASONS.minimumReplicasAvailable, 'Deployment has minimum availability.'));
  } else {
    setCondition(status, newCondition(AVAILABLE, 'False', REASONS.minimumReplicasUnavailable, 'Deployment does not have minimum availability.'));
  }
  return status;
}

/** Writes the computed status when it differs (syncDeploymentStatus). */
export async function syncDeploymentStatus(ctx: SyncContext, state: SyncState, allRSs: readonly MaybeReplicaSet[], newRS: MaybeReplicaSet): Promise<void> {
  const status = calculateStatus(allRSs, newRS, state.d);
  if (sameStatus(state.d.status, status)) return;
  state.d.status = status;
  await updateDeploymentStatus(ctx, state);
}

/** A scale, a pause or a deletion in progress: size the ReplicaSets, no rollout (upstream's sync). */
export async function sync(ctx: SyncContext, state: SyncState): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, state, false);
  await scale(ctx, state, newRS, oldRSs);
  if (state.d.spec?.paused) await cleanupDeployment(ctx, state, oldRSs);
  const refreshed = refresh(state, [...oldRSs, newRS]);
  await syncDeploymentStatus(ctx, state, refreshed, refreshed.at(-1));
}

/** Only status, for a deployment being deleted. */
export async function syncStatusOnly(ctx: SyncContext, state: SyncState): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, state, false);
  await syncDeploymentStatus(ctx, state, [...oldRSs, newRS], newRS);
}

/** The replica count changed since the ReplicaSets were last annotated (isScalingEvent). */
export async function isScalingEvent(ctx: SyncContext, state: SyncState): Promise<boolean> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, state, false);
  for (const rs of activeReplicaSets([...oldRSs, newRS])) {
    const annotated = rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION];
    if (annotated === undefined || !/^-?\d+$/.test(annotated)) continue;
    if (Number(annotated) !== desiredReplicas(state.d)) return true;
  }
  return false;
}

/** Marks the Progressing condition paused or resumed when spec.paused changed (checkPausedConditions). */
export async function checkPausedConditions(ctx: SyncContext, state: SyncState): Promise<void> {
  const d = state.d;
  if (!hasProgressDeadline(d)) return;
  const condition = getCondition(d.status, PROGRESSING);
  if (condition?.reason === REASONS.progressDeadlineExceeded) return;
  const pausedRecorded = condition?.reason === REASONS.paused;
  d.status ??= {};
  if (d.spec?.paused && !pausedRecorded) setCondition(d.status, newCondition(PROGRESSING, 'Unknown', REASONS.paused, 'Deployment is paused'));
  else if (!d.spec?.paused && pausedRecorded) setCondition(d.status, newCondition(PROGRESSING, 'Unknown', REASONS.resumed, 'Deployment is resumed'));
  else return;
  await updateDeploymentStatus(ctx, state);
}

/** The same ReplicaSets as the sync's latest versions of them (a write returned a newer one). */
export function refresh(state: SyncState, list: readonly MaybeReplicaSet[]): MaybeReplicaSet[] {
  return list.map((rs) => (rs ? (state.rsList.find((r) => r.metadata.uid === rs.metadata.uid) ?? rs) : undefined));
}

/** Status compared as stored: zero counts and empty lists left out, as upstream's omitempty does. */
export function sameStatus(a: Fields | undefined, b: Fields | undefined): boolean {
  return jsonEqual(compactStatus(a ?? {}), compactStatus(b ?? {}));
}

const STATUS_FIELDS = ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'terminatingReplicas', 'conditions', 'collisionCount'];

/** Status in upstream's field order, zero counts left out (collisionCount, a pointer, kept at 0). */
export function compactStatus(status: Fields): Fields {
  const out: Fields = {};
  for (const field of STATUS_FIELDS) {
    const value = status[field];
    if (value === undefined || value === null) continue;
    if (field === 'conditions' ? value.length === 0 : field !== 'collisionCount' && value === 0) continue;
    out[field] = value;
  }
  return out;
}
