/**
 * ControllerRevisions: the immutable snapshots of a StatefulSet's or DaemonSet's pod template
 * that make `kubectl rollout history|undo` work (upstream pkg/controller/history). A revision's
 * data is the strategic merge patch that puts its template back, exactly what kubectl applies
 * on undo; its name is the owner's name and a hash of that data.
 */
import { jsonEqual } from '../api/object.js';
import { ApiError } from '../api/status.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import { CONTROLLER_REVISIONS, type ResourceType } from '../client/resource-types.js';
import { newControllerRef } from './controller-ref.js';

/** The label a StatefulSet's revisions carry their hash in. */
export const REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';
/** Pods carry the revision they were made from (StatefulSet: its name; DaemonSet: its hash). */
export const POD_REVISION_LABEL = 'controller-revision-hash';

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_PREFIX = 223;

/** JSON with object keys sorted at every level (as Go's json.Marshal of a map writes it). */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value as object).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]));
  }
  return value;
}

/**
 * The patch that restores `owner`'s pod template: {"spec":{"template":{…,"$patch":"replace"}}},
 * written as Go writes it (sorted keys, the template's empty creationTimestamp as null), so that
 * kubectl, computing the same patch from the live object, sees which revision is current.
 */
export function templatePatch(owner: Obj): Obj {
  const template = structuredClone(owner.spec?.template ?? {});
  template.metadata = { creationTimestamp: null, ...(template.metadata ?? {}) };
  return canonical({ spec: { template: { ...template, $patch: 'replace' } } }) as Obj;
}

/** The pod template a revision restores. */
export function templateOfRevision(revision: Obj): Obj {
  const template = structuredClone(revision.data?.spec?.template ?? {});
  delete template.$patch;
  if (template.metadata?.creationTimestamp === null) delete template.metadata.creationTimestamp;
  return template;
}

function fnv32a(bytes: Uint8Array, hash = 0x811c9dc5): number {
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** rand.SafeEncodeString: digits mapped onto consonants and digits that spell no words. */
function safeEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += SAFE_ALPHABET[text.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** A short hash of `data` and the collision count (HashControllerRevision / ComputeHash). */
export function hashOf(data: unknown, collisionCount = 0): string {
  let hash = fnv32a(Buffer.from(JSON.stringify(canonical(data))));
  const probe = Buffer.alloc(4);
  probe.writeUInt32LE(collisionCount >>> 0);
  hash = fnv32a(probe, hash);
  return safeEncode(String(hash));
}

export function revisionName(ownerName: string, hash: string): string {
  return `${ownerName.slice(0, MAX_PREFIX)}-${hash}`;
}

/** Oldest first: by revision number, then creation, then name. */
export function sortRevisions(revisions: Obj[]): Obj[] {
  return revisions.sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0) || (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name!.localeCompare(b.metadata.name!));
}

export function revisionsEqual(a: Obj, b: Obj): boolean {
  return jsonEqual(a.data, b.data);
}

export interface NewRevision {
  owner: Obj;
  ownerType: ResourceType;
  data: Obj;
  revision: number;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** Where the hash goes as a label (besides the name). */
  hashLabel: string;
}

/** The revision object for `spec` at `collisionCount` (not yet created). */
export function buildRevision(spec: NewRevision, collisionCount: number): Obj {
  const hash = hashOf(spec.data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(spec.owner.metadata.name!, hash),
      namespace: spec.owner.metadata.namespace,
      labels: { ...spec.labels, [spec.hashLabel]: hash },
      ...(spec.annotations && Object.keys(spec.annotations).length > 0 ? { annotations: { ...spec.annotations } } : {}),
      ownerReferences: [newControllerRef(spec.owner, spec.ownerType)],
    },
    data: spec.data,
    revision: spec.revision,
  };
}

/**
 * Creates the revision; a different revision already holding the name is a hash collision, so
 * the count goes up and the name changes (CreateControllerRevision). An equal one is reused.
 */
export async function createRevision(client: ApiClient, spec: NewRevision, collisionCount: number): Promise<{ revision: Obj; collisionCount: number }> {
  for (;;) {
    const candidate = buildRevision(spec, collisionCount);
    try {
      return { revision: await client.create(CONTROLLER_REVISIONS, candidate.metadata.namespace, candidate), collisionCount };
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 409 && error.reason === 'AlreadyExists')) throw error;
      const existing = await client.get(CONTROLLER_REVISIONS, candidate.metadata.namespace, candidate.metadata.name!);
      if (revisionsEqual(existing, candidate) && existing.metadata.ownerReferences?.some((r) => r.uid === spec.owner.metadata.uid)) return { revision: existing, collisionCount };
      collisionCount++;
    }
  }
}

/** Gives an existing revision a new number (a rollback to it makes it the newest). */
export async function renumberRevision(client: ApiClient, revision: Obj, number: number): Promise<Obj> {
  if (revision.revision === number) return revision;
  return client.mutate(CONTROLLER_REVISIONS, revision.metadata.namespace, revision.metadata.name!, (current) => ({ ...current, revision: number }));
}

/**
 * Deletes the oldest revisions beyond `limit` that no live pod or status refers to
 * (truncateHistory / cleanupHistory).
 */
export async function truncateHistory(client: ApiClient, sortedRevisions: readonly Obj[], live: ReadonlySet<string>, limit: number): Promise<void> {
  const removable = sortedRevisions.filter((r) => !live.has(r.metadata.name!));
  const excess = removable.length - limit;
  for (const revision of removable.slice(0, Math.max(0, excess))) {
    try {
      await client.delete(CONTROLLER_REVISIONS, revision.metadata.namespace, revision.metadata.name!);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
  }
}
