/** The three non-apply patch types, dispatched by their media type's format. */
import { errors } from '../status.js';
import { isPlainObject } from '../object.js';
import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';
import { applyStrategicMergePatch } from './strategic-merge.js';
import type { PatchSchema } from './schema.js';

export type PatchFormat = 'json-patch' | 'merge-patch' | 'strategic-merge-patch';

/** Applies `patch` to `current` (not modified) and returns the patched object. */
export function applyPatch<T extends Record<string, unknown>>(format: PatchFormat, current: T, patch: unknown, schema: PatchSchema | undefined): T {
  let result: unknown;
  if (format === 'json-patch') result = applyJsonPatch(current, patch);
  else if (format === 'merge-patch') result = applyMergePatch(current, patch);
  else result = applyStrategicMergePatch(current, patch, schema);
  if (!isPlainObject(result)) throw errors.badRequest('the patch did not produce an object');
  return result as T;
}
