/**
 * Kubernetes strategic merge patch (application/strategic-merge-patch+json), applied the way
 * k8s.io/apimachinery/pkg/util/strategicpatch applies it on the server.
 *
 * The schema decides how lists combine: a list whose field has patchStrategy "merge" is merged
 * element by element (by patchMergeKey for objects, as a set for primitives); every other list,
 * and every field the schema does not know, is replaced. Maps merge recursively; null deletes.
 * x-kubernetes-list-type is not consulted: upstream's strategic merge reads only the patch
 * strategy and merge key (list types belong to server-side apply).
 *
 * Directives:
 *   $patch: replace | delete      on a map: use the patch map as is / clear the map
 *   {$patch: delete, <key>: v}    in a merge list: remove the elements with that merge key
 *   {$patch: replace}             in a merge list: the list becomes the patch's other elements
 *   $retainKeys: [...]            drop the map's fields not listed
 *   $deleteFromPrimitiveList/<f>  remove these values from primitive list <f>
 *   $setElementOrder/<f>          the order of merge list <f> after merging
 * `$patch: merge` is rejected, as upstream does.
 *
 * Neither input is changed; the result shares no structure with them. Values the patch brings in
 * without a counterpart in the original are stripped of nulls and directives, which is what the
 * apiserver's decode into typed objects does to them.
 */

import { deepCopy, isPlainObject, type JsonMap } from '../object.js';
import { guardNesting, inapplicablePatch, malformedPatch } from './errors.js';
import { getMember, hasMember, jsonKind, setMember } from './json-values.js';
import type { PatchSchema } from './schema.js';

const PATCH_DIRECTIVE = '$patch';
const RETAIN_KEYS_DIRECTIVE = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST_PREFIX = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER_PREFIX = '$setElementOrder';

// Upstream's error texts, kept so clients and people recognise them.
const BAD_RETAIN_KEYS = 'invalid patch format of retainKeys';
const BAD_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const BAD_SET_ELEMENT_ORDER = 'invalid patch format of setElementOrder list';

export function applyStrategicMergePatch(original: unknown, patch: unknown, schema: PatchSchema | undefined): unknown {
  if (!isPlainObject(patch)) {
    throw malformedPatch(`a strategic merge patch must be a JSON object, got ${jsonKind(patch)}`);
  }
  return guardNesting(() => mergeMap(isPlainObject(original) ? deepCopy(original) : {}, patch, schema));
}

interface FieldStrategy {
  readonly merge: boolean;
  readonly replace: boolean;
  readonly mergeKey: string | undefined;
}

function strategyOf(schema: PatchSchema | undefined): FieldStrategy {
  const strategies = (schema?.patchStrategy ?? '').split(',').map((s) => s.trim());
  return {
    merge: strategies.includes('merge'),
    replace: strategies.includes('replace'),
    mergeKey: schema?.patchMergeKey || undefined,
  };
}

function fieldSchema(schema: PatchSchema | undefined, key: string): PatchSchema | undefined {
  return schema?.property(key) ?? schema?.additionalProperties();
}

/** `original` is a private copy and is changed in place; `patch` is only read. */
function mergeMap(original: JsonMap, patch: JsonMap, schema: PatchSchema | undefined): JsonMap {
  if (hasMember(patch, PATCH_DIRECTIVE)) return applyMapDirective(patch);

  applyRetainKeys(original, patch);
  const ordered = applyElementOrders(original, patch, schema);

  for (const [key, patchValue] of Object.entries(patch)) {
    if (ordered.has(key) || key === RETAIN_KEYS_DIRECTIVE || key.startsWith(SET_ELEMENT_ORDER_PREFIX)) continue;
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)) {
      deleteFromPrimitiveList(original, key, patchValue);
      continue;
    }
    if (patchValue === null) {
      delete original[key];
      continue;
    }
    if (!hasMember(original, key)) {
      setFresh(original, key, patchValue);
      continue;
    }
    const current = getMember(original, key);
    const subschema = fieldSchema(schema, key);
    const strategy = strategyOf(subschema);
    if (isPlainObject(current) && isPlainObject(patchValue)) {
      setMember(original, key, strategy.replace ? freshMembers(patchValue) : mergeMap(current, patchValue, subschema));
    } else if (Array.isArray(current) && Array.isArray(patchValue) && strategy.merge) {
      setMember(original, key, mergeList(current, patchValue, subschema, key).merged);
    } else {
      setFresh(original, key, patchValue);
    }
  }
  return original;
}

