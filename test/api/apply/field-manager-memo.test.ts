/**
 * The fast write path of managedFields (recordUpdateJson, the memo tables, the text encoding,
 * the compare walk that builds its sets in place) against the plain computation: every memo
 * table off, entries built as objects and serialized, and the compare walk of before (inserting
 * each path from the root). Objects and writes are generated: creates, updates, /status
 * writes, applies with and without conflicts, keyed list items, sets, nested maps, removed
 * fields, client-sent and mangled managedFields, more than ten updaters.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { applyConfiguration, recordUpdate, recordUpdateJson, withManagedFields, type UpdateParams } from '../../../src/api/apply/index.js';
import { compareObjects, type Comparison } from '../../../src/api/apply/compare.js';
import { FieldSet } from '../../../src/api/apply/field-set.js';
import { indexItems } from '../../../src/api/apply/list-items.js';
import { decodeManagedFields, encodeManagedFields, encodeManagedFieldsJson, readManagedFieldsJson } from '../../../src/api/apply/managed-fields.js';
import { MemoTable, setMemoTablesEnabled } from '../../../src/api/apply/memo-table.js';
import { fieldElement, type PathElement } from '../../../src/api/apply/path-element.js';
import { fieldSchema, listShape, nodeKind, type ApplySchema } from '../../../src/api/apply/schema.js';
import { deepCopy, defineLazyJsonMember, jsonEqual, type KubeObject } from '../../../src/api/object.js';
import { schemaFromOpenApi, type OpenApiSchemaObject } from '../../../src/api/patch/schema.js';
import { deploymentSchema } from './deployment-schema.fixture.js';

const definitions = (
  JSON.parse(readFileSync(path.resolve('src/api/openapi/generated/definitions.json'), 'utf8')) as { definitions: Record<string, OpenApiSchemaObject> }
).definitions;
const podSchema = schemaFromOpenApi(definitions, 'io.k8s.api.core.v1.Pod') as ApplySchema;

/** A small deterministic generator (mulberry32), so a failure names its seed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
}
type Random = ReturnType<typeof random>;

function container(r: Random, name: string) {
  const c: Record<string, unknown> = { name, image: `registry.example/${name}:${r.int(5)}` };
  if (r.chance(0.7)) c.env = Array.from({ length: 1 + r.int(3) }, (_, i) => (r.chance(0.3) ? { name: `E${i}`, valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } } : { name: `E${i}`, value: String(r.int(9)) }));
  if (r.chance(0.6)) c.ports = Array.from({ length: 1 + r.int(2) }, (_, i) => ({ containerPort: 8080 + i, ...(r.chance(0.5) ? { protocol: r.pick(['TCP', 'UDP']) } : {}), ...(r.chance(0.5) ? { name: `p${i}` } : {}) }));
  if (r.chance(0.5)) c.resources = { requests: { cpu: `${1 + r.int(9)}00m` }, ...(r.chance(0.5) ? { limits: { memory: '1Gi' } } : {}) };
  if (r.chance(0.3)) c.args = ['--flag', String(r.int(3))];
  if (r.chance(0.2)) c.securityContext = {};
  return c;
}

function generatedPod(r: Random, n: number): KubeObject {
  const labels: Record<string, string> = { app: `app-${r.int(3)}` };
  for (let i = 0; i < r.int(4); i++) labels[r.pick(['tier', 'team', 'a.example/b', 'x', 'y', `l${i}`])] = String(r.int(3));
  const metadata: Record<string, unknown> = { name: `pod-${n}`, namespace: 'ns', uid: `uid-${n}`, creationTimestamp: '2026-12-03T10:00:00Z', labels };
  if (r.chance(0.5)) metadata.annotations = { 'note.example/a': 'x', ...(r.chance(0.5) ? { 'note.example/b': '' } : {}) };
  if (r.chance(0.4)) metadata.finalizers = ['example.com/a', ...(r.chance(0.5) ? ['example.com/b'] : [])];
  if (r.chance(0.3)) metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true }];
  const names = ['app', 'sidecar', 'proxy'].slice(0, 1 + r.int(3));
  const spec: Record<string, unknown> = { containers: names.map((name) => container(r, name)), restartPolicy: 'Always' };
  if (r.chance(0.5)) spec.tolerations = [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }];
  if (r.chance(0.4)) spec.nodeSelector = { 'kubernetes.io/os': 'linux' };
  if (r.chance(0.3)) spec.volumes = [{ name: 'v', emptyDir: {} }];
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata, spec };
  if (r.chance(0.5)) pod.status = { phase: 'Pending', qosClass: 'BestEffort' };
  return pod;
}

function statusOf(r: Random): Record<string, unknown> {
  const ip = `10.0.${r.int(4)}.${r.int(250)}`;
  return {
    phase: r.pick(['Pending', 'Running', 'Succeeded']),
    podIP: ip,
    podIPs: [{ ip }],
    conditions: ['Ready', 'Initialized', 'PodScheduled'].slice(0, 1 + r.int(3)).map((type) => ({ type, status: r.pick(['True', 'False']), lastTransitionTime: '2026-12-03T10:00:01Z' })),
    ...(r.chance(0.5) ? { containerStatuses: [{ name: 'app', ready: r.chance(0.5), restartCount: r.int(3), image: 'i', imageID: '', state: { running: { startedAt: '2026-12-03T10:00:02Z' } } }] } : {}),
  };
}

/** A random change by a client through the main resource. */
function edit(r: Random, object: any): void {
  const spec = object.spec;
  switch (r.int(9)) {
    case 0:
      object.metadata.labels[`added-${r.int(4)}`] = 'v';
      break;
    case 1:
      delete object.metadata.labels[r.pick(Object.keys(object.metadata.labels))];
      break;
    case 2:
      spec.containers[0].image = `registry.example/new:${r.int(9)}`;
      break;
    case 3:
      delete spec.containers[r.int(spec.containers.length)].env;
      break;
    case 4:
      spec.containers.push({ name: `extra-${r.int(3)}`, image: 'busybox' });
      break;
    case 5:
      if (spec.containers.length > 1) spec.containers.splice(r.int(spec.containers.length), 1);
      break;
    case 6:
      object.metadata.finalizers = r.chance(0.5) ? ['example.com/c'] : [];
      break;
    case 7:
      object.metadata.annotations = { ...(object.metadata.annotations ?? {}), [`edited-${r.int(3)}`]: 'yes' };
      break;
    default:
      spec.activeDeadlineSeconds = r.int(100);
  }
}

