import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InformerFactory } from '../../src/client/informer-factory.js';
import { PODS, NAMESPACES } from '../../src/client/resource-types.js';
import type { Obj } from '../../src/client/api-client.js';
import { inMemoryCluster, pod } from './fixture.js';

describe('SharedInformer over the in-process client', () => {
  it('lists, then follows every change, and its cache holds a write by the time the write resolves', async () => {
    const { client } = await inMemoryCluster(['a', 'b']);
    await client.create(PODS, 'a', pod('a', 'one', { app: 'web' }));
    const informers = new InformerFactory(client);
    const pods = informers.informer(PODS);
    const events: string[] = [];
    pods.addEventHandler({
      onAdd: (p, initial) => events.push(`add ${p.metadata.name}${initial ? ' (list)' : ''}`),
      onUpdate: (old, p) => events.push(`update ${p.metadata.name} ${old.metadata.labels?.app}→${p.metadata.labels?.app}`),
      onDelete: (p) => events.push(`delete ${p.metadata.name}`),
    });
    informers.start();
    await informers.waitForSync();
    assert.equal(pods.hasSynced, true);

    await client.create(PODS, 'b', pod('b', 'two', { app: 'db' }));
    assert.ok(pods.lister.get('b', 'two'), 'own write is cached when it resolves');
    await client.mutate(PODS, 'a', 'one', (p) => ({ ...p, metadata: { ...p.metadata, labels: { app: 'api' } } }));
    await client.delete(PODS, 'b', 'two');
    assert.deepEqual(events, ['add one (list)', 'add two', 'update one web→api', 'delete two']);
    assert.equal(pods.lister.get('b', 'two'), undefined);
    informers.stop();
  });

  it('answers by namespace, by label selector and by named index, staying right through updates', async () => {
    const { client } = await inMemoryCluster(['a', 'b']);
    for (let i = 0; i < 6; i++) await client.create(PODS, i % 2 ? 'a' : 'b', pod(i % 2 ? 'a' : 'b', `p${i}`, { app: i < 3 ? 'web' : 'db', tier: String(i % 3) }));
    const informers = new InformerFactory(client);
    const pods = informers.informer(PODS);
    pods.addIndexer('byTier', (p) => [p.metadata.labels?.tier ?? '']);
    await informers.waitForSync();
    const names = (list: Obj[]) => list.map((p) => p.metadata.name).sort();
    assert.deepEqual(names(pods.lister.list('a')), ['p1', 'p3', 'p5']);
    assert.deepEqual(names(pods.lister.list(undefined, 'app=web')), ['p0', 'p1', 'p2']);
    assert.deepEqual(names(pods.lister.list('a', 'app=web')), ['p1']);
    assert.deepEqual(names(pods.lister.list(undefined, 'app in (web,db),tier!=0')), ['p1', 'p2', 'p4', 'p5']);
    assert.deepEqual(names(pods.lister.byIndex('byTier', '0')), ['p0', 'p3']);

    // The label index built for app=… follows changes.
    await client.mutate(PODS, 'a', 'p1', (p) => ({ ...p, metadata: { ...p.metadata, labels: { app: 'db', tier: '0' } } }));
    assert.deepEqual(names(pods.lister.list(undefined, 'app=web')), ['p0', 'p2']);
    assert.deepEqual(names(pods.lister.byIndex('byTier', '0')), ['p0', 'p1', 'p3']);
    await client.delete(PODS, 'b', 'p0');
    assert.deepEqual(names(pods.lister.list(undefined, 'app=web')), ['p2']);
    assert.deepEqual(names(pods.lister.list('b')), ['p2', 'p4']);
    informers.stop();
  });

  it('feeds a large first list in batches: the event loop turns meanwhile, and a handler added mid-feed misses nothing and sees nothing twice', async () => {
    const { client } = await inMemoryCluster(['a']);
    const count = 2_300;
    for (let i = 0; i < count; i++) await client.create(PODS, 'a', pod('a', `p${i}`));
    const informers = new InformerFactory(client);
    const pods = informers.informer(PODS);
    const early: string[] = [];
    pods.addEventHandler({ onAdd: (p) => early.push(p.metadata.name!) });
    let turns = 0;
    const late: string[] = [];
    let cachedWhenAdded = -1;
    const ticker = setInterval(() => {
      turns++;
      // A consumer starting while the list is being fed (as controllers start one after another).
      if (cachedWhenAdded < 0 && pods.lister.list('a').length > 0) {
        cachedWhenAdded = pods.lister.list('a').length;
        pods.addEventHandler({ onAdd: (p) => late.push(p.metadata.name!) });
      }
    }, 0);
    informers.start();
    await informers.waitForSync();
    clearInterval(ticker);
    assert.ok(turns > 0, 'timers ran while the list was fed');
    assert.ok(cachedWhenAdded > 0 && cachedWhenAdded < count, `the late handler came mid-feed (${cachedWhenAdded} of ${count} cached)`);
    assert.equal(early.length, count);
    assert.equal(new Set(late).size, count);
    assert.equal(late.length, count);
    informers.stop();
  });

  it('is shared: one informer per resource, and a late handler is first given what is cached', async () => {
    const { client } = await inMemoryCluster(['a']);
    const informers = new InformerFactory(client);
    assert.equal(informers.informer(NAMESPACES), informers.informer(NAMESPACES));
    const namespaces = informers.informer(NAMESPACES);
    await informers.waitForSync();
    const seen: string[] = [];
    namespaces.addEventHandler({ onAdd: (ns, initial) => seen.push(`${ns.metadata.name}:${initial}`) });
    assert.deepEqual(seen, ['a:true']);
    informers.stop();
  });

  it('replays its cache to a handler added after the sync in batches; each object comes once, as it is by its turn, before any change to it', async () => {
    const { client } = await inMemoryCluster(['a']);
    const count = 1_700;
    for (let i = 0; i < count; i++) await client.create(PODS, 'a', pod('a', `p${i}`, { gen: '0' }));
    const informers = new InformerFactory(client);
    const pods = informers.informer(PODS);
    await informers.waitForSync();

    const events: string[] = [];
    const registration = pods.addEventHandler({
      onAdd: (p, initial) => events.push(`add ${p.metadata.name} ${p.metadata.labels?.gen}${initial ? ' (list)' : ''}`),
      onUpdate: (old, p) => events.push(`update ${p.metadata.name} ${old.metadata.labels?.gen}→${p.metadata.labels?.gen}`),
      onDelete: (p) => events.push(`delete ${p.metadata.name}`),
    });
    const givenAtOnce = events.length;
    assert.ok(givenAtOnce > 0 && givenAtOnce < count, `one batch at once, not the whole cache (${givenAtOnce} of ${count})`);
    assert.equal(registration.hasSynced, false);

    // Changes while the replay runs: to an object given already, to one still to come, a new one, a delete of one to come.
    const given = events[0].split(' ')[1];
    await client.mutate(PODS, 'a', given, (p) => ({ ...p, metadata: { ...p.metadata, labels: { gen: '1' } } }));
    assert.equal(events.at(-1), `update ${given} 0→1`, 'a change to an object given already comes at once');
    await client.mutate(PODS, 'a', `p${count - 1}`, (p) => ({ ...p, metadata: { ...p.metadata, labels: { gen: '1' } } }));
    await client.create(PODS, 'a', pod('a', 'fresh', { gen: '0' }));
    assert.equal(events.at(-1), 'add fresh 0');
    await client.delete(PODS, 'a', `p${count - 2}`);
    assert.ok(events.length < count, 'the replay is not over yet');
    // Waiting for the informer (as the scheduler and the reconcilers do) waits for the replay too.
    let startResolved: boolean | undefined;
    void pods.start().then(() => (startResolved = registration.hasSynced));
    let turns = 0;
    while (!registration.hasSynced) {
      turns++;
      assert.equal(startResolved, undefined, 'start() resolved before the late handler caught up');
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(turns >= 2, `the replay took several turns of the event loop (${turns})`);
    await pods.start();
    assert.equal(startResolved, true);

    const added = events.filter((e) => e.startsWith('add ')).map((e) => e.split(' ')[1]);
    assert.equal(added.length, count, 'every pod cached now, once (one deleted, one new)');
    assert.equal(new Set(added).size, count);
    assert.ok(!added.includes(`p${count - 2}`), 'the pod deleted before its turn is left out');
    assert.ok(!events.includes(`delete p${count - 2}`));
    assert.ok(events.includes(`add p${count - 1} 1 (list)`), 'the pod changed before its turn comes as it is by then');
    for (const [i, e] of events.entries()) {
      if (!e.startsWith('update ')) continue;
      assert.ok(events.slice(0, i).some((earlier) => earlier.startsWith(`add ${e.split(' ')[1]} `)), `${e} after its add`);
    }
    // The events rebuild the cache.
    const state = new Map<string, string>();
    for (const e of events) {
      const [verb, name, gen] = e.split(' ');
      if (verb === 'delete') state.delete(name);
      else state.set(name, verb === 'update' ? gen.split('→')[1] : gen);
    }
    assert.deepEqual(
      [...state].sort(),
      pods.lister.list('a').map((p) => [p.metadata.name!, p.metadata.labels!.gen] as [string, string]).sort(),
    );

    // Caught up: changes go straight through.
    await client.delete(PODS, 'a', 'fresh');
    assert.equal(events.at(-1), 'delete fresh');
    informers.stop();
  });

  it('shares one replay among handlers added in the same turn: each object is given to all of them in turn', async () => {
    const { client } = await inMemoryCluster(['a']);
    const count = 1_300;
    for (let i = 0; i < count; i++) await client.create(PODS, 'a', pod('a', `p${i}`));
    const informers = new InformerFactory(client);
    const pods = informers.informer(PODS);
    await informers.waitForSync();
    const adds: string[] = [];
    const first = pods.addEventHandler({ onAdd: (p) => adds.push(`first ${p.metadata.name}`) });
    const atOnce = adds.length;
    const second = pods.addEventHandler({ onAdd: (p) => adds.push(`second ${p.metadata.name}`) });
    assert.equal(adds.length, 2 * atOnce, 'the second is given at once the batch the first was given');
    await pods.start();
    assert.ok(first.hasSynced && second.hasSynced);
    // After the first batch, one pass gives each object to both, one after the other.
    const rest = adds.slice(2 * atOnce);
    assert.equal(rest.length, 2 * (count - atOnce));
    for (let i = 0; i < rest.length; i += 2) assert.deepEqual([rest[i].split(' ')[0], rest[i + 1]], ['first', rest[i].replace('first', 'second')]);
    for (const who of ['first', 'second']) assert.equal(new Set(adds.filter((a) => a.startsWith(who))).size, count);
    // A handler added in a later turn has a replay of its own.
    const later: string[] = [];
    pods.addEventHandler({ onAdd: (p) => later.push(p.metadata.name!) });
    await pods.start();
    assert.equal(later.length, count);
    informers.stop();
  });

  it('stops a late handler\'s replay when the handler is removed', async () => {
    const { client } = await inMemoryCluster(['a']);
    for (let i = 0; i < 1_200; i++) await client.create(PODS, 'a', pod('a', `p${i}`));
    const informers = new InformerFactory(client);
    const pods = informers.informer(PODS);
    await informers.waitForSync();
    let adds = 0;
    const registration = pods.addEventHandler({ onAdd: () => adds++ });
    const atOnce = adds;
    registration.remove();
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(adds, atOnce);
    informers.stop();
  });

  it('fills an index added after the sync in batches, and a read before it is full finishes it first', async () => {
    const { client } = await inMemoryCluster(['a']);
    const count = 1_600;
    for (let i = 0; i < count; i++) await client.create(PODS, 'a', pod('a', `p${i}`, { tier: String(i % 4) }));
    const informers = new InformerFactory(client);
    const pods = informers.informer(PODS);
    await informers.waitForSync();

    let calls = 0;
    pods.addIndexer('byTier', (p) => {
      calls++;
      return [p.metadata.labels?.tier ?? ''];
    });
    assert.ok(calls > 0 && calls < count, `one batch at once (${calls} of ${count})`);
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(calls < count, 'still filling after one turn');
    // A change while it fills: a pod not yet indexed moves to another tier.
    await client.mutate(PODS, 'a', `p${count - 1}`, (p) => ({ ...p, metadata: { ...p.metadata, labels: { tier: 'moved' } } }));
    assert.equal(pods.lister.byIndex('byTier', '0').length, count / 4);
    assert.equal(pods.lister.byIndex('byTier', '3').length, count / 4 - 1);
    assert.deepEqual(pods.lister.byIndex('byTier', 'moved').map((p) => p.metadata.name), [`p${count - 1}`]);
    const callsWhenFull = calls;
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls, callsWhenFull, 'nothing indexed twice after the read finished it');

    // Filled in the background when nobody reads it.
    pods.addIndexer('byName', (p) => [p.metadata.name!]);
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(pods.lister.byIndex('byName', 'p0').length, 1);
    assert.equal(pods.lister.byIndex('byName', `p${count - 1}`).length, 1);
    informers.stop();
  });

  it('with a field selector, sees objects enter and leave it as adds and deletes', async () => {
    const { client } = await inMemoryCluster(['a']);
    const informers = new InformerFactory(client);
    const onNode = informers.informer(PODS, { fieldSelector: 'spec.nodeName=n1' });
    const events: string[] = [];
    onNode.addEventHandler({ onAdd: (p) => events.push(`add ${p.metadata.name}`), onDelete: (p) => events.push(`delete ${p.metadata.name}`) });
    await informers.waitForSync();
    await client.create(PODS, 'a', pod('a', 'x'));
    await client.createSubresource(PODS, 'a', 'x', 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'x' }, target: { kind: 'Node', name: 'n1' } });
    assert.equal(onNode.lister.get('a', 'x')?.spec.nodeName, 'n1');
    // A bound pod is deleted gracefully (the kubelet confirms); grace 0 removes it at once.
    await client.delete(PODS, 'a', 'x', { gracePeriodSeconds: 0 });
    assert.deepEqual(events, ['add x', 'delete x']);
    informers.stop();
  });
});
