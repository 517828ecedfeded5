/**
 * The compact resident form (managedFields read back from the stored bytes, replaced versions
 * kept as bytes) against plain parsed JSON, for every kind: the same object, the same bytes, the
 * same Table rows and partial metadata, the same selector answers and watch events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { Store, StoredVersion, unstoredObject, type StoredObject, type StoreEvent } from '../../src/storage/store.js';
import { compactManagedFields, serializeCompact } from '../../src/storage/compact-object.js';
import { allKinds } from '../../src/registry/catalog.js';
import { resourceId, type KindStrategy } from '../../src/registry/strategy.js';
import { cachedPartialObjectMetadata, partialObjectMetadata, partialObjectMetadataPieces, tableBuffer, tableJson } from '../../src/api/table.js';
import { buildSelection } from '../../src/registry/selection.js';
import { deepCopy, type KubeObject } from '../../src/api/object.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../../src/api/selectors.js';
import type { Obj } from '../../src/registry/strategy.js';
import type { SelectionRequest } from '../../src/registry/selection.js';

/** The clock the Tables' ages are printed against: fixed, so two printings compare. */
let now = Date.parse('2026-12-02T10:00:00Z');
const realNow = Date.now;
Date.now = () => now;
process.on('exit', () => (Date.now = realNow));

/** A Table row as today's printer makes it: every cell from the parsed object, at this moment. */
function plainRow(strategy: KindStrategy, stored: StoredObject, include: 'None' | 'Metadata' | 'Object'): string {
  const object = JSON.parse(stored.json.toString()) as Obj;
  const cells: unknown[] = strategy.leadingNameColumn === false ? [] : [strategy.nameCell?.(object) ?? object.metadata.name ?? ''];
  for (const column of strategy.columns) {
    let value: unknown;
    try {
      value = column.cell(object);
    } catch {
      value = '<unknown>';
    }
    cells.push(value ?? '<none>');
  }
  let row = `{"cells":${JSON.stringify(cells)}`;
  if (include === 'Object') row += `,"object":${stored.json.toString()}`;
  else if (include === 'Metadata') row += `,"object":${partialObjectMetadata(object as never)}`;
  return row + '}';
}

/** The rows of a Table as tableJson printed them. */
const rowsOf = (table: string) => table.slice(table.indexOf('"rows":[') + 8, -2);

/** A selector answered on the parsed object, as the selection did before summaries. */
function matchesPlainly(strategy: KindStrategy, request: SelectionRequest, object: KubeObject): boolean {
  const labels = request.labelSelector ? parseLabelSelector(request.labelSelector) : [];
  const fields = request.fieldSelector ? parseFieldSelector(request.fieldSelector) : [];
  const value = (field: string) => (field === 'metadata.name' ? object.metadata.name : field === 'metadata.namespace' ? (object.metadata.namespace ?? '') : strategy.fieldSelectors![field](object as Obj));
  return matchesLabels(labels, object.metadata.labels) && matchesFields(fields, value);
}

/** A field set large enough to be shared between versions (shared-pieces.ts), with braces and quotes in its keys. */
const containerFields = Object.fromEntries(Array.from({ length: 12 }, (_, n) => [`k:{"name":"c-${n}}{\\"}"}`, { '.': {}, 'f:image': {}, 'f:name': {} }]));
const managedFields = (manager: string) => [
  { manager, operation: 'Update', apiVersion: 'v1', time: '2026-12-01T08:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:x': {}, 'k:{"name":"managedFields"}': {} } } },
  { manager: `${manager}-template`, operation: 'Update', apiVersion: 'v1', time: '2026-12-01T08:00:01Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:containers': containerFields } } },
];

function sampleObject(strategy: KindStrategy, i: number): KubeObject {
  const object = sampleWithManagedFieldsLast(strategy, i);
  // managedFields first, last, or the only member of metadata: partial metadata is cut from the bytes.
  if (i % 4 === 1) object.metadata = { managedFields: object.metadata.managedFields, ...object.metadata };
  if (i === 2) object.metadata = { managedFields: object.metadata.managedFields };
  if (i === 3) delete object.metadata.managedFields;
  return object;
}

