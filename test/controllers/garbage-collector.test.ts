/**
 * The garbage collector over a real registry: dangling references (owner gone, never there, uid
 * mismatch, wrong kind), several owners, background cascades through levels, foreground
 * deletion with blockOwnerDeletion, orphaning.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OwnerReference } from '../../src/api/object.js';
import type { Obj } from '../../src/client/api-client.js';
import { CONFIG_MAPS, NAMESPACES, SECRETS } from '../../src/client/resource-types.js';
import { garbageCollectorController } from '../../src/controllers/garbage-collector/garbage-collector.js';
import { eventually, runControllers, sleep, type RunningCluster } from './fixture.js';

const ref = (owner: Obj, extra: Partial<OwnerReference> = {}): OwnerReference => ({ apiVersion: 'v1', kind: owner.kind ?? 'ConfigMap', name: owner.metadata.name!, uid: owner.metadata.uid!, ...extra });

async function configMap(cluster: RunningCluster, name: string, owners: OwnerReference[] = [], finalizers?: string[]): Promise<Obj> {
  return cluster.client.create(CONFIG_MAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ownerReferences: owners.length ? owners : undefined, finalizers } });
}

async function exists(cluster: RunningCluster, name: string): Promise<Obj | undefined> {
  try {
    return await cluster.client.get(CONFIG_MAPS, 'default', name);
  } catch {
    return undefined;
  }
}

async function withCollector(run: (cluster: RunningCluster) => Promise<void>): Promise<void> {
  const cluster = await runControllers([garbageCollectorController]);
  try {
    await run(cluster);
  } finally {
    await cluster.stop();
  }
}

describe('garbage collector', () => {
  it('deletes dependents whose owner never existed or has another uid; keeps those with a live owner', () =>
    withCollector(async (cluster) => {
      const owner = await configMap(cluster, 'owner');
      await configMap(cluster, 'never', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-4000-8000-000000000001' }]);
      await configMap(cluster, 'mismatch', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: '00000000-0000-4000-8000-000000000002' }]);
      await configMap(cluster, 'wrong-kind', [{ apiVersion: 'v1', kind: 'Secret', name: 'owner', uid: owner.metadata.uid! }]);
      await configMap(cluster, 'child', [ref(owner)]);
      await eventually(async () => {
        assert.equal(await exists(cluster, 'never'), undefined);
        assert.equal(await exists(cluster, 'mismatch'), undefined);
        assert.equal(await exists(cluster, 'wrong-kind'), undefined);
      });
      await sleep(200);
      assert.ok(await exists(cluster, 'child'));
      assert.ok(await exists(cluster, 'owner'));
    }));

  it('with one live owner and one gone, keeps the dependent and drops the dangling reference', () =>
    withCollector(async (cluster) => {
      const alive = await configMap(cluster, 'alive');
      const doomed = await configMap(cluster, 'doomed');
      await configMap(cluster, 'shared', [ref(alive), ref(doomed)]);
      await cluster.client.delete(CONFIG_MAPS, 'default', 'doomed');
      await eventually(async () => assert.deepEqual((await exists(cluster, 'shared'))?.metadata.ownerReferences, [ref(alive)]));
    }));

  it('cascades a background delete level by level, across kinds and to cluster-scoped owners', () =>
    withCollector(async (cluster) => {
      const root = await configMap(cluster, 'root');
      const middle = await configMap(cluster, 'middle', [ref(root)]);
      await cluster.client.create(SECRETS, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'leaf', ownerReferences: [ref(middle)] } });
      const namespace = await cluster.client.create(NAMESPACES, undefined, { metadata: { name: 'owner-ns' } });
      await configMap(cluster, 'by-namespace', [{ apiVersion: 'v1', kind: 'Namespace', name: 'owner-ns', uid: namespace.metadata.uid! }]);
      await cluster.client.delete(CONFIG_MAPS, 'default', 'root');
      await eventually(async () => {
        assert.equal(await exists(cluster, 'middle'), undefined);
        await assert.rejects(cluster.client.get(SECRETS, 'default', 'leaf'), /not found/);
      });
      await sleep(200);
      assert.ok(await exists(cluster, 'by-namespace'), 'a live cluster-scoped owner is found without a namespace');
    }));

  it('Foreground: the owner waits for dependents that block it, deleted in the foreground too, and goes last', () =>
    withCollector(async (cluster) => {
      const { client } = cluster;
      const owner = await configMap(cluster, 'owner');
      const blocking = await configMap(cluster, 'blocking', [ref(owner, { blockOwnerDeletion: true })]);
      await configMap(cluster, 'grandchild', [ref(blocking, { blockOwnerDeletion: true })], ['example.com/hold']);
      await configMap(cluster, 'loose', [ref(owner, { blockOwnerDeletion: false })]);
      await client.delete(CONFIG_MAPS, 'default', 'owner', { propagationPolicy: 'Foreground' });
      await eventually(async () => {
        const o = await exists(cluster, 'owner');
        assert.deepEqual(o?.metadata.finalizers, ['foregroundDeletion']);
        const b = await exists(cluster, 'blocking');
        assert.ok(b?.metadata.deletionTimestamp, 'the blocking dependent is being deleted');
        assert.deepEqual(b?.metadata.finalizers, ['foregroundDeletion']);
        assert.ok((await exists(cluster, 'grandchild'))?.metadata.deletionTimestamp);
        assert.equal(await exists(cluster, 'loose'), undefined, 'a non-blocking dependent is deleted too');
      });
      await sleep(200);
      assert.ok(await exists(cluster, 'owner'), 'held while a blocking dependent remains');
      await client.mutate(CONFIG_MAPS, 'default', 'grandchild', (cm) => ({ ...cm, metadata: { ...cm.metadata, finalizers: [] } }));
      await eventually(async () => {
        assert.equal(await exists(cluster, 'blocking'), undefined);
        assert.equal(await exists(cluster, 'owner'), undefined);
      });
    }));

  it('Foreground with only non-blocking dependents lets the owner go at once', () =>
    withCollector(async (cluster) => {
      const owner = await configMap(cluster, 'owner');
      await configMap(cluster, 'loose', [ref(owner)], ['example.com/hold']);
      await cluster.client.delete(CONFIG_MAPS, 'default', 'owner', { propagationPolicy: 'Foreground' });
      await eventually(async () => assert.equal(await exists(cluster, 'owner'), undefined));
      assert.ok((await exists(cluster, 'loose'))?.metadata.deletionTimestamp);
      await cluster.client.mutate(CONFIG_MAPS, 'default', 'loose', (cm) => ({ ...cm, metadata: { ...cm.metadata, finalizers: [] } }));
    }));

  it('Orphan: strips the owner from every dependent, then lets the owner go', () =>
    withCollector(async (cluster) => {
      const owner = await configMap(cluster, 'owner');
      const other = await configMap(cluster, 'other');
      await configMap(cluster, 'a', [ref(owner, { controller: true, blockOwnerDeletion: true })]);
      await configMap(cluster, 'b', [ref(owner), ref(other)]);
      const pending = await cluster.client.delete(CONFIG_MAPS, 'default', 'owner', { propagationPolicy: 'Orphan' });
      assert.deepEqual(pending?.metadata.finalizers, ['orphan']);
      await eventually(async () => assert.equal(await exists(cluster, 'owner'), undefined));
      assert.equal((await exists(cluster, 'a'))?.metadata.ownerReferences, undefined);
      assert.deepEqual((await exists(cluster, 'b'))?.metadata.ownerReferences, [ref(other)]);
    }));

  it('an owner deleted while the collector was not running is found dangling when it starts', async () => {
    const cluster = await runControllers([]);
    const owner = await configMap(cluster, 'owner');
    await configMap(cluster, 'child', [ref(owner)]);
    await cluster.client.delete(CONFIG_MAPS, 'default', 'owner');
    await cluster.stop();
    // The same store, now with the collector: its first list sees a child of a missing owner.
    const { ControllerManager } = await import('../../src/controllers/manager.js');
    const { InformerFactory } = await import('../../src/client/informer-factory.js');
    const { Registry: MetricsRegistry } = await import('prom-client');
    const informers = new InformerFactory(cluster.client);
    const manager = new ControllerManager([garbageCollectorController], { clientFor: (user, fm) => cluster.client.as(user, fm), informers, metrics: new MetricsRegistry() });
    await manager.start();
    try {
      await eventually(async () => assert.equal(await exists(cluster, 'child'), undefined));
    } finally {
      await manager.stop();
      informers.stop();
    }
  });
});