function applyMapDirective(patch: JsonMap): JsonMap {
  const directive = getMember(patch, PATCH_DIRECTIVE);
  if (directive === 'delete') return {};
  if (directive === 'replace') return freshMembers(patch);
  throw inapplicablePatch(`unknown patch type: ${describe(directive)} in map: ${describe(patch)}`);
}

function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  if (!hasMember(patch, RETAIN_KEYS_DIRECTIVE)) return;
  const retained = getMember(patch, RETAIN_KEYS_DIRECTIVE);
  if (!Array.isArray(retained)) {
    throw malformedPatch(`${BAD_RETAIN_KEYS}: ${RETAIN_KEYS_DIRECTIVE} must be a list, got ${jsonKind(retained)}`);
  }
  const keep = new Set<unknown>(retained);
  for (const [key, value] of Object.entries(patch)) {
    if (key === RETAIN_KEYS_DIRECTIVE || value === null || isParallelListKey(key)) continue;
    if (!keep.has(key)) {
      throw malformedPatch(
        `${BAD_RETAIN_KEYS}: field "${key}" is set by the patch but missing from ${RETAIN_KEYS_DIRECTIVE}`,
      );
    }
  }
  for (const key of Object.keys(original)) {
    if (!keep.has(key)) delete original[key];
  }
}

function isParallelListKey(key: string): boolean {
  return key.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX) || key.startsWith(SET_ELEMENT_ORDER_PREFIX);
}

/** "$setElementOrder/containers" → "containers"; the format is checked strictly, as upstream does. */
function parallelListField(key: string, prefix: string, formatError: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw malformedPatch(`${formatError}: "${key}" is not of the form "${prefix}/<field>"`);
  }
  return key.slice(slash + 1);
}

function deleteFromPrimitiveList(original: JsonMap, key: string, values: unknown): void {
  const field = parallelListField(key, DELETE_FROM_PRIMITIVE_LIST_PREFIX, BAD_PRIMITIVE_LIST);
  if (!Array.isArray(values) || !values.every(isPrimitive)) {
    throw malformedPatch(`${BAD_PRIMITIVE_LIST}: "${key}" must be a list of primitive values`);
  }
  const current = getMember(original, field);
  if (!Array.isArray(current)) return;
  const doomed = new Set<unknown>(values);
  setMember(original, field, current.filter((item) => !doomed.has(item)));
}

/**
 * Merges, then orders, every list named by a $setElementOrder directive. Precedence of order:
 * the directive, then the patch list, then the live list. Returns the fields it handled.
 */
function applyElementOrders(original: JsonMap, patch: JsonMap, schema: PatchSchema | undefined): Set<string> {
  const handled = new Set<string>();
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER_PREFIX)) continue;
    const field = parallelListField(key, SET_ELEMENT_ORDER_PREFIX, BAD_SET_ELEMENT_ORDER);
    if (!Array.isArray(order)) {
      throw malformedPatch(`${BAD_SET_ELEMENT_ORDER}: "${key}" must be a list, got ${jsonKind(order)}`);
    }
    const live = listMember(original, field);
    const patched = listMember(patch, field);
    const subschema = fieldSchema(schema, field);
    const strategy = strategyOf(subschema);
    handled.add(field);
    if (live === undefined && patched === undefined) continue;
    if (!strategy.merge) {
      // Only merge lists have an element order to set; any other list is simply replaced.
      if (patched !== undefined) setFresh(original, field, patched);
      continue;
    }
    if (patched !== undefined) checkOrderMatchesPatch(patched, order, strategy.mergeKey);

    let merged: unknown[];
    let liveOrder: unknown[];
    if (live === undefined) {
      merged = fresh(patched).kept as unknown[];
      liveOrder = [];
    } else if (patched === undefined) {
      merged = live;
      liveOrder = live;
    } else {
      const result = mergeList(live, patched, subschema, field);
      merged = result.merged;
      liveOrder = result.liveOrder;
    }
    const identity = identityOf(strategy.mergeKey);
    const wanted = new Set(order.map((item) => identity(item, 'the $setElementOrder list')));
    const inOrder = merged.filter((item) => wanted.has(identity(item)));
    const serverOnly = merged.filter((item) => !wanted.has(identity(item)));
    setMember(original, field, interleave(serverOnly, inOrder, order, liveOrder, identity));
  }
  return handled;
}

