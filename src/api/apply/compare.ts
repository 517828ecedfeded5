/**
 * What changed between two versions of an object, as field sets (structured-merge-diff's
 * Compare): every path that appears (added, including the containers it creates), disappears
 * (removed) or holds a different leaf value (modified).
 */

import { jsonEqual } from '../object.js';
import { FieldSet } from './field-set.js';
import { indexItems } from './list-items.js';
import { fieldElement, type PathElement } from './path-element.js';
import { fieldSchema, listShape, nodeKind, type ApplySchema, type NodeKind } from './schema.js';

export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

export function compareObjects(before: unknown, after: unknown, schema: ApplySchema | undefined): Comparison {
  const result = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareNode(before, after, schema, [], result);
  return result;
}

/** The comparison without `ignored` paths and anything below them. */
export function excludeFields(comparison: Comparison, ignored: FieldSet): Comparison {
  return {
    added: comparison.added.recursiveDifference(ignored),
    modified: comparison.modified.recursiveDifference(ignored),
    removed: comparison.removed.recursiveDifference(ignored),
  };
}

function compareNode(before: unknown, after: unknown, schema: ApplySchema | undefined, path: PathElement[], out: Comparison): void {
  if (before === undefined && after === undefined) return;
  if (before === undefined) out.added.insert(path);
  if (after === undefined) out.removed.insert(path);
  const kind = sharedKind(before, after, schema);
  if (kind === 'leaf') {
    if (before !== undefined && after !== undefined && !jsonEqual(before, after)) out.modified.insert(path);
    return;
  }
  if (kind === 'map') {
    const left = (before ?? {}) as Record<string, unknown>;
    const right = (after ?? {}) as Record<string, unknown>;
    for (const name of new Set([...Object.keys(left), ...Object.keys(right)])) {
      const childBefore = Object.hasOwn(left, name) ? left[name] : undefined;
      const childAfter = Object.hasOwn(right, name) ? right[name] : undefined;
      compareNode(childBefore, childAfter, fieldSchema(schema, name), [...path, fieldElement(name)], out);
    }
    return;
  }
  const shape = listShape(schema);
  const itemSchema = schema?.items();
  const left = indexItems((before ?? []) as unknown[], shape, itemSchema);
  const right = indexItems((after ?? []) as unknown[], shape, itemSchema);
  for (const element of new Set([...left.keys(), ...right.keys()])) {
    compareNode(left.get(element), right.get(element), itemSchema, [...path, element], out);
  }
}

/** Two present values of different shapes compare as leaves: one replaced the other. */
function sharedKind(before: unknown, after: unknown, schema: ApplySchema | undefined): NodeKind {
  if (before === undefined) return nodeKind(after, schema);
  if (after === undefined) return nodeKind(before, schema);
  const kind = nodeKind(before, schema);
  return kind === nodeKind(after, schema) ? kind : 'leaf';
}
