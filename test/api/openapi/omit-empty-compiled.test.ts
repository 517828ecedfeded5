/**
 * The compiled omit-empty walker (dropOmittedValues) against the schema-interpreting reference
 * (dropOmittedValuesInterpreted): for objects generated from every top-level definition, full of
 * empty strings, lists, maps, nulls, pointer strings, opaque members, unknown and prototype-named
 * keys, both leave exactly the same object (same members, same order). A lazy member is left
 * unparsed.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGeneratedDefinitions, resolveSchema, type Schema } from '../../../src/api/openapi/definitions.js';
import { dropOmittedValues, dropOmittedValuesInterpreted, POINTER_STRINGS } from '../../../src/api/openapi/omit-empty.js';
import { defineLazyJsonMember, isLazyMember, lazyJsonText } from '../../../src/api/object.js';

const { definitions } = loadGeneratedDefinitions();

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_KEYS = ['constructor', 'toString', 'hasOwnProperty', 'unknownField', '__proto__'];

function generate(schema: Schema, random: () => number, depth: number): unknown {
  const pick = random();
  if (pick < 0.08) return null;
  const resolved = resolveSchema(definitions, schema);
  const target = resolved?.schema ?? {};
  if (depth > 6) return pick < 0.5 ? '' : [];
  if (target.type === 'array' || target.items) {
    if (pick < 0.3) return [];
    const length = 1 + Math.floor(random() * 2);
    return Array.from({ length }, () => generate(target.items ?? {}, random, depth + 1));
  }
  if (target.properties) {
    if (pick < 0.12) return {};
    const object: Record<string, unknown> = {};
    for (const key of Object.keys(target.properties)) {
      if (random() < 0.55) continue;
      object[key] = generate(target.properties[key]!, random, depth + 1);
    }
    if (random() < 0.15) {
      const key = ODD_KEYS[Math.floor(random() * ODD_KEYS.length)]!;
      Object.defineProperty(object, key, { value: random() < 0.5 ? null : random() < 0.5 ? '' : { inner: '' }, enumerable: true, writable: true, configurable: true });
    }
    return object;
  }
  if (typeof target.additionalProperties === 'object') {
    if (pick < 0.3) return {};
    return { a: generate(target.additionalProperties, random, depth + 1), b: random() < 0.5 ? '' : null };
  }
  if (target.type === 'string') return pick < 0.5 ? '' : 'x';
  if (target.type === 'integer' || target.type === 'number') return pick < 0.5 ? 0 : 3;
  if (target.type === 'boolean') return pick < 0.5;
  // Opaque or untyped: anything, including empties the walk must not look into.
  return pick < 0.3 ? '' : pick < 0.6 ? { x: '', y: [], z: {} } : [];
}

const roots = Object.keys(definitions).filter((name) => definitions[name]!['x-kubernetes-group-version-kind']);

test('the compiled walker gives the reference walk\'s answer for every top-level definition', () => {
  assert.ok(roots.length > 50, `only ${roots.length} top-level definitions`);
  let dropped = 0;
  for (const [index, name] of roots.entries()) {
    const random = prng(index + 1);
    for (let round = 0; round < 20; round++) {
      const object = generate({ $ref: `#/definitions/${name}` }, random, 0);
      const text = JSON.stringify(object);
      const expected = JSON.parse(text);
      const actual = JSON.parse(text);
      dropOmittedValuesInterpreted(definitions, name, expected);
      dropOmittedValues(definitions, name, actual);
      assert.equal(JSON.stringify(actual), JSON.stringify(expected), `${name} round ${round}: ${text}`);
      assert.deepEqual(actual, expected);
      if (JSON.stringify(expected) !== text) dropped++;
    }
  }
  assert.ok(dropped > roots.length, `the generated objects dropped something only ${dropped} times`);
});

test('pointer strings and prototype-named members take the same path in both walks', () => {
  for (const [definition, keys] of Object.entries(POINTER_STRINGS)) {
    if (!definitions[definition]) continue;
    const object: Record<string, unknown> = JSON.parse('{"__proto__": null, "constructor": null}');
    for (const key of keys) object[key] = '';
    const expected = structuredClone(object);
    const actual = structuredClone(object);
    dropOmittedValuesInterpreted(definitions, definition, expected);
    dropOmittedValues(definitions, definition, actual);
    assert.equal(JSON.stringify(actual), JSON.stringify(expected), definition);
    for (const key of keys) assert.equal((actual as Record<string, unknown>)[key], '', `${definition}.${key} is a pointer: kept`);
  }
});

test('a pod with empty members comes out of the compiled walker as upstream encodes it', () => {
  const pod = {
    metadata: { name: 'p', namespace: '', labels: {}, annotations: null },
    spec: { containers: [{ name: 'c', image: '', args: [], env: [{ name: 'E', value: '' }] }], nodeName: '', runtimeClassName: '' },
    status: { conditions: [], phase: '' },
  };
  dropOmittedValues(definitions, 'io.k8s.api.core.v1.Pod', pod);
  assert.deepEqual(pod, { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', env: [{ name: 'E' }] }], runtimeClassName: '' }, status: {} });
});

test('a lazy member (stored managedFields) is not parsed to be walked; an empty one is still dropped', () => {
  const entries = JSON.stringify([{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } } }]);
  const pod = (managedFields: string) => {
    const metadata: Record<string, unknown> = { name: 'p', namespace: 'default', labels: {} };
    defineLazyJsonMember(metadata, 'managedFields', managedFields);
    return { apiVersion: 'v1', kind: 'Pod', metadata, spec: { containers: [{ name: 'c', image: 'nginx', args: [] }] } };
  };
  const parse = JSON.parse;
  let parsed = 0;
  JSON.parse = ((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
    parsed++;
    return parse(text, reviver);
  }) as typeof JSON.parse;
  const walked = pod(entries);
  try {
    dropOmittedValues(definitions, 'io.k8s.api.core.v1.Pod', walked);
  } finally {
    JSON.parse = parse;
  }
  assert.equal(parsed, 0, 'the managedFields text was not parsed');
  assert.ok(isLazyMember(walked.metadata, 'managedFields'));
  assert.equal(lazyJsonText(walked.metadata, 'managedFields'), entries);
  assert.deepEqual(JSON.parse(JSON.stringify(walked)), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', managedFields: JSON.parse(entries) }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
  const reference = pod(entries);
  dropOmittedValuesInterpreted(definitions, 'io.k8s.api.core.v1.Pod', reference);
  assert.equal(JSON.stringify(walked), JSON.stringify(reference));
  const empty = pod('[]');
  dropOmittedValues(definitions, 'io.k8s.api.core.v1.Pod', empty);
  assert.equal('managedFields' in empty.metadata, false, 'an empty managedFields is omitted');
});