function sampleWithManagedFieldsLast(strategy: KindStrategy, i: number): KubeObject {
  const apiVersion = strategy.group ? `${strategy.group}/${strategy.version}` : strategy.version;
  return {
    apiVersion,
    kind: strategy.kind,
    metadata: {
      name: `object-${i}`,
      ...(strategy.namespaced ? { namespace: 'ns' } : {}),
      uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
      creationTimestamp: '2026-12-01T08:00:00Z',
      labels: { app: i % 2 ? 'a' : 'b', 'ünïcode': 'välue' },
      // A key named like the field elsewhere in the object must not confuse the compact form.
      annotations: { managedFields: '[{"manager":"x"}]', note: 'emoji 🚀 and "quotes"' },
      managedFields: managedFields(i % 2 ? 'kubectl' : 'kube-controller-manager'),
    },
    spec: { nodeName: `node-${i % 3}`, replicas: i, managedFields: managedFields('nested'), containers: [{ name: 'c', image: 'i' }] },
    status: {
      phase: i % 2 ? 'Running' : 'Pending',
      replicas: i,
      podIP: '10.0.0.1',
      conditions: [{ type: 'Ready', status: 'True' }],
      // Cells that print a time since (RESTARTS "2 (5m ago)", a running Job's duration, Last Schedule):
      containerStatuses: [{ name: 'c', ready: true, restartCount: i, lastState: { terminated: { finishedAt: '2026-12-01T09:30:00Z' } } }],
      startTime: '2026-12-01T08:30:00Z',
      ...(i === 3 ? { completionTime: '2026-12-01T08:45:00Z' } : {}),
      lastScheduleTime: i === 2 ? 'not a time' : '2026-12-01T07:00:00Z',
    },
    // An Event's first and last seen.
    firstTimestamp: '2026-11-30T08:00:00Z',
    ...(i === 1 ? {} : { lastTimestamp: '2026-12-01T08:00:00Z' }),
  };
}

/** What today's plain form of the same bytes gives. */
const plain = (stored: StoredObject): StoredObject => unstoredObject(JSON.parse(stored.json.toString()), stored.revision, stored.json);

