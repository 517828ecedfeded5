/**
 * What the store keeps resident per object version: replaced and deleted versions keep their
 * bytes and give back the same object on demand; history is bounded by the bytes it keeps alive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Store, StoredVersion, RevisionCompactedError, parsedObjects, type StoreEvent } from '../../src/storage/store.js';
import { allKinds } from '../../src/registry/catalog.js';
import { buildSelection } from '../../src/registry/selection.js';
import { tableJson } from '../../src/api/table.js';
import { podInfoOf } from '../../src/scheduler/node-info.js';
import { GenericStore } from '../../src/registry/generic-store.js';
import { WriteUnavailableError } from '../../src/storage/durable-log.js';
import type { KubeObject } from '../../src/api/object.js';

const cm = (name: string, value: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', labels: { app: 'x' } }, data: { value }, ...extra });
const valueOf = (object: KubeObject) => (object.data as { value: string }).value;

test('a replaced version still reads as the object it was, byte for byte and field for field', async () => {
  const store = new Store();
  const events: StoreEvent[] = [];
  store.watch('core/configmaps', { fromRevision: 0 }, (event) => events.push(event));
  const first = await store.create('core/configmaps', 'ns/a', cm('a', '1', { binaryData: { k: 'AAE=' } }));
  const firstJson = Buffer.from(first.json);
  const firstObject = structuredClone(first.object);
  await store.update('core/configmaps', 'ns/a', cm('a', '2'));
  await store.delete('core/configmaps', 'ns/a');
  assert.ok(first instanceof StoredVersion);
  assert.deepEqual(first.json, firstJson);
  assert.deepEqual(first.object, firstObject);
  assert.deepEqual(JSON.parse(first.json.toString()), first.object);
  // The watch saw the create, the update (whose previous is the first version) and the delete.
  assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
  assert.equal(events[1].previous, first);
  assert.equal(valueOf(events[1].previous!.object), '1');
  const deleted = events[2].current;
  assert.equal(deleted.object.metadata.resourceVersion, String(deleted.revision));
  assert.equal(valueOf(deleted.object), '2');
  assert.equal(deleted.json.toString(), JSON.stringify(deleted.object));
  // A list at the first revision reads the replaced version.
  const past = store.list('core/configmaps', { atRevision: first.revision });
  assert.equal(past.items[0], first);
  assert.deepEqual(past.items[0].object, firstObject);
});

test('the live version keeps one parsed object: every read gets the same one', async () => {
  const store = new Store();
  const stored = await store.create('core/configmaps', 'ns/a', cm('a', '1'));
  assert.equal(store.get('core/configmaps', 'ns/a')!.object, stored.object);
  assert.equal(store.get('core/configmaps', 'ns/a')!.object, store.get('core/configmaps', 'ns/a')!.object);
});

test('a recovered version is parsed on first read and is then the same object', () => {
  const version = new StoredVersion(Buffer.from(JSON.stringify(cm('a', '1'))), 7);
  const object = version.object;
  assert.equal(valueOf(object), '1');
  assert.equal(version.object, object);
});

test('a rewound write makes the replaced version live again', async () => {
  let fail = false;
  const store = new Store({
    durableLog: {
      async append() {
        if (fail) throw new WriteUnavailableError('gone', 'no');
      },
    } as never,
  });
  const first = await store.create('core/configmaps', 'ns/a', cm('a', '1'));
  fail = true;
  await assert.rejects(() => store.update('core/configmaps', 'ns/a', cm('a', '2')));
  const live = store.get('core/configmaps', 'ns/a')!;
  assert.equal(live, first);
  assert.equal(valueOf(live.object), '1');
  assert.equal(live.object, live.object);
});

test('history is bounded by the bytes of the versions it keeps alive, never below 1,000 events', async () => {
  const big = 'x'.repeat(2000);
  const store = new Store({ historyBytes: 1_500_000 });
  const revisions: number[] = [];
  await store.create('core/configmaps', 'ns/a', cm('a', big));
  for (let i = 0; i < 1500; i++) revisions.push((await store.update('core/configmaps', 'ns/a', cm('a', big + i))).revision);
  // ~2 KB per replaced version: 1.5 MB keeps ~700 of them, but 1,000 events stay.
  const compacted = store.compactedRevision('core/configmaps');
  assert.ok(compacted > revisions[0], `history was not compacted (${compacted})`);
  assert.ok(compacted <= revisions.at(-1)! - 1000, `fewer than 1,000 events kept (compacted at ${compacted})`);
  assert.throws(() => store.watch('core/configmaps', { fromRevision: revisions[0] }, () => {}), RevisionCompactedError);
  assert.throws(() => store.list('core/configmaps', { atRevision: revisions[0] }), RevisionCompactedError);
  const replayed: number[] = [];
  store.watch('core/configmaps', { fromRevision: revisions.at(-10)! }, (event) => replayed.push(event.revision)).close();
  assert.deepEqual(replayed, revisions.slice(-9));
  // Small objects keep the count limit as before.
  const small = new Store({ historyLimit: 5 });
  for (let i = 0; i < 10; i++) await small.create('core/configmaps', `ns/c${i}`, cm(`c${i}`, 'v'));
  assert.equal(small.compactedRevision('core/configmaps'), 5);
});

test('no parsed object is kept per version: once collected, a read parses the bytes again, and lists, selections and Tables parse nothing', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const store = new Store();
  const strategy = allKinds.find((k) => k.kind === 'ConfigMap')!;
  for (let i = 0; i < 50; i++) await store.create('core/configmaps', `ns/c${i}`, cm(`c${i}`, String(i)));
  const collect = async () => {
    parsedObjects.clear();
    // A WeakRef holds its target until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  };
  // The summaries are made while the objects are at hand; after that nothing needs them.
  const { filter, index } = buildSelection(strategy, { labelSelector: 'app=x' });
  assert.equal(store.list('core/configmaps', { filter, index }).items.length, 50);
  const table = tableJson(strategy, store.list('core/configmaps').items, { resourceVersion: '1' }, 'Metadata');
  await collect();
  const before = parsedObjects.parses;
  assert.equal(store.list('core/configmaps', { filter, index }).items.length, 50);
  assert.equal(store.list('core/configmaps', { filter: buildSelection(strategy, { labelSelector: 'app!=x' }).filter }).items.length, 0);
  assert.equal(tableJson(strategy, store.list('core/configmaps').items, { resourceVersion: '1' }, 'Metadata'), table);
  assert.equal(parsedObjects.parses, before, 'lists, selections and Tables read summaries and bytes only');
  // The parsed forms were collected: reading one parses its bytes again, to an equal object.
  const stored = store.get('core/configmaps', 'ns/c7')!;
  assert.equal(valueOf(stored.object), '7');
  assert.equal(parsedObjects.parses, before + 1, 'the live version kept no parsed object');
  assert.equal(stored.object, stored.object);
  assert.deepEqual(stored.object, JSON.parse(stored.json.toString()));
});

/** A version holding `object`, in a function of its own so that no local of the test keeps the parsed form alive. */
function storedVersion(object: KubeObject, revision: number): StoredVersion {
  return new StoredVersion(Buffer.from(JSON.stringify(object)), revision, object);
}

