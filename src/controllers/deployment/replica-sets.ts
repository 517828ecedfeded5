/**
 * The arithmetic of a Deployment over its ReplicaSets (upstream's deployment/util): which one is
 * new, counts, orderings, maxSurge/maxUnavailable resolved against the replica count, and how
 * many replicas a scale hands each ReplicaSet.
 */
import type { Obj } from '../../client/api-client.js';
import { equalIgnoringHash } from './hash.js';
import { DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, revisionOf } from './annotations.js';

/** A ReplicaSet slot that may be empty (no new ReplicaSet yet), as upstream passes nil. */
export type MaybeReplicaSet = Obj | undefined;

export const specReplicas = (rs: Obj): number => rs.spec?.replicas ?? 1;
export const desiredReplicas = (d: Obj): number => d.spec?.replicas ?? 1;

export function isRollingUpdate(d: Obj): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/**
 * An int-or-percent against `total` (intstr.GetScaledValueFromIntOrPercent): an integer as is,
 * "N%" as N% of total, rounded up or down.
 */
export function scaledValue(value: number | string | undefined, total: number, roundUp: boolean): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') return value;
  const match = /^(-?\d+)%$/.exec(value);
  if (!match) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const scaled = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * maxSurge rounded up and maxUnavailable rounded down against the desired replicas; both zero
 * would never make progress, so maxUnavailable becomes 1 then (ResolveFenceposts).
 */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: Obj): number {
  if (!isRollingUpdate(d)) return 0;
  const rolling = d.spec?.strategy?.rollingUpdate ?? {};
  return resolveFenceposts(rolling.maxSurge, rolling.maxUnavailable, desiredReplicas(d)).surge;
}

export function maxUnavailable(d: Obj): number {
  const desired = desiredReplicas(d);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  const rolling = d.spec?.strategy?.rollingUpdate ?? {};
  return Math.min(desired, resolveFenceposts(rolling.maxSurge, rolling.maxUnavailable, desired).unavailable);
}

// --- counts (nil-safe, as upstream's) ---

const present = (list: readonly MaybeReplicaSet[]): Obj[] => list.filter((rs): rs is Obj => rs !== undefined);

/** Sum of spec.replicas. */
export const replicaCount = (list: readonly MaybeReplicaSet[]): number => present(list).reduce((n, rs) => n + specReplicas(rs), 0);
/** Sum of status.replicas (pods that exist). */
export const actualReplicaCount = (list: readonly MaybeReplicaSet[]): number => present(list).reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
export const readyReplicaCount = (list: readonly MaybeReplicaSet[]): number => present(list).reduce((n, rs) => n + (rs.status?.readyReplicas ?? 0), 0);
export const availableReplicaCount = (list: readonly MaybeReplicaSet[]): number => present(list).reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);

/** ReplicaSets with replicas wanted. */
export const activeReplicaSets = (list: readonly MaybeReplicaSet[]): Obj[] => present(list).filter((rs) => specReplicas(rs) > 0);

// --- orderings ---

/** Oldest first; equal times by name (ReplicaSetsByCreationTimestamp). */
export function olderFirst(a: Obj, b: Obj): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return Date.parse(ta) - Date.parse(tb) || (ta < tb ? -1 : 1);
  const na = a.metadata.name ?? '';
  const nb = b.metadata.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** Largest first; equal sizes oldest first (ReplicaSetsBySizeOlder). */
export const largerThenOlder = (a: Obj, b: Obj): number => specReplicas(b) - specReplicas(a) || olderFirst(a, b);
/** Largest first; equal sizes newest first (ReplicaSetsBySizeNewer). */
export const largerThenNewer = (a: Obj, b: Obj): number => specReplicas(b) - specReplicas(a) || olderFirst(b, a);
/** Lowest revision first; unparsable or equal revisions by age (ReplicaSetsByRevision). */
export function lowerRevisionFirst(a: Obj, b: Obj): number {
  const ra = revisionOf(a);
  const rb = revisionOf(b);
  if (ra === undefined || rb === undefined || ra === rb) return olderFirst(a, b);
  return ra - rb;
}

