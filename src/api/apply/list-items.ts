/**
 * Naming the items of a granular list: a map-list item by its key fields, a set item by its
 * value. Every walker (field sets, compare, merge, remove) names items through here.
 */

import { isPlainObject, type JsonMap } from '../object.js';
import { keyElement, valueElement, type PathElement } from './path-element.js';
import type { ApplySchema, ListShape } from './schema.js';

/**
 * The element of one item. A stored object may hold items this cannot key properly; they get
 * the key fields they do have (or their value), so they stay addressable instead of failing.
 * Applied configurations are checked strictly beforehand by itemKeyProblem().
 */
export function itemElement(item: unknown, shape: ListShape, itemSchema: ApplySchema | undefined): PathElement {
  if (shape.kind !== 'map' || !isPlainObject(item)) return valueElement(item);
  if (shape.keys.length === 1) {
    // One key field holding a scalar (a container's name, a condition's type): keyElement's text without the detour.
    const name = shape.keys[0] as string;
    const value = keyFieldValue(item, name, itemSchema);
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return `k:{${JSON.stringify(name)}:${JSON.stringify(value)}}`;
  }
  return keyElement(keyOf(item, shape.keys, itemSchema));
}

function keyOf(item: JsonMap, keys: readonly string[], itemSchema: ApplySchema | undefined): JsonMap {
  const key: JsonMap = {};
  for (const name of keys) {
    const value = keyFieldValue(item, name, itemSchema);
    if (value !== undefined) key[name] = value;
  }
  return key;
}

/**
 * Upstream's published schemas default every `protocol` list-map key (container and service
 * ports) to TCP, which is what lets manifests omit it; schemas without defaults get it here.
 */
const builtinKeyDefaults: Readonly<Record<string, unknown>> = { protocol: 'TCP' };

function keyFieldValue(item: JsonMap, name: string, itemSchema: ApplySchema | undefined): unknown {
  const value = Object.hasOwn(item, name) ? item[name] : undefined;
  if (value !== undefined && value !== null) return value;
  return itemSchema?.property(name)?.default ?? (Object.hasOwn(builtinKeyDefaults, name) ? builtinKeyDefaults[name] : undefined);
}

/** Why an applied map-list item cannot be keyed, in upstream's words; undefined when it can. */
export function itemKeyProblem(item: unknown, keys: readonly string[], itemSchema: ApplySchema | undefined): string | undefined {
  if (!isPlainObject(item)) return 'associative list with keys has an element that is not a map';
  for (const name of keys) {
    if (keyFieldValue(item, name, itemSchema) === undefined) {
      return `associative list with keys has an element that omits key field ${JSON.stringify(name)} (and doesn't have default value)`;
    }
  }
  return undefined;
}

/** Items with their elements, in list order; a repeated element keeps its first item only. */
export function indexItems(list: readonly unknown[], shape: ListShape, itemSchema: ApplySchema | undefined): Map<PathElement, unknown> {
  const byElement = new Map<PathElement, unknown>();
  for (const value of list) {
    const element = itemElement(value, shape, itemSchema);
    if (!byElement.has(element)) byElement.set(element, value);
  }
  return byElement;
}
