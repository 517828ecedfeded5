/**
 * What changed between two versions of an object, as field sets (structured-merge-diff's
 * Compare): every path that appears (added, including the containers it creates), disappears
 * (removed) or holds a different leaf value (modified).
 */

import { isPlainObject, jsonEqual } from '../object.js';
import { MemoTable } from './memo-table.js';
import { FieldSet } from './field-set.js';
import { indexItems } from './list-items.js';
import { fieldElement, type PathElement } from './path-element.js';
import { fieldSchema, listShape, nodeKind, type ApplySchema, type NodeKind } from './schema.js';

export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

/**
 * `ignored` paths, and everything below them, are left out (as excludeFields would drop them
 * afterwards), without walking them.
 */
export function compareObjects(before: unknown, after: unknown, schema: ApplySchema | undefined, ignored?: FieldSet): Comparison {
  const result = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  // The root itself is no path: only what lies below it can be added, removed or modified.
  const kind = sharedKind(before, after, schema);
  if (kind === 'leaf' || (before === undefined && after === undefined)) return result;
  const creation = kind === 'map' && isPlainObject(before) && Object.keys(before).length === 0 && isPlainObject(after);
  if (creation) {
    const known = knownCreation('map', after, schema, ignored);
    if (known) return { ...result, added: known };
  }
  compareChildren(kind, before, after, schema, result, ignored);
  if (creation) rememberCreation(result.added, schema, ignored);
  return result;
}

/**
 * What a create adds (a comparison from an empty object) depends on the new object's shape
 * only: its member names, list item keys and which values are containers; so does what any
 * value adds below itself where there was none (a pod's first status, a new container). Objects
 * of one template share it, so the sets the last such values added are tried first. A candidate is taken
 * only if every path of the new object is in it and it has no others: the same set, already
 * encoded (FieldSet keeps its text), for a walk that inserts nothing.
 */
interface Creation {
  readonly added: FieldSet;
  readonly paths: number;
}

const CREATIONS_TRIED = 2;
const NO_SCHEMA = {};
const creations = new MemoTable<object, Map<FieldSet | undefined, Creation[]>>(256);

function knownCreation(kind: 'map' | 'list', after: unknown, schema: ApplySchema | undefined, ignored: FieldSet | undefined): FieldSet | undefined {
  for (const creation of creations.get(schema ?? NO_SCHEMA)?.get(ignored) ?? []) {
    if (pathsFoundIn(creation.added, kind, after, schema, ignored) === creation.paths) return creation.added;
  }
  return undefined;
}

function rememberCreation(added: FieldSet, schema: ApplySchema | undefined, ignored: FieldSet | undefined): void {
  let byIgnored = creations.get(schema ?? NO_SCHEMA);
  if (byIgnored === undefined) {
    byIgnored = new Map();
    creations.set(schema ?? NO_SCHEMA, byIgnored);
  }
  // Reset-field sets are one per endpoint (field-manager.ts): this map stays small.
  if (!byIgnored.has(ignored) && byIgnored.size >= 16) byIgnored.clear();
  const recent = [{ added, paths: added.pathCount() }, ...(byIgnored.get(ignored) ?? [])].slice(0, CREATIONS_TRIED);
  byIgnored.set(ignored, recent);
}

/**
 * How many paths below `value` compareChildren would add from nothing, if each of them is in
 * `node`; -1 at the first that is not. The same walk, in the same order, as compareChildren.
 */
function pathsFoundIn(node: FieldSet | undefined, kind: 'map' | 'list', value: unknown, schema: ApplySchema | undefined, ignored: FieldSet | undefined): number {
  let found = 0;
  const child = (element: PathElement, childValue: unknown, childSchema: ApplySchema | undefined): boolean => {
    if (ignored?.hasMember(element) || childValue === undefined) return true;
    if (!node?.hasMember(element)) return false;
    found++;
    const childKind = nodeKind(childValue, childSchema);
    if (childKind === 'leaf') return true;
    const below = pathsFoundIn(node.child(element), childKind, childValue, childSchema, ignored?.child(element));
    found += below;
    return below >= 0;
  };
  if (kind === 'map') {
    const members = value as Record<string, unknown>;
    for (const name of Object.keys(members)) if (!child(fieldElement(name), members[name], fieldSchema(schema, name))) return -1;
    return found;
  }
  const itemSchema = schema?.items();
  for (const [element, item] of indexItems(value as unknown[], listShape(schema), itemSchema)) if (!child(element, item, itemSchema)) return -1;
  return found;
}