/** What the applier of an apply sends: a part of the pod, sometimes changed. */
function applyConfig(r: Random, live: KubeObject): Record<string, unknown> {
  const spec = live.spec as { containers: { name: string; image: string }[] };
  const config: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: live.metadata.name, namespace: 'ns', labels: { app: r.chance(0.7) ? (live.metadata.labels?.app ?? 'a') : 'changed' } },
    spec: { containers: spec.containers.slice(0, 1).map((c) => ({ name: c.name, image: r.chance(0.5) ? c.image : 'applied:1' })) },
  };
  if (r.chance(0.3)) (config.metadata as Record<string, unknown>).annotations = { 'applied.example/x': 'y' };
  return config;
}

interface Mode {
  /** The managedFields the server stores for an update: JSON text or none. */
  record(params: UpdateParams): string | undefined;
  /** How the stored object holds them: the store keeps a lazy reader of its bytes. */
  stored(object: KubeObject, managedFields: string | undefined): KubeObject;
}

const fast: Mode = {
  record: (params) => recordUpdateJson(params),
  stored(object, managedFields) {
    const copy = structuredClone({ ...object, metadata: { ...object.metadata, managedFields: undefined } });
    delete copy.metadata.managedFields;
    if (managedFields !== undefined) defineLazyJsonMember(copy.metadata, 'managedFields', managedFields);
    return copy;
  },
};