test('every kind: the compact form is the same object, bytes, Table, partial metadata and selections as its JSON', async () => {
  const store = new Store();
  const done = new Set<string>();
  for (const strategy of allKinds) {
    const resource = resourceId(strategy);
    // Versions of one kind share its storage.
    if (done.has(resource)) continue;
    done.add(resource);
    const selectors: SelectionRequest[] = [
      { labelSelector: 'app=a' },
      { labelSelector: 'app in (b,moved)' },
      { labelSelector: '!app' },
      { labelSelector: 'app!=b,app notin (x)' },
      { fieldSelector: 'metadata.name=object-1' },
      { fieldSelector: 'metadata.namespace=ns' },
      { labelSelector: 'app', fieldSelector: 'metadata.name!=object-3' },
      ...Object.keys(strategy.fieldSelectors ?? {}).flatMap((field) => [{ fieldSelector: `${field}!=node-1` }, { fieldSelector: `${field}=Running` }, { fieldSelector: `${field}=` }]),
    ];
    // Each selector watched through its selection (summaries) and through the parsed objects.
    const selected: string[] = [];
    const plainSelected: string[] = [];
    for (const request of selectors) {
      const { filter } = buildSelection(strategy, request);
      const tag = JSON.stringify(request);
      store.watch(resource, { fromRevision: 0, filter }, (event: StoreEvent, type) => selected.push(`${tag} ${type} ${event.revision}`));
      store.watch(resource, { fromRevision: 0, filter: (s) => matchesPlainly(strategy, request, plain(s).object) }, (event: StoreEvent, type) => plainSelected.push(`${tag} ${type} ${event.revision}`));
    }
    const events: string[] = [];
    const plainEvents: string[] = [];
    const watchers = [
      store.watch(resource, { fromRevision: 0 }, (event: StoreEvent, type) => events.push(`${type} ${event.current.json.toString()} ${JSON.stringify(event.current.object)}`)),
      store.watch(resource, { fromRevision: 0 }, (event: StoreEvent, type) => plainEvents.push(`${type} ${event.current.json.toString()} ${JSON.stringify(plain(event.current).object)}`)),
    ];
    const versions: StoredObject[] = [];
    for (let i = 0; i < 4; i++) {
      const key = strategy.namespaced ? `ns/object-${i}` : `object-${i}`;
      versions.push(await store.create(resource, key, sampleObject(strategy, i)));
      if (i % 2) {
        const next = sampleObject(strategy, i);
        next.metadata.labels = { app: 'moved' };
        versions.push(await store.update(resource, key, next));
      }
    }
    await store.delete(resource, strategy.namespaced ? 'ns/object-0' : 'object-0');
    for (const stored of [...versions, ...store.list(resource).items]) {
      const reference = plain(stored);
      const what = `${strategy.kind} rv ${stored.revision}`;
      if (reference.object.metadata.managedFields) assert.equal(typeof Object.getOwnPropertyDescriptor(stored.object.metadata, 'managedFields')?.get, 'function', `${what}: managedFields are read from the bytes`);
      assert.equal(cachedPartialObjectMetadata(stored), partialObjectMetadata(reference.object as never), `${what} partial metadata from the bytes`);
      for (const version of [stored, reference]) {
        const pieces: Buffer[] = [];
        partialObjectMetadataPieces(version, pieces);
        assert.equal(Buffer.concat(pieces).toString(), partialObjectMetadata(reference.object as never), `${what} partial metadata as pieces of the bytes`);
      }
      assert.equal(JSON.stringify(stored.object), stored.json.toString(), what);
      assert.ok(isDeepStrictEqual(structuredClone(stored.object), reference.object), what);
      assert.ok(isDeepStrictEqual({ ...stored.object.metadata }, reference.object.metadata), what);
      assert.deepEqual(Object.keys(stored.object.metadata), Object.keys(reference.object.metadata), what);
      assert.equal(partialObjectMetadata(stored.object as never), partialObjectMetadata(reference.object as never), what);
      for (const include of ['None', 'Metadata', 'Object'] as const) {
        assert.equal(tableJson(strategy, [stored], { resourceVersion: '1' }, include), tableJson(strategy, [reference], { resourceVersion: '1' }, include), `${what} Table ${include}`);
        assert.equal(rowsOf(tableJson(strategy, [stored], { resourceVersion: '1' }, include)), plainRow(strategy, stored, include), `${what} Table ${include} as printed from the object`);
        assert.equal(tableBuffer(strategy, [stored, reference], { resourceVersion: '1', continue: 'x' }, include, include !== 'Object').toString(), tableJson(strategy, [stored, reference], { resourceVersion: '1', continue: 'x' }, include, include !== 'Object'), `${what} Table ${include} assembled from pieces`);
      }
      // The row is kept from the first printing; its ages are those of the moment it is printed.
      const at = now;
      for (const later of [90_000, 3_600_000, 400 * 86_400_000]) {
        now = at + later;
        assert.equal(rowsOf(tableJson(strategy, [stored], { resourceVersion: '1' }, 'None')), plainRow(strategy, stored, 'None'), `${what} Table ${later} ms later`);
      }
      now = at;
    }
    const live = store.list(resource).items;
    for (const request of selectors) {
      const { filter, matches } = buildSelection(strategy, request);
      if (!filter || !matches) continue;
      const expected = live.map((s) => matchesPlainly(strategy, request, plain(s).object));
      assert.deepEqual(live.map((s) => filter(s)), expected, `${strategy.kind} ${JSON.stringify(request)}`);
      assert.deepEqual(live.map((s) => filter(plain(s))), expected, `${strategy.kind} ${JSON.stringify(request)} (plain)`);
      assert.deepEqual(live.map((s) => matches(s.object)), expected, `${strategy.kind} ${JSON.stringify(request)} (object)`);
    }
    assert.deepEqual(events, plainEvents, strategy.kind);
    assert.deepEqual(selected, plainSelected, `${strategy.kind}: selected watch events`);
    assert.ok(selected.length > 0, strategy.kind);
    // A list narrowed by an index answers as a full scan of the parsed objects does, also after writes move objects.
    for (const request of selectors) {
      const { filter, index } = buildSelection(strategy, request);
      const keys = (items: StoredObject[]) => items.map((s) => s.object.metadata.name);
      const expected = keys(store.list(resource, { filter: (s) => matchesPlainly(strategy, request, plain(s).object) }).items);
      assert.deepEqual(keys(store.list(resource, { filter, index }).items), expected, `${strategy.kind} ${JSON.stringify(request)} indexed list`);
    }
    assert.equal(events.length, 7, strategy.kind);
    assert.ok(versions.some((stored) => stored.jsonPieces().length > 1), `${strategy.kind}: some versions share their field sets`);
    for (const w of watchers) w.close();
  }
});

test('managedFields read from the bytes: a fresh equal array each time, assignable, deletable', () => {
  const object = sampleObject(allKinds[0], 1);
  const json = Buffer.from(JSON.stringify(object));
  compactManagedFields(object, json);
  const descriptor = Object.getOwnPropertyDescriptor(object.metadata, 'managedFields')!;
  assert.equal(typeof descriptor.get, 'function', 'managedFields is read from the bytes');
  assert.deepEqual(object.metadata.managedFields, managedFields('kubectl'));
  assert.notEqual(object.metadata.managedFields, object.metadata.managedFields);
  assert.equal(JSON.stringify(object), json.toString());
  object.metadata.managedFields = [];
  assert.deepEqual(object.metadata.managedFields, []);
  delete object.metadata.managedFields;
  assert.equal('managedFields' in object.metadata, false);
  // No managedFields, or empty ones: nothing changes.
  const bare = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', managedFields: [] } };
  compactManagedFields(bare, Buffer.from(JSON.stringify(bare)));
  assert.ok('value' in Object.getOwnPropertyDescriptor(bare.metadata, 'managedFields')!);
});

