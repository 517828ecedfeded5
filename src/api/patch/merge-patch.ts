/**
 * RFC 7386 JSON Merge Patch (application/merge-patch+json): objects merge recursively, null
 * deletes a member, anything else (arrays included) replaces the target value.
 *
 * Neither input is changed; the result shares no structure with them.
 */

import { deepCopy, isPlainObject, type JsonMap } from '../object.js';
import { guardNesting, malformedPatch } from './errors.js';
import { getMember, jsonKind, setMember } from './json-values.js';

/**
 * Applies a merge patch to a Kubernetes object. Like the apiserver, a patch that is not a JSON
 * object is rejected (400) rather than replacing the whole object.
 */
export function applyMergePatch(original: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) {
    throw malformedPatch(`Invalid JSON Patch: a merge patch must be a JSON object, got ${jsonKind(patch)}`);
  }
  return mergePatchValue(original, patch);
}

/** The RFC 7386 MergePatch(Target, Patch) function, for any JSON values. */
export function mergePatchValue(target: unknown, patch: unknown): unknown {
  return guardNesting(() => mergeInto(deepCopy(target), patch));
}

/** `target` is already a private copy and may be changed in place. */
function mergeInto(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return deepCopy(patch);
  const result: JsonMap = isPlainObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else setMember(result, key, mergeInto(getMember(result, key), value));
  }
  return result;
}
