/**
 * The annotations a Deployment keeps on itself and its ReplicaSets, as upstream's: the revision
 * (what `kubectl rollout history` lists and `undo` goes back to), the revisions a reused
 * ReplicaSet had before, and the desired/max replica counts proportional scaling reads.
 */
import type { Obj } from '../../client/api-client.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
const DEPRECATED_ROLLBACK_TO = 'deprecated.deployment.rollback.to';
const LAST_APPLIED_CONFIGURATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Upstream's limit on the revision-history annotation's length. */
const MAX_REVISION_HISTORY_CHARS = 2000;

/** Deployment annotations never copied onto its ReplicaSets. */
const NOT_COPIED = new Set([LAST_APPLIED_CONFIGURATION, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, DEPRECATED_ROLLBACK_TO]);

/** The revision annotation as a number; 0 when absent, undefined when unparsable. */
export function revisionOf(object: Obj): number | undefined {
  const text = object.metadata.annotations?.[REVISION_ANNOTATION];
  if (text === undefined) return 0;
  return /^-?\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * Brings a ReplicaSet's annotations up to date for being the deployment's new one (mutates `rs`,
 * says whether anything changed): the deployment's own annotations, the revision when it is
 * behind `newRevision` (keeping the old one in revision-history: a rollback reused it), and, on
 * a ReplicaSet about to be created, the replica annotations (SetNewReplicaSetAnnotations).
 */
export function setNewReplicaSetAnnotations(d: Obj, rs: Obj, newRevision: number, exists: boolean, maxSurge: number): boolean {
  let changed = copyDeploymentAnnotations(d, rs);
  const annotations: Record<string, string> = (rs.metadata.annotations ??= {});
  const oldText = annotations[REVISION_ANNOTATION];
  let oldRevision = 0;
  if (oldText !== undefined && oldText !== '') {
    if (!/^-?\d+$/.test(oldText)) return false;
    oldRevision = Number(oldText);
  }
  if (oldRevision < newRevision) {
    annotations[REVISION_ANNOTATION] = String(newRevision);
    changed = true;
    if (oldText !== undefined) appendRevisionHistory(annotations, oldText);
  }
  const desired = d.spec?.replicas ?? 1;
  if (!exists && setReplicasAnnotations(rs, desired, desired + maxSurge)) changed = true;
  return changed;
}

function appendRevisionHistory(annotations: Record<string, string>, oldRevision: string): void {
  const history = annotations[REVISION_HISTORY_ANNOTATION] ?? '';
  if (history === '') {
    annotations[REVISION_HISTORY_ANNOTATION] = oldRevision;
    return;
  }
  const revisions = history.split(',');
  let total = history.length + oldRevision.length + 1;
  let start = 0;
  while (total > MAX_REVISION_HISTORY_CHARS && start < revisions.length) total -= revisions[start++].length + 1;
  if (total <= MAX_REVISION_HISTORY_CHARS) annotations[REVISION_HISTORY_ANNOTATION] = [...revisions.slice(start), oldRevision].join(',');
}

function copyDeploymentAnnotations(d: Obj, rs: Obj): boolean {
  let changed = false;
  const target: Record<string, string> = (rs.metadata.annotations ??= {});
  for (const [key, value] of Object.entries((d.metadata.annotations ?? {}) as Record<string, string>)) {
    if (NOT_COPIED.has(key) || target[key] === value) continue;
    target[key] = value;
    changed = true;
  }
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: Obj, desired: number, max: number): boolean {
  const annotations = rs.metadata.annotations;
  return !annotations || annotations[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || annotations[MAX_REPLICAS_ANNOTATION] !== String(max);
}

/** Records the deployment's replicas and its maximum with surge on a ReplicaSet (mutates; says whether it changed). */
export function setReplicasAnnotations(rs: Obj, desired: number, max: number): boolean {
  const annotations: Record<string, string> = (rs.metadata.annotations ??= {});
  let changed = false;
  if (annotations[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    annotations[DESIRED_REPLICAS_ANNOTATION] = String(desired);
    changed = true;
  }
  if (annotations[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    annotations[MAX_REPLICAS_ANNOTATION] = String(max);
    changed = true;
  }
  return changed;
}

/** Sets the deployment's revision annotation (mutates; says whether it changed). */
export function setDeploymentRevision(d: Obj, revision: string | undefined): boolean {
  if (revision === undefined) return false;
  const annotations: Record<string, string> = (d.metadata.annotations ??= {});
  if (annotations[REVISION_ANNOTATION] === revision) return false;
  annotations[REVISION_ANNOTATION] = revision;
  return true;
}
