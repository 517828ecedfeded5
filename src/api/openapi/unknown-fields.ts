/**
 * Finds the fields of an object that its schema does not declare, for the fieldValidation
 * query parameter (Strict rejects them, Warn reports them). Paths use upstream's spelling in
 * `strict decoding error: unknown field "spec.template.spec.containers[0].foo"`.
 */

import { refName, type Definitions, type Schema } from './definitions.js';

/**
 * Unknown field paths of `object` against the definition `definitionName`, sorted. Values of
 * free-form parts (maps, embedded raw objects, fields without properties) are not inspected.
 */
export function findUnknownFields(definitions: Definitions, definitionName: string, object: unknown): string[] {
  const unknown: string[] = [];
  walk(definitions, { $ref: `#/definitions/${definitionName}` }, object, '', unknown);
  return unknown.sort();
}

function resolve(definitions: Definitions, schema: Schema): Schema | undefined {
  let current: Schema | undefined = schema;
  // Chains of refs are short in practice; the bound guards against a malformed cycle.
  for (let hops = 0; current?.$ref && hops < 16; hops++) current = definitions[refName(current.$ref)];
  return current?.$ref ? undefined : current;
}

function walk(definitions: Definitions, schema: Schema, value: unknown, path: string, unknown: string[]): void {
  const resolved = resolve(definitions, schema);
  if (!resolved || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (!resolved.items) return;
    value.forEach((element, index) => walk(definitions, resolved.items!, element, `${path}[${index}]`, unknown));
    return;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (resolved.properties) {
    for (const [key, child] of entries) {
      const childPath = path === '' ? key : `${path}.${key}`;
      const property = resolved.properties[key];
      if (property) walk(definitions, property, child, childPath, unknown);
      else unknown.push(childPath);
    }
  } else if (typeof resolved.additionalProperties === 'object') {
    for (const [key, child] of entries) {
      walk(definitions, resolved.additionalProperties, child, path === '' ? key : `${path}.${key}`, unknown);
    }
  }
}
