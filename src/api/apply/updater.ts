/**
 * Field ownership across managers, following structured-merge-diff's merge.Updater:
 * - an update takes every field it adds or changes from whoever owned it, silently;
 * - an apply merges its configuration into the object, owns exactly the fields it specifies,
 *   conflicts where it would change a field someone else owns, and prunes the fields it owned
 *   last time, specifies no longer, and nobody else owns;
 * - a field that disappears from the object disappears from every manager.
 * Managers are keyed by an opaque identifier (see managed-fields.ts).
 */

import { jsonEqual } from '../object.js';
import { compareObjects, type Comparison } from './compare.js';
import { FieldSet } from './field-set.js';
import { mergeObjects } from './merge.js';
import { ensureNamedFieldsAreMembers, fieldSetFromObject } from './object-fields.js';
import { removeFields } from './remove.js';
import type { ApplySchema } from './schema.js';

export interface ManagerFields {
  readonly set: FieldSet;
  readonly apiVersion: string;
  readonly applied: boolean;
}

export type Managers = ReadonlyMap<string, ManagerFields>;

export interface OwnershipContext {
  readonly schema: ApplySchema | undefined;
  readonly apiVersion: string;
  /** Fields this endpoint never changes (status on the main resource, spec on /status). */
  readonly ignored: FieldSet;
}

export type OwnershipConflicts = ReadonlyMap<string, FieldSet>;

function changesBetween(before: unknown, after: unknown, context: OwnershipContext): Comparison {
  return compareObjects(before, after, context.schema, context.ignored);
}

/** The fields each other manager owns that the change adds or modifies. */
function contestedFields(managers: Managers, self: string, changes: Comparison): Map<string, FieldSet> {
  const changed = changes.modified.union(changes.added);
  const contested = new Map<string, FieldSet>();
  for (const [id, fields] of managers) {
    if (id === self) continue;
    const taken = fields.set.intersection(changed);
    if (!taken.isEmpty()) contested.set(id, taken);
  }
  return contested;
}

/** Other managers without the contested fields and without what the change removed. */
function releaseFields(managers: Managers, self: string, contested: OwnershipConflicts, changes: Comparison): Map<string, ManagerFields> {
  const result = new Map<string, ManagerFields>();
  for (const [id, fields] of managers) {
    let set = fields.set;
    if (id !== self) set = set.difference(contested.get(id) ?? new FieldSet()).difference(changes.removed);
    if (!set.isEmpty()) result.set(id, { ...fields, set });
  }
  return result;
}

export interface RecordedChanges {
  readonly managers: Map<string, ManagerFields>;
  /** What `self` took by this change; upstream refreshes an updater's timestamp only if anything. */
  readonly gained: FieldSet;
}

/** Ownership after a create, update or non-apply patch by `self`. */
export function recordChanges(before: unknown, after: unknown, managers: Managers, self: string, context: OwnershipContext): RecordedChanges {
  const changes = changesBetween(before, after, context);
  const result = releaseFields(managers, self, contestedFields(managers, self, changes), changes);
  const gainedSet = changes.modified.union(changes.added).difference(changes.removed);
  const previous = result.get(self)?.set.difference(changes.removed) ?? new FieldSet();
  const set = previous.union(gainedSet);
  if (set.isEmpty()) result.delete(self);
  else result.set(self, { set, apiVersion: context.apiVersion, applied: false });
  return { managers: result, gained: gainedSet };
}

export type ApplyOutcome =
  | { readonly object: unknown; readonly changed: boolean; readonly managers: Map<string, ManagerFields> }
  | { readonly conflicts: OwnershipConflicts };

/** Server-side apply of `config` by `self` onto `live` (an empty object when creating). */
export function applyConfig(live: unknown, config: unknown, managers: Managers, self: string, force: boolean, context: OwnershipContext): ApplyOutcome {
  const { schema } = context;
  // Upstream merges ignored fields too and lets the registry strategy reset them; dropping them
  // here gives the same object without relying on that.
  const effectiveConfig = removeFields(config, context.ignored, schema);
  const merged = mergeObjects(live, effectiveConfig, schema);
  const lastSet = managers.get(self)?.set;
  const withConfig = new Map(managers);
  withConfig.set(self, { set: fieldSetFromObject(effectiveConfig, schema), apiVersion: context.apiVersion, applied: true });
  const object = lastSet ? prune(merged, withConfig, lastSet, schema) : merged;
  const changes = changesBetween(live, object, context);
  const contested = contestedFields(withConfig, self, changes);
  if (!force && contested.size > 0) return { conflicts: contested };
  return { object, changed: !jsonEqual(live, object), managers: releaseFields(withConfig, self, contested, changes) };
}

/**
 * Removes what the applier owned last time, specifies no longer, and no manager owns now, in
 * the three steps upstream takes: drop everything under the old set, add back what anyone owns,
 * then add back whatever the applier never owned (defaults, fields only updaters touched).
 */
function prune(merged: unknown, managers: Managers, lastSet: FieldSet, schema: ApplySchema | undefined): unknown {
  const widen = (set: FieldSet) => ensureNamedFieldsAreMembers(set, schema);
  const mergedSet = widen(fieldSetFromObject(merged, schema));

  let owned = new FieldSet();
  for (const fields of managers.values()) owned = owned.union(fields.set);
  const withoutLast = removeFields(merged, widen(lastSet), schema);
  const ownedKept = removeFields(merged, mergedSet.difference(widen(fieldSetFromObject(withoutLast, schema)).union(widen(owned))), schema);

  const keptSet = widen(fieldSetFromObject(ownedKept, schema));
  return removeFields(merged, mergedSet.difference(keptSet).intersection(widen(lastSet)), schema);
}