test('every kind: the member-by-member serialization is JSON.stringify byte for byte, with the metadata found where it lies', () => {
  const odd = (object: KubeObject): KubeObject[] => [
    object,
    // Members JSON.stringify drops, a "__proto__" member as JSON.parse makes it, metadata first and last.
    { ...object, skipped: undefined, fn: () => 1, metadata: { ...object.metadata, gone: undefined } } as KubeObject,
    JSON.parse(JSON.stringify({ metadata: object.metadata, ...withoutMetadata(object), extra: { a: [1, 'ü', null] } }).replace('"extra"', '"__proto__"')),
    { kind: object.kind, metadata: { name: 'only', managedFields: [] } } as KubeObject,
    { kind: object.kind, metadata: { name: 'dated', when: new Date(0) }, at: new Date(1) } as unknown as KubeObject,
  ];
  for (const strategy of allKinds) {
    for (let i = 0; i < 4; i++) {
      for (const object of odd(sampleObject(strategy, i))) {
        const expected = JSON.stringify(object);
        const reference = JSON.parse(expected) as KubeObject;
        const { json, span } = serializeCompact(object);
        const what = `${strategy.kind} #${i} ${expected.slice(0, 60)}`;
        assert.equal(json.toString(), expected, what);
        const bytesOf = (text: string) => Buffer.byteLength(text);
        assert.equal(json.toString('utf8', span!.metadataStart, span!.metadataEnd), JSON.stringify(reference.metadata), `${what}: metadata span`);
        assert.equal(bytesOf(expected.slice(0, expected.indexOf('"metadata":') + 11)), span!.metadataStart, what);
        const stored = new StoredVersion(json, 1, object, span);
        // Partial metadata as the version found by searching the bytes gives it.
        assert.equal(stored.metadataWithoutManagedFields(), new StoredVersion(json, 1, JSON.parse(expected)).metadataWithoutManagedFields(), what);
        assert.equal(JSON.stringify(object), expected, `${what}: the compacted object still serializes the same`);
        // A copy of a compacted object serializes from the text, without parsing it.
        const copy = deepCopy(object);
        assert.equal(serializeCompact(copy).json.toString(), expected, `${what}: copy`);
      }
    }
  }
});

function withoutMetadata(object: KubeObject): Record<string, unknown> {
  const { metadata: _dropped, ...rest } = object;
  return rest;
}

test('deepCopy is structuredClone for JSON: equal, same key order, independent; lazy members stay lazy and private', () => {
  const sources: unknown[] = [null, 1, 'x', [1, [2, { a: 3 }]], JSON.parse('{"__proto__":{"polluted":true},"b":[{"c":null}],"d":{}}'), { d: new Date(5), m: new Map([[1, 2]]), u: undefined }];
  for (const strategy of allKinds.slice(0, 20)) sources.push(sampleObject(strategy, 1));
  for (const source of sources) {
    const copy = deepCopy(source);
    assert.ok(isDeepStrictEqual(copy, structuredClone(source)), JSON.stringify(source));
    assert.equal(JSON.stringify(copy), JSON.stringify(source));
    if (typeof source === 'object' && source !== null) assert.notEqual(copy, source);
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'a "__proto__" member is copied as a member');
  const copied = deepCopy(sources[4]) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(copied), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(copied, '__proto__')?.value, { polluted: true });

  const object = sampleObject(allKinds[0], 1);
  const json = Buffer.from(JSON.stringify(object));
  compactManagedFields(object, json);
  const copy = deepCopy(object);
  assert.equal(typeof Object.getOwnPropertyDescriptor(copy.metadata, 'managedFields')?.get, 'function', 'the copy reads the same bytes');
  assert.deepEqual(copy.metadata.managedFields, object.metadata.managedFields);
  assert.equal(JSON.stringify(copy), json.toString());
  copy.metadata.managedFields = [{ manager: 'changed' }];
  (copy.metadata.labels as Record<string, string>).app = 'changed';
  assert.deepEqual(object.metadata.managedFields, managedFields('kubectl'), 'assigning the copy leaves the original');
  assert.equal(JSON.stringify(object), json.toString());
  assert.deepEqual(copy.metadata.managedFields, [{ manager: 'changed' }]);
});