const plain: Mode = {
  record(params) {
    const entries = recordUpdate(params);
    return entries.length > 0 ? JSON.stringify(entries) : undefined;
  },
  stored: (object, managedFields) => structuredClone(withManagedFields(object, managedFields === undefined ? [] : JSON.parse(managedFields))),
};

const MANAGERS = ['kube-controller-manager', 'kubectl-edit', 'kubectl-label', 'helm', 'operator', ...Array.from({ length: 9 }, (_, i) => `tool-${i}`)];

/** Every stored managedFields and apply outcome of one object's generated history. */
function history(mode: Mode, seed: number, schema: ApplySchema, writes = 16, clientManagedFields = true): string[] {
  const r = random(seed);
  const outcomes: string[] = [];
  const now = (i: number) => `2026-12-03T10:${String(i).padStart(2, '0')}:${String(r.int(3) * 20).padStart(2, '0')}Z`;
  const base = { schema, apiVersion: 'v1' };
  const created = generatedPod(r, seed);
  let fields = mode.record({ ...base, live: undefined, updated: created, manager: 'kube-controller-manager', now: now(0) });
  let live = mode.stored(created, fields);
  outcomes.push(fields ?? 'none');
  for (let i = 1; i <= writes; i++) {
    const manager = r.pick(MANAGERS);
    const kind = r.int(10);
    if (kind < 2) {
      const result = applyConfiguration({ ...base, live, applied: applyConfig(r, live), manager: r.pick(['kubectl', 'helm']), force: r.chance(0.5), now: now(i) });
      if (result.outcome === 'conflict') {
        outcomes.push(`conflict ${result.message}`);
        continue;
      }
      fields = result.managedFields.length > 0 ? JSON.stringify(result.managedFields) : undefined;
      live = mode.stored(result.object, fields);
      outcomes.push(`apply ${fields}`);
      continue;
    }
    // As the server copies a stored object: a lazy managedFields member stays lazy.
    const updated = deepCopy(live);
    let subresource: string | undefined;
    if (kind < 5) {
      subresource = 'status';
      updated.status = statusOf(r);
    } else {
      edit(r, updated);
      // Clients sometimes send managedFields of their own: a reset, garbage, or an old copy.
      if (!clientManagedFields) r.int(1);
      else if (r.chance(0.1)) updated.metadata.managedFields = [];
      else if (r.chance(0.1)) updated.metadata.managedFields = [{ operation: 'Sideways' }];
      else if (r.chance(0.1)) updated.metadata.managedFields = [{ manager: 'sent', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } } } }];
    }
    fields = mode.record({ ...base, live, updated, manager, subresource, now: now(i) });
    live = mode.stored(updated, fields);
    outcomes.push(`${manager} ${subresource ?? ''} ${fields ?? 'none'}`);
  }
  return outcomes;
}

function plainHistory(seed: number, schema: ApplySchema, writes?: number, clientManagedFields?: boolean): string[] {
  setMemoTablesEnabled(false);
  try {
    return history(plain, seed, schema, writes, clientManagedFields);
  } finally {
    setMemoTablesEnabled(true);
  }
}

