/** The revisioned store: revisions, compare-and-swap, consistent pages, watch resume and 410. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store, StoreConflictError, RevisionCompactedError, RevisionTooLargeError, type StoreEvent } from '../../src/storage/store.js';
import type { KubeObject } from '../../src/api/object.js';

const cm = (namespace: string, name: string, value = 'v'): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { value } });
const valueOf = (object: KubeObject) => (object.data as { value: string }).value;

test('every write bumps one global revision and stamps the object', async () => {
  const store = new Store();
  const a = await store.create('core/configmaps', 'ns/a', cm('ns', 'a'));
  const b = await store.create('apps/deployments', 'ns/b', cm('ns', 'b'));
  assert.equal(a.revision, 1);
  assert.equal(b.revision, 2);
  assert.equal(JSON.parse(b.json.toString()).metadata.resourceVersion, '2');
  const updated = await store.update('core/configmaps', 'ns/a', cm('ns', 'a', 'w'));
  assert.equal(updated.revision, 3);
  assert.equal(store.revision, 3);
  assert.equal(store.get('core/configmaps', 'ns/a')!.revision, 3);
});

test('compare-and-swap on revision', async () => {
  const store = new Store();
  const first = await store.create('core/configmaps', 'ns/a', cm('ns', 'a'));
  await store.update('core/configmaps', 'ns/a', cm('ns', 'a', '2'), first.revision);
  await assert.rejects(() => store.update('core/configmaps', 'ns/a', cm('ns', 'a', '3'), first.revision), (e: unknown) => e instanceof StoreConflictError && e.kind === 'revisionMismatch');
  await assert.rejects(() => store.create('core/configmaps', 'ns/a', cm('ns', 'a')), (e: unknown) => e instanceof StoreConflictError && e.kind === 'exists');
  await assert.rejects(() => store.delete('core/configmaps', 'ns/zz'), (e: unknown) => e instanceof StoreConflictError && e.kind === 'notFound');
  assert.equal(valueOf(store.get('core/configmaps', 'ns/a')!.object), '2');
});

test('lists are ordered, scoped by prefix, and paginate consistently at the first page revision', async () => {
  const store = new Store();
  for (const name of ['c', 'a', 'e', 'b', 'd']) await store.create('core/configmaps', `ns1/${name}`, cm('ns1', name));
  await store.create('core/configmaps', 'ns2/a', cm('ns2', 'a'));
  await store.create('core/configmaps', 'ns-1/a', cm('ns-1', 'a'));
  const page1 = store.list('core/configmaps', { prefix: 'ns1/', limit: 2 });
  assert.deepEqual(page1.items.map((i) => i.object.metadata.name), ['a', 'b']);
  assert.equal(page1.remaining, 3);
  // Writes after the first page must not show up in later pages.
  await store.delete('core/configmaps', 'ns1/c');
  await store.create('core/configmaps', 'ns1/bb', cm('ns1', 'bb'));
  await store.update('core/configmaps', 'ns1/d', cm('ns1', 'd', 'changed'));
  const page2 = store.list('core/configmaps', { prefix: 'ns1/', limit: 2, atRevision: page1.revision, afterKey: page1.continueAfter });
  assert.deepEqual(page2.items.map((i) => i.object.metadata.name), ['c', 'd']);
  assert.equal(valueOf(page2.items[1].object), 'v');
  const page3 = store.list('core/configmaps', { prefix: 'ns1/', limit: 2, atRevision: page1.revision, afterKey: page2.continueAfter });
  assert.deepEqual(page3.items.map((i) => i.object.metadata.name), ['e']);
  assert.equal(page3.continueAfter, undefined);
  const latest = store.list('core/configmaps', { prefix: 'ns1/' });
  assert.deepEqual(latest.items.map((i) => i.object.metadata.name), ['a', 'b', 'bb', 'd', 'e']);
  const all = store.list('core/configmaps', {});
  assert.deepEqual(all.items.map((i) => `${i.object.metadata.namespace}/${i.object.metadata.name}`), ['ns-1/a', 'ns1/a', 'ns1/b', 'ns1/bb', 'ns1/d', 'ns1/e', 'ns2/a']);
  const filtered = store.list('core/configmaps', { filter: (s) => s.object.metadata.name === 'a' });
  assert.equal(filtered.items.length, 3);
  assert.throws(() => store.list('core/configmaps', { atRevision: store.revision + 5 }), RevisionTooLargeError);
});

test('watch replays history after a revision, then streams live events in order', async () => {
  const store = new Store();
  await store.create('core/configmaps', 'ns/a', cm('ns', 'a'));
  const mark = store.revision;
  await store.update('core/configmaps', 'ns/a', cm('ns', 'a', '2'));
  await store.create('core/configmaps', 'ns/b', cm('ns', 'b'));
  const seen: string[] = [];
  const watcher = store.watch('core/configmaps', { fromRevision: mark }, (event: StoreEvent, type) => seen.push(`${type}:${event.key}:${event.revision}`));
  await store.delete('core/configmaps', 'ns/a');
  await store.create('core/configmaps', 'other/x', cm('other', 'x'));
  watcher.close();
  await store.create('core/configmaps', 'ns/after-close', cm('ns', 'after-close'));
  assert.deepEqual(seen, ['MODIFIED:ns/a:2', 'ADDED:ns/b:3', 'DELETED:ns/a:4', 'ADDED:other/x:5']);
});

test('a filtered watch sees objects entering and leaving the selector as ADDED and DELETED', async () => {
  const store = new Store();
  const seen: string[] = [];
  store.watch('core/configmaps', { fromRevision: 0, filter: (s) => valueOf(s.object) === 'yes' }, (_e, type) => seen.push(type));
  await store.create('core/configmaps', 'ns/a', cm('ns', 'a', 'no'));
  await store.update('core/configmaps', 'ns/a', cm('ns', 'a', 'yes'));
  await store.update('core/configmaps', 'ns/a', cm('ns', 'a', 'yes'));
  await store.update('core/configmaps', 'ns/a', cm('ns', 'a', 'no'));
  assert.deepEqual(seen, ['ADDED', 'MODIFIED', 'DELETED']);
});

test('resuming from a compacted revision fails with 410 semantics, for watch and list', async () => {
  const store = new Store({ historyLimit: 3 });
  for (let i = 0; i < 6; i++) await store.create('core/configmaps', `ns/${i}`, cm('ns', String(i)));
  assert.throws(() => store.watch('core/configmaps', { fromRevision: 1 }, () => {}), (e: unknown) => e instanceof RevisionCompactedError && e.message === 'too old resource version: 1 (3)');
  assert.throws(() => store.list('core/configmaps', { atRevision: 2 }), RevisionCompactedError);
  const seen: number[] = [];
  store.watch('core/configmaps', { fromRevision: 4 }, (e) => seen.push(e.revision));
  assert.deepEqual(seen, [5, 6]);
});

test('a durable log is appended before a write is acknowledged or watched, and restores state', async () => {
  const appended: number[] = [];
  let release: () => void = () => {};
  const log = {
    recover: async () => ({ snapshotRevision: 0, entries: [], mutations: [] }),
    append: (m: { revision: number }) => {
      appended.push(m.revision);
      return new Promise<void>((resolve) => (release = resolve));
    },
    snapshot: async () => {},
    close: async () => {},
  };
  const store = new Store({ durableLog: log });
  const seen: number[] = [];
  store.watch('core/configmaps', { fromRevision: 0 }, (e) => seen.push(e.revision));
  let acknowledged = false;
  const write = store.create('core/configmaps', 'ns/a', cm('ns', 'a')).then(() => (acknowledged = true));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(appended, [1]);
  assert.equal(acknowledged, false);
  assert.deepEqual(seen, []);
  release();
  await write;
  assert.deepEqual(seen, [1]);

  const restored = new Store();
  restored.restore({
    snapshotRevision: 5,
    entries: [{ resource: 'core/configmaps', key: 'ns/a', revision: 4, value: Buffer.from(JSON.stringify({ ...cm('ns', 'a'), metadata: { name: 'a', namespace: 'ns', resourceVersion: '4' } })) }],
    mutations: [{ revision: 6, type: 'put', resource: 'core/configmaps', key: 'ns/b', value: Buffer.from(JSON.stringify(cm('ns', 'b'))) }],
  });
  assert.equal(restored.revision, 6);
  assert.equal(restored.get('core/configmaps', 'ns/a')!.revision, 4);
  const replay: number[] = [];
  restored.watch('core/configmaps', { fromRevision: 5 }, (e) => replay.push(e.revision));
  assert.deepEqual(replay, [6]);
  assert.throws(() => restored.watch('core/configmaps', { fromRevision: 3 }, () => {}), RevisionCompactedError);
});

test('an index narrows a list to matching keys and follows every later write', async () => {
  const store = new Store();
  const pod = (ns: string, name: string, node?: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { nodeName: node } });
  await store.create('core/pods', 'a/p1', pod('a', 'p1', 'n1'));
  await store.create('core/pods', 'b/p2', pod('b', 'p2', 'n1'));
  await store.create('core/pods', 'a/p3', pod('a', 'p3', 'n2'));
  const onNode = (node: string) => ({ name: 'field:spec.nodeName', extract: (s: { object: KubeObject }) => (s.object.spec as { nodeName?: string }).nodeName ?? '', value: node });
  const names = (result: { items: Array<{ object: KubeObject }> }) => result.items.map((i) => `${i.object.metadata.namespace}/${i.object.metadata.name}`);
  assert.deepEqual(names(store.list('core/pods', { index: onNode('n1') })), ['a/p1', 'b/p2']);
  assert.deepEqual(names(store.list('core/pods', { index: onNode('n1'), prefix: 'b/' })), ['b/p2']);
  // Later writes move objects between values; deletes remove them.
  await store.update('core/pods', 'a/p3', pod('a', 'p3', 'n1'));
  await store.update('core/pods', 'a/p1', pod('a', 'p1', 'n2'));
  await store.delete('core/pods', 'b/p2');
  await store.create('core/pods', 'c/p4', pod('c', 'p4'));
  assert.deepEqual(names(store.list('core/pods', { index: onNode('n1') })), ['a/p3']);
  assert.deepEqual(names(store.list('core/pods', { index: onNode('n2') })), ['a/p1']);
  assert.deepEqual(names(store.list('core/pods', { index: onNode('') })), ['c/p4']);
  const page = store.list('core/pods', { index: onNode('n1'), limit: 1 });
  assert.equal(page.continueAfter, undefined, 'one match, one page');
});

test('a failing durable log stops all further writes and is reported once', async () => {
  const lost: string[] = [];
  const log = {
    recover: async () => ({ snapshotRevision: 0, entries: [], mutations: [] }),
    append: async () => {
      throw new Error('disk full');
    },
    snapshot: async () => {},
    close: async () => {},
  };
  const store = new Store({ durableLog: log, onDurabilityLost: (error) => lost.push(error.message) });
  await assert.rejects(store.create('core/configmaps', 'ns/a', cm('ns', 'a')), /durable log failed, refusing further writes: disk full/);
  await assert.rejects(store.create('core/configmaps', 'ns/b', cm('ns', 'b')), /refusing further writes/);
  assert.deepEqual(lost, ['durable log failed, refusing further writes: disk full']);
});

test('snapshotEntries is the state when it was captured, however the store changes while it is read, and reads again the same', async () => {
  const store = new Store();
  await store.create('core/configmaps', 'ns/a', cm('ns', 'a', 'first'));
  await store.create('core/configmaps', 'ns/b', cm('ns', 'b'));
  await store.create('core/secrets', 'ns/s', cm('ns', 's'));
  const captured = store.snapshotEntries();
  const revisionOfA = store.get('core/configmaps', 'ns/a')!.revision;
  await store.update('core/configmaps', 'ns/a', cm('ns', 'a', 'second'));
  await store.delete('core/configmaps', 'ns/b');
  await store.create('core/configmaps', 'ns/c', cm('ns', 'c'));
  const read = () => [...captured.entries].map((entry) => [entry.resource, entry.key, entry.revision, valueOf(JSON.parse(Buffer.from(entry.value).toString()))]);
  assert.equal(captured.revision, 3);
  assert.equal(captured.entries.length, 3);
  assert.deepEqual(read(), [
    ['core/configmaps', 'ns/a', revisionOfA, 'first'],
    ['core/configmaps', 'ns/b', 2, 'v'],
    ['core/secrets', 'ns/s', 3, 'v'],
  ]);
  assert.deepEqual(read(), read(), 'a second reading (a backup digests, then writes) gives the same entries');
});

test("snapshotEntries('visible') holds exactly the acknowledged state: writes still waiting for the log are undone", async () => {
  const waiting: Array<() => void> = [];
  const log = {
    recover: async () => ({ snapshotRevision: 0, entries: [], mutations: [] }),
    append: () => new Promise<void>((resolve) => waiting.push(resolve)),
    snapshot: async () => {},
    close: async () => {},
  };
  const store = new Store({ durableLog: log });
  const first = Promise.all([store.create('core/configmaps', 'ns/kept', cm('ns', 'kept', 'old')), store.create('core/configmaps', 'ns/doomed', cm('ns', 'doomed'))]);
  while (waiting.length < 2) await new Promise((r) => setImmediate(r));
  for (const resolve of waiting.splice(0)) resolve();
  await first;
  // Not yet durable: a change, a delete, a create, and a create then change of one key.
  const later = [
    store.update('core/configmaps', 'ns/kept', cm('ns', 'kept', 'new')),
    store.delete('core/configmaps', 'ns/doomed'),
    store.create('core/configmaps', 'ns/fresh', cm('ns', 'fresh')),
    store.create('core/secrets', 'ns/s', cm('ns', 's')).then(() => store.update('core/secrets', 'ns/s', cm('ns', 's', 'x'))),
  ];
  while (waiting.length < 4) await new Promise((r) => setImmediate(r));
  const visible = store.snapshotEntries('visible');
  assert.equal(visible.revision, 2);
  const byKey = new Map([...visible.entries].map((entry) => [`${entry.resource} ${entry.key}`, entry]));
  assert.deepEqual([...byKey.keys()].sort(), ['core/configmaps ns/doomed', 'core/configmaps ns/kept']);
  assert.equal(valueOf(JSON.parse(Buffer.from(byKey.get('core/configmaps ns/kept')!.value).toString())), 'old');
  assert.equal(store.snapshotEntries().revision, 6, 'the current view has the pending writes');
  for (const resolve of waiting.splice(0)) resolve();
  while (waiting.length < 1) await new Promise((r) => setImmediate(r));
  for (const resolve of waiting.splice(0)) resolve();
  await Promise.all(later);
  assert.equal(store.snapshotEntries('visible').revision, 7);
});
