/**
 * Checks an applied configuration the way upstream types it before merging: every map-list item
 * must carry its keys, and no list may name the same item twice (a stored object may; an
 * applied one must say what it means).
 */

import { describePath, fieldElement, type PathElement } from './path-element.js';
import { itemElement, itemKeyProblem } from './list-items.js';
import { fieldSchema, listShape, nodeKind, type ApplySchema } from './schema.js';

/** The first problem found, as `<path>: <what is wrong>`; undefined when the configuration is sound. */
export function appliedConfigProblem(config: unknown, schema: ApplySchema | undefined): string | undefined {
  return check(config, schema, []);
}

function check(value: unknown, schema: ApplySchema | undefined, path: PathElement[]): string | undefined {
  const kind = nodeKind(value, schema);
  if (kind === 'map') {
    for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
      const problem = check(child, fieldSchema(schema, name), [...path, fieldElement(name)]);
      if (problem) return problem;
    }
    return undefined;
  }
  if (kind !== 'list') return undefined;
  const shape = listShape(schema);
  const itemSchema = schema?.items();
  const seen = new Set<PathElement>();
  const items = value as unknown[];
  for (const [index, item] of items.entries()) {
    if (shape.kind === 'map') {
      const keyProblem = itemKeyProblem(item, shape.keys, itemSchema);
      if (keyProblem) return `${describePath(path)}: element ${index}: ${keyProblem}`;
    }
    const element = itemElement(item, shape, itemSchema);
    if (seen.has(element)) {
      return `${describePath(path)}: duplicate entries for key ${describePath([element])}`;
    }
    seen.add(element);
    const problem = check(item, itemSchema, [...path, element]);
    if (problem) return problem;
  }
  return undefined;
}
