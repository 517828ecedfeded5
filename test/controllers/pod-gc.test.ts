/** The pod garbage collector over the real in-process registry: orphaned, unscheduled-terminating and excess finished pods. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/api/status.js';
import type { Obj } from '../../src/client/api-client.js';
import { NODES, PODS } from '../../src/client/resource-types.js';
import { newPodGcController, PodGc } from '../../src/controllers/pod-gc.js';
import { controllerCluster, eventually, markFinished, runControllers } from './fixture.js';

const pod = (name: string, nodeName?: string, finalizers?: string[]) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, finalizers }, spec: { nodeName, containers: [{ name: 'c', image: 'nginx' }] } }) as Obj;
const gone = (e: unknown) => e instanceof ApiError && e.code === 404;

describe('pod garbage collector', () => {
  it('force-deletes pods bound to a deleted node, marking them Failed with DisruptionTarget first; pods on live nodes stay', async () => {
    const cluster = await runControllers([newPodGcController({ periodMs: 50 })]);
    try {
      await cluster.client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'live' } } as Obj);
      await cluster.client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'doomed' } } as Obj);
      await cluster.client.create(PODS, 'default', pod('kept', 'live'));
      await cluster.client.create(PODS, 'default', pod('orphan', 'doomed', ['example.com/hold']));
      await cluster.client.delete(NODES, undefined, 'doomed');
      const marked = await eventually(async () => {
        const p = await cluster.client.get(PODS, 'default', 'orphan');
        assert.ok(p.metadata.deletionTimestamp, 'deleted (held by its finalizer so the test can look)');
        return p;
      });
      assert.equal(marked.metadata.deletionGracePeriodSeconds, 0);
      assert.equal(marked.status.phase, 'Failed');
      const condition = marked.status.conditions.find((c: Obj) => c.type === 'DisruptionTarget');
      assert.deepEqual([condition.status, condition.reason, condition.message], ['True', 'DeletionByPodGC', 'PodGC: node no longer exists']);
      assert.equal((await cluster.client.get(PODS, 'default', 'kept')).metadata.deletionTimestamp, undefined);
    } finally {
      await cluster.stop();
    }
  });

  it('deletes the oldest finished pods above the threshold, and terminating pods never scheduled', async () => {
    const cluster = await controllerCluster();
    const pods = cluster.informers.informer(PODS);
    const nodes = cluster.informers.informer(NODES);
    await cluster.sync();
    await cluster.client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } as Obj);
    for (const name of ['p0', 'p1', 'p2', 'p3']) {
      await cluster.client.create(PODS, 'default', pod(name, 'n1'));
      // Created within one second, they tie on creationTimestamp; the name breaks the tie.
      await markFinished(cluster.client, 'default', name, 0);
    }
    await cluster.client.create(PODS, 'default', pod('running', 'n1'));
    await cluster.client.create(PODS, 'default', pod('stuck', undefined, ['example.com/hold']));
    await cluster.client.delete(PODS, 'default', 'stuck');
    await eventually(() => assert.equal(pods.lister.list('default').length, 6));
    const gc = new PodGc({ client: cluster.client, pods, nodes, terminatedPodThreshold: 2 });
    await gc.gc();
    assert.deepEqual(await cluster.names(PODS), ['p2', 'p3', 'running', 'stuck']);
    assert.equal((await cluster.client.get(PODS, 'default', 'stuck')).metadata.deletionGracePeriodSeconds, 0, 'force-deleted (its finalizer holds it)');
    await assert.rejects(cluster.client.get(PODS, 'default', 'p0'), gone);
    cluster.stop();
  });
});