/** The comparison without `ignored` paths and anything below them. */
export function excludeFields(comparison: Comparison, ignored: FieldSet): Comparison {
  return {
    added: comparison.added.recursiveDifference(ignored),
    modified: comparison.modified.recursiveDifference(ignored),
    removed: comparison.removed.recursiveDifference(ignored),
  };
}

/**
 * The three sets' nodes below one element, made only when something is recorded below it, so
 * the sets are built where the walk is instead of inserting each path from the root.
 */
class NodesBelow implements Comparison {
  private addedNode?: FieldSet;
  private modifiedNode?: FieldSet;
  private removedNode?: FieldSet;

  constructor(
    private readonly above: Comparison,
    private readonly element: PathElement,
  ) {}

  get added(): FieldSet {
    return (this.addedNode ??= this.above.added.childForInsert(this.element));
  }

  get modified(): FieldSet {
    return (this.modifiedNode ??= this.above.modified.childForInsert(this.element));
  }

  get removed(): FieldSet {
    return (this.removedNode ??= this.above.removed.childForInsert(this.element));
  }
}

/** Compares the value at `element` below the nodes `out`; its own path is `element` in them. */
function compareMember(element: PathElement, before: unknown, after: unknown, schema: ApplySchema | undefined, out: Comparison, ignored: FieldSet | undefined): void {
  if (before === undefined && after === undefined) return;
  if (before === undefined) out.added.insertMember(element);
  if (after === undefined) out.removed.insertMember(element);
  const kind = sharedKind(before, after, schema);
  if (kind === 'leaf') {
    if (before !== undefined && after !== undefined && !jsonEqual(before, after)) out.modified.insertMember(element);
    return;
  }
  if (before === undefined) {
    // A new value: everything below it is added, and nothing else changes there.
    const known = knownCreation(kind, after, schema, ignored);
    if (known) {
      out.added.adoptChild(element, known);
      return;
    }
    compareChildren(kind, before, after, schema, new NodesBelow(out, element), ignored);
    const added = out.added.child(element);
    if (added) rememberCreation(added, schema, ignored);
    return;
  }
  // Most of an object is as it was: an equal subtree adds, removes and modifies nothing.
  if (before !== undefined && after !== undefined && unchanged(before, after)) return;
  compareChildren(kind, before, after, schema, new NodesBelow(out, element), ignored);
}

/**
 * Deep equality on own members (an undefined member counts as absent), stricter than jsonEqual:
 * when it holds, compareChildren would find no difference below.
 */
function unchanged(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!unchanged(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  let members = 0;
  for (const name of Object.keys(left)) {
    const value = left[name];
    if (value === undefined) continue;
    if (!Object.hasOwn(right, name) || !unchanged(value, right[name])) return false;
    members++;
  }
  for (const name of Object.keys(right)) if (right[name] !== undefined) members--;
  return members === 0;
}

function compareChildren(kind: 'map' | 'list', before: unknown, after: unknown, schema: ApplySchema | undefined, out: Comparison, ignored: FieldSet | undefined): void {
  const child = (element: PathElement, childBefore: unknown, childAfter: unknown, childSchema: ApplySchema | undefined) => {
    if (ignored?.hasMember(element)) return;
    compareMember(element, childBefore, childAfter, childSchema, out, ignored?.child(element));
  };
  if (kind === 'map') {
    const left = (before ?? {}) as Record<string, unknown>;
    const right = (after ?? {}) as Record<string, unknown>;
    // Every name of either side once, left's first: the order a Set of both key lists has.
    for (const name of Object.keys(left)) child(fieldElement(name), left[name], Object.hasOwn(right, name) ? right[name] : undefined, fieldSchema(schema, name));
    for (const name of Object.keys(right)) {
      if (!Object.hasOwn(left, name)) child(fieldElement(name), undefined, right[name], fieldSchema(schema, name));
    }
    return;
  }
  const shape = listShape(schema);
  const itemSchema = schema?.items();
  const left = indexItems((before ?? []) as unknown[], shape, itemSchema);
  const right = indexItems((after ?? []) as unknown[], shape, itemSchema);
  for (const [element, item] of left) child(element, item, right.get(element), itemSchema);
  for (const [element, item] of right) if (!left.has(element)) child(element, undefined, item, itemSchema);
}

/** Two present values of different shapes compare as leaves: one replaced the other. */
function sharedKind(before: unknown, after: unknown, schema: ApplySchema | undefined): NodeKind {
  if (before === undefined) return nodeKind(after, schema);
  if (after === undefined) return nodeKind(before, schema);
  const kind = nodeKind(before, schema);
  return kind === nodeKind(after, schema) ? kind : 'leaf';
}
