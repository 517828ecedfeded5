/**
 * How server-side apply reads a type's schema. ApplySchema is the PatchSchema shape of
 * src/api/patch/schema.ts plus two optional facts only apply needs, so every PatchSchema is an
 * ApplySchema. A missing schema (unknown field, schemaless custom resource) behaves like
 * structured-merge-diff's "deduced" type: objects are granular maps, lists are atomic.
 */

import { isPlainObject } from '../object.js';
import type { PatchSchema } from '../patch/schema.js';

export interface ApplySchema extends PatchSchema {
  property(name: string): ApplySchema | undefined;
  items(): ApplySchema | undefined;
  additionalProperties(): ApplySchema | undefined;
  /** x-kubernetes-map-type: an atomic map or struct is owned, compared and replaced as one value. */
  readonly mapType?: 'atomic' | 'granular';
  /** OpenAPI default; fills a list-map key an item omits (ports[].protocol defaults to "TCP"). */
  readonly default?: unknown;
}

export type ListShape =
  | { readonly kind: 'atomic' }
  | { readonly kind: 'set' }
  | { readonly kind: 'map'; readonly keys: readonly string[] };

const ATOMIC: ListShape = { kind: 'atomic' };
const SET: ListShape = { kind: 'set' };

export function listShape(schema: ApplySchema | undefined): ListShape {
  if (!schema) return ATOMIC;
  const keys = schema.listMapKeys?.length ? schema.listMapKeys : schema.patchMergeKey ? [schema.patchMergeKey] : undefined;
  switch (schema.listType) {
    case 'atomic':
      return ATOMIC;
    case 'set':
      return SET;
    case 'map':
      return keys ? { kind: 'map', keys } : ATOMIC;
  }
  // Without x-kubernetes-list-type, upstream's OpenAPI converter derives the shape from the
  // strategic-merge tags: merge with a key is a map list, merge without one a set.
  if (schema.patchStrategy?.split(',').includes('merge')) return keys ? { kind: 'map', keys } : SET;
  return ATOMIC;
}

/** Declared struct fields are "named"; map entries (labels, data, …) and unknown keys are not. */
export function isNamedField(schema: ApplySchema | undefined, name: string): boolean {
  return schema?.property(name) !== undefined;
}

export function fieldSchema(schema: ApplySchema | undefined, name: string): ApplySchema | undefined {
  return schema?.property(name) ?? schema?.additionalProperties();
}

/** How a value is handled: a leaf is owned and compared whole; maps and lists own their members. */
export type NodeKind = 'leaf' | 'map' | 'list';

export function nodeKind(value: unknown, schema: ApplySchema | undefined): NodeKind {
  if (Array.isArray(value)) return listShape(schema).kind === 'atomic' ? 'leaf' : 'list';
  if (isPlainObject(value)) return schema?.mapType === 'atomic' ? 'leaf' : 'map';
  return 'leaf';
}
