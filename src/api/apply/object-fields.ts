/**
 * The field set an object specifies (structured-merge-diff's ToFieldSet) and the widening of a
 * set to the struct fields above its members (EnsureNamedFieldsAreMembers), used when pruning.
 */

import { isPlainObject } from '../object.js';
import { FieldSet } from './field-set.js';
import { itemElement } from './list-items.js';
import { fieldElement, fieldNameOf, type PathElement } from './path-element.js';
import { fieldSchema, isNamedField, listShape, nodeKind, type ApplySchema } from './schema.js';

/**
 * Leaves (scalars, atomic values, empty maps, nulls) are members; so are list items and map
 * entries that are not declared struct fields. A struct field holding a non-empty struct is not
 * a member itself: specifying `spec.replicas` does not claim all of `spec`.
 */
export function fieldSetFromObject(object: unknown, schema: ApplySchema | undefined): FieldSet {
  const set = new FieldSet();
  collect(object, schema, [], set);
  return set;
}

function collect(value: unknown, schema: ApplySchema | undefined, path: PathElement[], set: FieldSet): void {
  switch (nodeKind(value, schema)) {
    case 'leaf':
      set.insert(path);
      return;
    case 'list': {
      const shape = listShape(schema);
      const itemSchema = schema?.items();
      for (const item of value as unknown[]) {
        const itemPath = [...path, itemElement(item, shape, itemSchema)];
        collect(item, itemSchema, itemPath, set);
        set.insert(itemPath);
      }
      return;
    }
    case 'map':
      for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
        const childPath = [...path, fieldElement(name)];
        collect(child, fieldSchema(schema, name), childPath, set);
        const emptyMap = isPlainObject(child) && Object.keys(child).length === 0;
        if (child === null || emptyMap || !isNamedField(schema, name)) set.insert(childPath);
      }
  }
}

/** Adds, as members, the declared struct fields that have members below them. */
export function ensureNamedFieldsAreMembers(set: FieldSet, schema: ApplySchema | undefined): FieldSet {
  const widened = new FieldSet();
  walk(set, schema, [], widened);
  return widened;
}

function walk(set: FieldSet, schema: ApplySchema | undefined, path: PathElement[], out: FieldSet): void {
  for (const member of set.memberElements()) out.insert([...path, member]);
  for (const element of set.childElements()) {
    const name = fieldNameOf(element);
    if (name !== undefined && isNamedField(schema, name)) out.insert([...path, element]);
    const childSchema = name !== undefined ? fieldSchema(schema, name) : schema?.items();
    walk(set.child(element) as FieldSet, childSchema, [...path, element], out);
  }
}