describe('the fast managedFields write path against the plain computation', () => {
  it('stores byte-identical managedFields over generated histories (Pod schema from the published OpenAPI)', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const expected = plainHistory(seed, podSchema);
      // Twice: the second time every memo table already holds what the first one computed.
      assert.deepEqual(history(fast, seed, podSchema), expected, `seed ${seed}`);
      assert.deepEqual(history(fast, seed, podSchema), expected, `seed ${seed}, warm`);
    }
  });

  it('does so without a schema too (every object a granular map, every list atomic), and with the Deployment fixture', () => {
    for (let seed = 100; seed < 120; seed++) {
      assert.deepEqual(history(fast, seed, undefined as unknown as ApplySchema), plainHistory(seed, undefined as unknown as ApplySchema), `seed ${seed}`);
      assert.deepEqual(history(fast, seed, deploymentSchema), plainHistory(seed, deploymentSchema), `seed ${seed}`);
    }
  });

  it('folds more than ten updaters alike', () => {
    const outcomes = history(fast, 7, podSchema, 80, false);
    assert.ok(outcomes.some((o) => o.includes('"manager":"ancient-changes"')), 'the history reaches the cap');
    assert.deepEqual(outcomes, plainHistory(7, podSchema, 80, false));
  });

  it('reads back a text it wrote as the state it encoded, and reads other texts as the decoder does', () => {
    const r = random(3);
    const pod = generatedPod(r, 3);
    const text = recordUpdateJson({ live: undefined, updated: pod, manager: 'creator', schema: podSchema, apiVersion: 'v1', now: '2026-12-03T10:00:00Z' })!;
    const reading = readManagedFieldsJson(text);
    const decoded = decodeManagedFields(JSON.parse(text));
    assert.equal(reading.reset, false);
    assert.deepEqual([...reading.state.managers.keys()], [...decoded.managers.keys()]);
    assert.deepEqual([...reading.state.times], [...decoded.times]);
    assert.equal(encodeManagedFieldsJson(reading.state), JSON.stringify(encodeManagedFields(decoded)));
    // A text whose elements a decoder rewrites (key fields out of order) is decoded, not trusted.
    const unordered = '[{"manager":"m","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:ports":{"k:{\\"protocol\\":\\"TCP\\",\\"port\\":80}":{}}}}}]';
    assert.equal(JSON.stringify(encodeManagedFields(readManagedFieldsJson(unordered).state)), JSON.stringify(encodeManagedFields(decodeManagedFields(JSON.parse(unordered)))));
    assert.deepEqual(readManagedFieldsJson('[]'), { reset: true, state: { managers: new Map(), times: new Map() } });
  });

  it('hands every reader maps of its own', () => {
    const text = '[{"manager":"m","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:a":{}}}]';
    readManagedFieldsJson(text).state.managers.clear();
    assert.equal(readManagedFieldsJson(text).state.managers.size, 1);
  });
});

describe('FieldSet text and memo tables', () => {
  it('encodes as JSON.stringify(toFieldsV1()), and forgets its text when built further', () => {
    const set = FieldSet.of(['f:a', 'f:b'].map((e) => e), ['f:a', 'k:{"name":"x"}', 'f:name'], ['f:a', 'k:{"name":"x"}'], ['v:"s"'], ['i:3'], ['f:z']);
    assert.equal(set.toFieldsV1Json(), JSON.stringify(set.toFieldsV1()));
    set.insert(['f:a', 'k:{"name":"x"}', 'f:image']);
    assert.equal(set.toFieldsV1Json(), JSON.stringify(set.toFieldsV1()));
    assert.ok(set.toFieldsV1Json().includes('f:image'));
  });

  it('builds a new node\'s text from the kept text of the nodes it shares', () => {
    const item = ['f:spec', 'f:containers', 'k:{"name":"a"}'];
    const set = FieldSet.of(item, [...item, 'f:image'], ['f:metadata', 'f:labels', 'f:app'], ['k:{"name":"top"}'], ['k:{"name":"top"}', 'f:a'], ['f:x', 'v:1'], ['f:x', 'v:1', 'f:y']);
    set.toFieldsV1Json();
    // New nodes above shared, already encoded ones: an item that is a member and has fields below.
    for (const grown of [set.union(FieldSet.of(['f:spec', 'f:containers', 'k:{"name":"b"}'])), set.union(FieldSet.of(['f:spec', 'f:x'])), set.union(FieldSet.of(['f:z'])), set.difference(FieldSet.of(['f:metadata', 'f:labels', 'f:app']))]) {
      assert.equal(grown.toFieldsV1Json(), JSON.stringify(grown.toFieldsV1()));
    }
  });

  it('keeps at most its capacity, the oldest leaving first, and misses everything while off', () => {
    const table = new MemoTable<string, number>(2);
    table.set('a', 1);
    table.set('b', 2);
    table.set('c', 3);
    assert.deepEqual([table.get('a'), table.get('b'), table.get('c')], [undefined, 2, 3]);
    setMemoTablesEnabled(false);
    try {
      assert.equal(table.get('b'), undefined);
    } finally {
      setMemoTablesEnabled(true);
    }
    assert.equal(table.get('b'), 2);
  });
});