// --- which is new ---

/** The oldest ReplicaSet whose template is the deployment's (FindNewReplicaSet). */
export function findNewReplicaSet(d: Obj, list: readonly Obj[]): Obj | undefined {
  return [...list].sort(olderFirst).find((rs) => equalIgnoringHash(rs.spec?.template, d.spec?.template));
}

/** Every ReplicaSet but the new one. */
export function findOldReplicaSets(d: Obj, list: readonly Obj[]): Obj[] {
  const newRS = findNewReplicaSet(d, list);
  return list.filter((rs) => rs.metadata.uid !== newRS?.metadata.uid);
}

export function maxRevision(list: readonly Obj[]): number {
  let max = 0;
  for (const rs of list) {
    const revision = revisionOf(rs);
    if (revision !== undefined && revision > max) max = revision;
  }
  return max;
}

// --- how many replicas go where ---

/** Replicas the new ReplicaSet may have now (NewRSNewReplicas). */
export function newReplicaSetReplicas(d: Obj, allRSs: readonly MaybeReplicaSet[], newRS: Obj): number {
  const desired = desiredReplicas(d);
  if (!isRollingUpdate(d)) return desired;
  const surge = scaledValue(d.spec?.strategy?.rollingUpdate?.maxSurge, desired, true);
  const current = replicaCount(allRSs);
  const maxTotal = desired + surge;
  if (current >= maxTotal) return specReplicas(newRS);
  const scaleUp = Math.min(maxTotal - current, desired - specReplicas(newRS));
  return specReplicas(newRS) + scaleUp;
}

/** The new ReplicaSet has all the deployment's replicas, available (IsSaturated). */
export function isSaturated(d: Obj, rs: MaybeReplicaSet): boolean {
  if (!rs) return false;
  const annotated = rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION];
  if (annotated === undefined || !/^-?\d+$/.test(annotated)) return false;
  const desired = desiredReplicas(d);
  return specReplicas(rs) === desired && Number(annotated) === desired && (rs.status?.availableReplicas ?? 0) === desired;
}

/**
 * The one ReplicaSet holding replicas, or the newest when none does; undefined when several do
 * (then a scale is shared out proportionally) (FindActiveOrLatest).
 */
export function findActiveOrLatest(newRS: MaybeReplicaSet, oldRSs: readonly Obj[]): Obj | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => olderFirst(b, a));
  const active = activeReplicaSets([...newestFirst, newRS]);
  if (active.length === 0) return newRS ?? newestFirst[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/**
 * The share of `toAdd` (negative to remove) a ReplicaSet gets in a proportional scale: its size
 * scaled from the size recorded in its max-replicas annotation to the new maximum, bounded by
 * what is left to hand out (GetProportion).
 */
export function proportion(rs: MaybeReplicaSet, d: Obj, toAdd: number, added: number): number {
  if (!rs || specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function replicaSetFraction(rs: Obj, d: Obj): number {
  const desired = desiredReplicas(d);
  if (desired === 0) return -specReplicas(rs);
  const deploymentReplicas = desired + maxSurge(d);
  const annotated = rs.metadata.annotations?.[MAX_REPLICAS_ANNOTATION];
  const annotatedReplicas = annotated !== undefined && /^\d+$/.test(annotated) ? Number(annotated) : (d.status?.replicas ?? 0);
  const scaled = (specReplicas(rs) * deploymentReplicas) / annotatedReplicas;
  return roundHalfAwayFromZero(scaled) - specReplicas(rs);
}

/** Go's math.Round (integer.RoundToInt32): halves away from zero. */
function roundHalfAwayFromZero(value: number): number {
  if (!Number.isFinite(value)) return value > 0 ? 2147483647 : value < 0 ? -2147483648 : 0;
  return value < 0 ? -Math.round(-value) : Math.round(value);
}