function listMember(object: JsonMap, field: string): unknown[] | undefined {
  if (!hasMember(object, field)) return undefined;
  const value = getMember(object, field);
  if (!Array.isArray(value)) {
    throw inapplicablePatch(
      `${SET_ELEMENT_ORDER_PREFIX}/${field} refers to "${field}", which is a ${jsonKind(value)}, not a list`,
    );
  }
  return value;
}

/**
 * The patch list's elements (deletions and other directive elements aside) must appear in the
 * $setElementOrder list, in the same relative order.
 */
function checkOrderMatchesPatch(patched: unknown[], order: unknown[], mergeKey: string | undefined): void {
  const elements = patched.filter((item) => !(isPlainObject(item) && hasMember(item, PATCH_DIRECTIVE)));
  const identity = identityOf(mergeKey);
  let next = 0;
  for (const wanted of order) {
    const wantedKey = identity(wanted, 'the $setElementOrder list');
    if (next < elements.length && identity(elements[next], 'the patch list') === wantedKey) next++;
  }
  if (next < elements.length) {
    throw inapplicablePatch(
      `the order in patch list:\n${describe(patched)}\n doesn't match ` +
        `${SET_ELEMENT_ORDER_PREFIX} list:\n${describe(order)}`,
    );
  }
}

interface MergedList {
  readonly merged: unknown[];
  /**
   * The live order that $setElementOrder interleaves server-only elements against: the live list
   * after deletions, then as many appended elements as there were deletions. Upstream appends into
   * the live list's own storage, so new elements become visible there only in the slots that
   * deletions freed; kubectl apply results (e.g. replacing one container while another was added
   * server-side) depend on that, so it is reproduced.
   */
  readonly liveOrder: unknown[];
}

function mergeList(live: unknown[], patched: unknown[], schema: PatchSchema | undefined, field: string): MergedList {
  if (live.length === 0 && patched.length === 0) return { merged: [], liveOrder: [] };
  const kind = commonElementKind(live, patched, field);
  if (kind !== 'object') {
    const merged = [...new Set([...live, ...patched])];
    return { merged: orderMerged(merged, patched, live, identityOf(undefined)), liveOrder: live };
  }

  const { mergeKey } = strategyOf(schema);
  if (!mergeKey) throw inapplicablePatch(`cannot merge lists without merge key for "${field}"`);
  const identity = identityOf(mergeKey);
  const elementSchema = schema?.items();

  let remaining = live as JsonMap[];
  let replaceAll = false;
  const elements: JsonMap[] = [];
  for (const element of patched as JsonMap[]) {
    if (!hasMember(element, PATCH_DIRECTIVE)) {
      elements.push(element);
      continue;
    }
    const directive = getMember(element, PATCH_DIRECTIVE);
    if (directive === 'delete') {
      const doomed = identity(element, 'a $patch: delete element');
      remaining = remaining.filter((item) => identity(item) !== doomed);
    } else if (directive === 'replace') {
      replaceAll = true;
    } else if (directive === 'merge') {
      throw inapplicablePatch('merging lists cannot yet be specified in the patch');
    } else {
      throw inapplicablePatch(`unknown patch type: ${describe(directive)} in map: ${describe(element)}`);
    }
  }

  if (replaceAll) {
    const merged = fresh(elements).kept as unknown[];
    merged.forEach((item) => identity(item, `"${field}"`));
    return { merged, liveOrder: live };
  }

  const deletions = live.length - remaining.length;
  const merged: unknown[] = [...remaining];
  const appended: unknown[] = [];
  for (const element of elements) {
    const key = identity(element, 'the patch list');
    const index = merged.findIndex((item) => identity(item) === key);
    if (index >= 0) {
      merged[index] = mergeMap(merged[index] as JsonMap, element, elementSchema);
    } else {
      const added = fresh(element).kept;
      merged.push(added);
      appended.push(added);
    }
  }
  merged.forEach((item) => identity(item, `"${field}"`));
  return {
    merged: orderMerged(merged, elements, remaining, identity),
    liveOrder: [...remaining, ...appended.slice(0, deletions)],
  };
}

/** Elements named in the patch take the patch's order; the others keep the live order. */
function orderMerged(merged: unknown[], patchOrder: unknown[], liveOrder: unknown[], identity: Identity): unknown[] {
  const named = new Set(patchOrder.map((item) => identity(item)));
  const fromPatch = merged.filter((item) => named.has(identity(item)));
  const serverOnly = merged.filter((item) => !named.has(identity(item)));
  return interleave(serverOnly, fromPatch, patchOrder, liveOrder, identity);
}