/** The compare walk as it was: each path inserted from the root. */
function referenceCompare(before: unknown, after: unknown, schema: ApplySchema | undefined, ignored?: FieldSet): Comparison {
  const out = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const walk = (b: unknown, a: unknown, s: ApplySchema | undefined, at: PathElement[], ign: FieldSet | undefined): void => {
    if (b === undefined && a === undefined) return;
    if (b === undefined) out.added.insert(at);
    if (a === undefined) out.removed.insert(at);
    const kindB = b === undefined ? undefined : nodeKind(b, s);
    const kindA = a === undefined ? undefined : nodeKind(a, s);
    const kind = kindB === undefined ? kindA : kindA === undefined ? kindB : kindA === kindB ? kindA : 'leaf';
    if (kind === 'leaf') {
      if (b !== undefined && a !== undefined && !jsonEqual(b, a)) out.modified.insert(at);
      return;
    }
    const child = (e: PathElement, cb: unknown, ca: unknown, cs: ApplySchema | undefined) => {
      if (!ign?.hasMember(e)) walk(cb, ca, cs, [...at, e], ign?.child(e));
    };
    if (kind === 'map') {
      const l = (b ?? {}) as Record<string, unknown>;
      const rr = (a ?? {}) as Record<string, unknown>;
      for (const k of Object.keys(l)) child(fieldElement(k), l[k], Object.hasOwn(rr, k) ? rr[k] : undefined, fieldSchema(s, k));
      for (const k of Object.keys(rr)) if (!Object.hasOwn(l, k)) child(fieldElement(k), undefined, rr[k], fieldSchema(s, k));
      return;
    }
    const l = indexItems((b ?? []) as unknown[], listShape(s), s?.items());
    const rr = indexItems((a ?? []) as unknown[], listShape(s), s?.items());
    for (const [e, item] of l) child(e, item, rr.get(e), s?.items());
    for (const [e, item] of rr) if (!l.has(e)) child(e, undefined, item, s?.items());
  };
  walk(before, after, schema, [], ignored);
  return out;
}

describe('compareObjects', () => {
  it('finds what the path-by-path walk finds, on generated pairs of objects', () => {
    const ignored = FieldSet.of(['f:status']);
    for (let seed = 1; seed <= 200; seed++) {
      const r = random(seed);
      const before = generatedPod(r, seed);
      const after = structuredClone(before);
      for (let k = 0; k < 1 + r.int(4); k++) edit(r, after);
      if (r.chance(0.3)) after.status = statusOf(r);
      // From an empty object (a create): the memo of recent creations is tried, then filled.
      for (const [b, a] of [[before, after], [undefined, after], [before, undefined], [{}, {}], [{}, before], [{}, after], [{}, before]] as const) {
        for (const ign of [undefined, ignored]) {
          const got = compareObjects(b, a, podSchema, ign);
          const want = referenceCompare(b, a, podSchema, ign);
          for (const part of ['added', 'modified', 'removed'] as const) assert.equal(got[part].toFieldsV1Json(), JSON.stringify(want[part].toFieldsV1()), `seed ${seed} ${part}`);
        }
      }
    }
  });
});
