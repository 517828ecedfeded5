/**
 * The StatefulSet's current and update revisions (getStatefulSetRevisions): the update revision
 * is the set's template now — an equal existing revision is reused, and if it is not the newest
 * it is renumbered as the newest (that is what a rollback looks like); the current revision is
 * the one status.currentRevision names, or the update revision when there is none.
 */
import type { ApiClient, Obj } from '../../client/api-client.js';
import { STATEFUL_SETS } from '../../client/resource-types.js';
import { buildRevision, createRevision, REVISION_HASH_LABEL, renumberRevision, revisionsEqual, templateOfRevision, templatePatch, type NewRevision } from '../history.js';

export interface SetRevisions {
  current: Obj;
  update: Obj;
  collisionCount: number;
}

function revisionSpec(set: Obj, number: number): NewRevision {
  return {
    owner: set,
    ownerType: STATEFUL_SETS,
    data: templatePatch(set),
    revision: number,
    labels: { ...(set.spec?.template?.metadata?.labels ?? {}) },
    annotations: set.metadata.annotations,
    hashLabel: REVISION_HASH_LABEL,
  };
}

/** `sorted` are the set's revisions, oldest first. */
export async function statefulSetRevisions(client: ApiClient, set: Obj, sorted: readonly Obj[]): Promise<SetRevisions> {
  let collisionCount: number = set.status?.collisionCount ?? 0;
  const nextNumber = sorted.length > 0 ? (sorted[sorted.length - 1].revision ?? 0) + 1 : 1;
  const spec = revisionSpec(set, nextNumber);
  const candidate = buildRevision(spec, collisionCount);
  const equal = sorted.filter((r) => revisionsEqual(r, candidate));
  let update: Obj;
  if (equal.length > 0 && equal[equal.length - 1] === sorted[sorted.length - 1]) {
    update = sorted[sorted.length - 1];
  } else if (equal.length > 0) {
    update = await renumberRevision(client, equal[equal.length - 1], nextNumber);
  } else {
    ({ revision: update, collisionCount } = await createRevision(client, spec, collisionCount));
  }
  const current = sorted.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
  return { current, update, collisionCount };
}

/** The set as it was at `revision` (ApplyRevision: its template replaced by the revision's). */
export function applyRevision(set: Obj, revision: Obj): Obj {
  return { ...set, spec: { ...set.spec, template: templateOfRevision(revision) } };
}
