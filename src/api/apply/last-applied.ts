/**
 * The bridge from client-side apply (kubectl.kubernetes.io/last-applied-configuration) to
 * server-side apply, as the apiserver does it for the manager named "kubectl" only:
 * - conflicts on fields the annotation shows kubectl applied, with the live value unchanged
 *   since, are not conflicts: `kubectl apply --server-side` takes them over (lastAppliedManager);
 * - after such an apply the annotation is rewritten to the new configuration, so a later
 *   client-side apply still diffs against the truth (lastAppliedUpdater).
 * (kubectl 1.26+ also rewrites managedFields itself before applying; that arrives as an
 * ordinary update carrying managedFields, which recordUpdate honours.)
 */

import { isPlainObject, type JsonMap, type KubeObject } from '../object.js';
import { compareObjects } from './compare.js';
import { FieldSet } from './field-set.js';
import { fieldSetFromObject } from './object-fields.js';
import { canonicalJson } from './path-element.js';
import type { ApplySchema } from './schema.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** The only manager name for which upstream performs the client-side-apply upgrade. */
export const KUBECTL_SERVER_SIDE_MANAGER = 'kubectl';

const annotationsSizeLimit = 256 * 1024;

function annotationsOf(object: unknown): JsonMap | undefined {
  const metadata = isPlainObject(object) ? object.metadata : undefined;
  const annotations = isPlainObject(metadata) ? metadata.annotations : undefined;
  return isPlainObject(annotations) ? annotations : undefined;
}

export function lastAppliedOf(object: unknown): string | undefined {
  const value = annotationsOf(object)?.[LAST_APPLIED_ANNOTATION];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Fields kubectl applied client-side whose live values still match what it applied; undefined
 * when there is no usable annotation (then no conflict is forgiven).
 */
export function fieldsOwnedByLastApplied(live: unknown, liveBody: unknown, schema: ApplySchema | undefined, apiVersion: string): FieldSet | undefined {
  const text = lastAppliedOf(live);
  if (text === undefined) return undefined;
  let lastApplied: unknown;
  try {
    lastApplied = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(lastApplied) || lastApplied.apiVersion !== apiVersion) return undefined;
  const differing = compareObjects(lastApplied, liveBody, schema);
  return fieldSetFromObject(lastApplied, schema).difference(differing.modified).difference(differing.added).difference(differing.removed);
}

/**
 * The object with its last-applied annotation replaced by `applied` (minus that annotation),
 * encoded as Go's encoder does: sorted keys, HTML-safe escapes, a trailing newline. Dropped, as
 * upstream does, when it would push the annotations over their size limit.
 */
export function withLastAppliedUpdated(object: KubeObject, applied: JsonMap): KubeObject {
  const annotations = { ...(annotationsOf(object) ?? {}) };
  annotations[LAST_APPLIED_ANNOTATION] = goJson(withoutLastApplied(applied)) + '\n';
  if (annotationsSize(annotations) > annotationsSizeLimit) delete annotations[LAST_APPLIED_ANNOTATION];
  return { ...object, metadata: { ...object.metadata, annotations: annotations as Record<string, string> } };
}

function withoutLastApplied(applied: JsonMap): JsonMap {
  const annotations = annotationsOf(applied);
  if (!annotations || !isPlainObject(applied.metadata)) return applied;
  const rest = { ...annotations };
  delete rest[LAST_APPLIED_ANNOTATION];
  return { ...applied, metadata: { ...applied.metadata, annotations: rest } };
}

function annotationsSize(annotations: JsonMap): number {
  let size = 0;
  for (const [key, value] of Object.entries(annotations)) size += key.length + (typeof value === 'string' ? value.length : 0);
  return size;
}

function goJson(value: unknown): string {
  return canonicalJson(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