/**
 * Upstream's merge of the two groups: each group is sorted by its own reference order, then they
 * are zipped, taking a server-only element first only when the live order puts it before the
 * next patch element (a patch element absent from the live order goes first).
 */
function interleave(
  serverOnly: unknown[],
  fromPatch: unknown[],
  patchOrder: unknown[],
  liveOrder: unknown[],
  identity: Identity,
): unknown[] {
  const patchIndex = firstIndexes(patchOrder, identity);
  const liveIndex = firstIndexes(liveOrder, identity);
  const byIndex = (index: Map<unknown, number>) => (a: unknown, b: unknown) =>
    (index.get(identity(a)) ?? 0) - (index.get(identity(b)) ?? 0);
  const left = [...serverOnly].sort(byIndex(liveIndex));
  const right = [...fromPatch].sort(byIndex(patchIndex));

  const result: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (j >= right.length) result.push(left[i++]);
    else if (i >= left.length) result.push(right[j++]);
    else {
      const leftAt = liveIndex.get(identity(left[i]));
      const rightAt = liveIndex.get(identity(right[j]));
      if (leftAt !== undefined && rightAt !== undefined && leftAt < rightAt) result.push(left[i++]);
      else result.push(right[j++]);
    }
  }
  return result;
}

function firstIndexes(list: unknown[], identity: Identity): Map<unknown, number> {
  const indexes = new Map<unknown, number>();
  list.forEach((item, index) => {
    const key = identity(item);
    if (!indexes.has(key)) indexes.set(key, index);
  });
  return indexes;
}

/**
 * What identifies a list element: its merge key's value for objects, itself for primitives.
 * Given `where`, an object element without the merge key is an error naming that place.
 */
type Identity = (item: unknown, where?: string) => unknown;

function identityOf(mergeKey: string | undefined): Identity {
  if (mergeKey === undefined) return (item) => item;
  return (item, where) => {
    if (isPlainObject(item) && hasMember(item, mergeKey)) return getMember(item, mergeKey);
    if (where !== undefined) {
      throw inapplicablePatch(`map: ${describe(item)} does not contain declared merge key: ${mergeKey} (in ${where})`);
    }
    return undefined;
  };
}

type ElementKind = 'primitive' | 'object';

/** Merged lists hold only objects or only primitives of one type, as upstream requires. */
function commonElementKind(live: unknown[], patched: unknown[], field: string): ElementKind {
  let seen: string | undefined;
  for (const item of [...live, ...patched]) {
    const kind = jsonKind(item);
    if (kind === 'array') throw inapplicablePatch(`lists of lists are not supported (in "${field}")`);
    if (kind === 'null') throw inapplicablePatch(`null is not a valid element of the merge list "${field}"`);
    if (seen !== undefined && kind !== seen) {
      throw inapplicablePatch(`list element types are not identical in "${field}": ${seen} and ${kind}`);
    }
    seen = kind;
  }
  return seen === 'object' ? 'object' : 'primitive';
}

function isPrimitive(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}

function setFresh(target: JsonMap, key: string, value: unknown): void {
  const { keep, kept } = fresh(value);
  if (keep) setMember(target, key, kept);
  else delete target[key];
}

/**
 * A patch value that has no counterpart in the original, as it ends up stored: nulls dropped
 * from maps, directive keys removed, and maps carrying $patch dropped altogether (upstream's
 * removeDirectives). Always a new value.
 */
function fresh(value: unknown): { keep: boolean; kept?: unknown } {
  if (Array.isArray(value)) {
    const kept: unknown[] = [];
    for (const item of value) {
      const result = fresh(item);
      if (result.keep) kept.push(result.kept);
    }
    return { keep: true, kept };
  }
  if (isPlainObject(value)) {
    return hasMember(value, PATCH_DIRECTIVE) ? { keep: false } : { keep: true, kept: freshMembers(value) };
  }
  return { keep: true, kept: value };
}

/** The map's members made fresh, its own directives removed. */
function freshMembers(map: JsonMap): JsonMap {
  const kept: JsonMap = {};
  for (const [key, member] of Object.entries(map)) {
    if (member === null || key === PATCH_DIRECTIVE || key === RETAIN_KEYS_DIRECTIVE || isParallelListKey(key)) continue;
    const result = fresh(member);
    if (result.keep) setMember(kept, key, result.kept);
  }
  return kept;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
