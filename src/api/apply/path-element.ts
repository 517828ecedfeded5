/**
 * One step of a field path, kept in its FieldsV1 spelling so it can key maps directly:
 *   f:<name>        a struct field or map entry
 *   k:<json>        a map-list item, by its key fields (sorted, compact JSON)
 *   v:<json>        a set-list item, by its value
 *   i:<index>       a list position (only read from stored FieldsV1; never produced here)
 * Key and value JSON is canonical (sorted object keys), so equal elements are equal strings.
 */

import { isPlainObject, type JsonMap } from '../object.js';
import { MemoTable } from './memo-table.js';

export type PathElement = string;

export class PathElementError extends Error {}

/**
 * Field names come from JSON.parse, which interns them (their hash is known): looking one up
 * is cheaper than building and hashing a new "f:" string for every member of every write.
 */
const fieldElements = new MemoTable<string, PathElement>(8192);

export function fieldElement(name: string): PathElement {
  let element = fieldElements.get(name);
  if (element === undefined) {
    element = `f:${name}`;
    fieldElements.set(name, element);
  }
  return element;
}

export function keyElement(key: JsonMap): PathElement {
  return `k:${canonicalJson(key)}`;
}

export function valueElement(value: unknown): PathElement {
  return `v:${canonicalJson(value)}`;
}

/** The field name of an `f:` element, else undefined. */
export function fieldNameOf(element: PathElement): string | undefined {
  return element.startsWith('f:') ? element.slice(2) : undefined;
}

/** Checks a stored element and rewrites its JSON canonically (clients may order keys freely). */
export function parsePathElement(text: string): PathElement {
  const kind = text.slice(0, 2);
  const body = text.slice(2);
  switch (kind) {
    case 'f:':
      return text;
    case 'k:': {
      const key = parseJson(body, text);
      if (!isPlainObject(key) || Object.keys(key).length === 0) {
        throw new PathElementError(`invalid path element ${JSON.stringify(text)}: a key must be a non-empty JSON object`);
      }
      return keyElement(key);
    }
    case 'v:':
      return valueElement(parseJson(body, text));
    case 'i:':
      if (!/^(0|[1-9][0-9]*)$/.test(body)) throw new PathElementError(`invalid path element ${JSON.stringify(text)}: bad index`);
      return text;
    default:
      throw new PathElementError(`invalid path element ${JSON.stringify(text)}: expected a prefix of f:, k:, v: or i:`);
  }
}

function parseJson(body: string, element: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new PathElementError(`invalid path element ${JSON.stringify(element)}: not valid JSON`);
  }
}

/** JSON with object keys sorted at every level, as Go's encoder writes maps. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length > 1) keys.sort(compareStrings);
    let text = '';
    for (const key of keys) text += `${text === '' ? '' : ','}${JSON.stringify(key)}:${canonicalJson(value[key])}`;
    return `{${text}}`;
  }
  return JSON.stringify(value ?? null);
}

const kindRank: Record<string, number> = { 'f:': 0, 'k:': 1, 'v:': 2, 'i:': 3 };

/** The order upstream sorts (and therefore serializes) path elements in. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  // Two field names (the common case) compare as their whole strings: the prefixes are equal.
  if (a.startsWith('f:') && b.startsWith('f:')) return compareStrings(a, b);
  const rankA = kindRank[a.slice(0, 2)] ?? 4;
  const rankB = kindRank[b.slice(0, 2)] ?? 4;
  if (rankA !== rankB) return rankA - rankB;
  const bodyA = a.slice(2);
  const bodyB = b.slice(2);
  switch (a.slice(0, 2)) {
    case 'f:':
      return compareStrings(bodyA, bodyB);
    case 'i:':
      return Number(bodyA) - Number(bodyB);
    default:
      return compareValues(JSON.parse(bodyA), JSON.parse(bodyB));
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function typeRank(value: unknown): number {
  if (typeof value === 'number') return 0;
  if (typeof value === 'string') return 1;
  if (typeof value === 'boolean') return 2;
  if (Array.isArray(value)) return 3;
  if (isPlainObject(value)) return 4;
  return 5;
}

/** structured-merge-diff's total order on values: numbers, strings, booleans, lists, maps, null. */
export function compareValues(a: unknown, b: unknown): number {
  const rank = typeRank(a) - typeRank(b);
  if (rank !== 0) return Math.sign(rank);
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (Array.isArray(a) && Array.isArray(b)) return compareSequences(a, b, compareValues);
  if (isPlainObject(a) && isPlainObject(b)) {
    const entries = (m: JsonMap) => Object.keys(m).sort(compareStrings).map((k): [string, unknown] => [k, m[k]]);
    return compareSequences(entries(a), entries(b), ([ka, va], [kb, vb]) => compareStrings(ka, kb) || compareValues(va, vb));
  }
  return 0;
}

function compareSequences<T>(a: readonly T[], b: readonly T[], compare: (x: T, y: T) => number): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compare(a[i] as T, b[i] as T);
    if (c !== 0) return c;
  }
  return Math.sign(a.length - b.length);
}

/** Upstream's human form of a path, used in conflict messages: `.spec.containers[name="app"].image`. */
export function describePath(path: readonly PathElement[]): string {
  return path.map(describeElement).join('');
}

function describeElement(element: PathElement): string {
  const body = element.slice(2);
  switch (element.slice(0, 2)) {
    case 'f:':
      return `.${body}`;
    case 'k:': {
      const key = JSON.parse(body) as JsonMap;
      return `[${Object.keys(key).map((k) => `${k}=${describeValue(key[k])}`).join(',')}]`;
    }
    case 'v:':
      return `[=${describeValue(JSON.parse(body))}]`;
    default:
      return `[${body}]`;
  }
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(describeValue).join(',')}]`;
  if (isPlainObject(value)) return Object.keys(value).map((k) => `${k}=${describeValue(value[k])}`).join('');
  return String(value);
}