test("the scheduler's cache keeps a stored pod's version, not its parsed form: after a GC, its pod is parsed again, equal", async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'x' } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '100m' } } }] } };
  let info = podInfoOf(storedVersion(structuredClone(pod) as KubeObject, 3).object as never);
  const notStored = podInfoOf(structuredClone(pod) as never);
  parsedObjects.clear();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const before = parsedObjects.parses;
  assert.deepEqual(info.pod, pod);
  assert.equal(parsedObjects.parses, before + 1, 'the pod was parsed again');
  assert.equal(info.requests.milliCPU, 100);
  assert.deepEqual(notStored.pod, pod, 'a pod that is no stored version is kept as it is');
  info = notStored;
});

test('a registry store summarizes each version as it is written: the first Table after a GC parses nothing', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const store = new Store();
  const strategy = allKinds.find((k) => k.kind === 'ConfigMap')!;
  new GenericStore(strategy, store);
  for (let i = 0; i < 20; i++) await store.create('core/configmaps', `ns/c${i}`, cm(`c${i}`, String(i)));
  parsedObjects.clear();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const before = parsedObjects.parses;
  const { filter, index } = buildSelection(strategy, { labelSelector: 'app=x' });
  assert.equal(store.list('core/configmaps', { filter, index }).items.length, 20);
  assert.match(tableJson(strategy, store.list('core/configmaps').items, { resourceVersion: '1' }, 'None'), /"c19"/);
  assert.equal(parsedObjects.parses, before, 'summaries were made when the versions were written');
});
