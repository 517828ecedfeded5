/**
 * Removing the members of a field set from an object, each with everything below it
 * (structured-merge-diff's RemoveItems). Atomic values are never entered. A container whose
 * contents were all removed stays, empty, as upstream keeps it.
 */

import { isPlainObject, type JsonMap } from '../object.js';
import { setMember } from '../patch/json-values.js';
import type { FieldSet } from './field-set.js';
import { itemElement } from './list-items.js';
import { fieldElement } from './path-element.js';
import { fieldSchema, listShape, nodeKind, type ApplySchema } from './schema.js';

export function removeFields(value: unknown, toRemove: FieldSet, schema: ApplySchema | undefined): unknown {
  if (toRemove.isEmpty()) return value;
  const kind = nodeKind(value, schema);
  if (kind === 'map' && isPlainObject(value)) {
    const out: JsonMap = {};
    for (const [name, child] of Object.entries(value)) {
      const element = fieldElement(name);
      if (toRemove.hasMember(element)) continue;
      const below = toRemove.child(element);
      setMember(out, name, below ? removeFields(child, below, fieldSchema(schema, name)) : child);
    }
    return out;
  }
  if (kind === 'list' && Array.isArray(value)) {
    const shape = listShape(schema);
    const itemSchema = schema?.items();
    const out: unknown[] = [];
    for (const item of value) {
      const element = itemElement(item, shape, itemSchema);
      if (toRemove.hasMember(element)) continue;
      const below = toRemove.child(element);
      out.push(below ? removeFields(item, below, itemSchema) : item);
    }
    return out;
  }
  return value;
}
