/**
 * Checks an object against its schema in one walk: the fields the schema does not declare (for
 * the fieldValidation query parameter: Strict rejects them, Warn reports them) and values of the
 * wrong JSON type (always refused, as upstream's decoder does). Paths use upstream's spelling, as
 * in `strict decoding error: unknown field "spec.template.spec.containers[0].foo"`.
 */

import { resolveSchema as resolve, type Definitions, type Schema } from './definitions.js';
import { isLazyMember } from '../object.js';

export interface TypeMismatch {
  /** e.g. "status.nodeInfo.kernelVersion" */
  path: string;
  /** The Go-ish type name of the object holding the field, e.g. "NodeSystemInfo". */
  holder: string;
  expected: string;
  actual: string;
  /** For an expected object: a Go map (free-form keys) or a struct (named properties). */
  container?: 'map' | 'struct';
}

export interface SchemaCheck {
  unknownFields: string[];
  typeMismatches: TypeMismatch[];
}

/**
 * Unknown field paths of `object` against the definition `definitionName`, sorted. Values of
 * free-form parts (maps, embedded raw objects, fields without properties) are not inspected.
 */
export function findUnknownFields(definitions: Definitions, definitionName: string, object: unknown): string[] {
  return checkAgainstSchema(definitions, definitionName, object).unknownFields;
}

/**
 * Checks `object` against the definition. With `prune`, unknown fields are also removed from
 * it, as upstream's decoder drops them (fieldValidation Warn and Ignore).
 */
export function checkAgainstSchema(definitions: Definitions, definitionName: string, object: unknown, prune = false): SchemaCheck {
  const result: SchemaCheck = { unknownFields: [], typeMismatches: [] };
  walk(definitions, { $ref: `#/definitions/${definitionName}` }, object, '', shortName(definitionName), result, prune);
  result.unknownFields.sort();
  return result;
}

function shortName(definitionName: string): string {
  return definitionName.slice(definitionName.lastIndexOf('.') + 1);
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Whether a JSON value decodes into a field of this schema (upstream's decoder rules). */
function typeMatches(schema: Schema, name: string | undefined, value: unknown): boolean {
  // Quantities and int-or-string fields take numbers and strings alike.
  if (name?.endsWith('.Quantity') || schema.format === 'int-or-string') return typeof value === 'string' || typeof value === 'number';
  switch (schema.type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && !Array.isArray(value);
    default:
      return true;
  }
}

function walk(definitions: Definitions, schema: Schema, value: unknown, path: string, holder: string, result: SchemaCheck, prune: boolean): void {
  const resolved = resolve(definitions, schema);
  // null decodes to the zero value anywhere, as in Go.
  if (!resolved || value === null || value === undefined) return;
  const { schema: target, name } = resolved;
  if (!typeMatches(target, name, value)) {
    const expected = target.type === 'integer' ? (target.format === 'int32' ? 'int32' : 'int64') : target.type === 'boolean' ? 'bool' : (target.type ?? 'object');
    const mismatch: TypeMismatch = { path, holder, expected, actual: jsonType(value) };
    if (expected === 'object') mismatch.container = target.properties ? 'struct' : 'map';
    result.typeMismatches.push(mismatch);
    return;
  }
  if (typeof value !== 'object') return;
  const innerHolder = name ? shortName(name) : holder;
  if (Array.isArray(value)) {
    if (!target.items) return;
    value.forEach((element, index) => walk(definitions, target.items!, element, `${path}[${index}]`, innerHolder, result, prune));
    return;
  }
  // A lazy member is stored text nobody changed (managedFields copied from the stored object):
  // it was checked when it was written, and reading it would parse it.
  const entries = Object.keys(value)
    .filter((key) => !isLazyMember(value, key))
    .map((key) => [key, (value as Record<string, unknown>)[key]] as const);
  if (target.properties) {
    for (const [key, child] of entries) {
      const childPath = path === '' ? key : `${path}.${key}`;
      const property = target.properties[key];
      if (property) walk(definitions, property, child, childPath, innerHolder, result, prune);
      else {
        result.unknownFields.push(childPath);
        if (prune) delete (value as Record<string, unknown>)[key];
      }
    }
  } else if (typeof target.additionalProperties === 'object') {
    for (const [key, child] of entries) {
      walk(definitions, target.additionalProperties, child, path === '' ? key : `${path}.${key}`, innerHolder, result, prune);
    }
  }
}
