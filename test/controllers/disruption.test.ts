/**
 * pods/eviction against PodDisruptionBudgets, and the disruption controller keeping their status,
 * over the real in-process registry and controller manager.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../../src/api/status.js';
import type { Obj } from '../../src/client/api-client.js';
import { DEPLOYMENTS, POD_DISRUPTION_BUDGETS, PODS } from '../../src/client/resource-types.js';
import { disruptionController } from '../../src/controllers/disruption.js';
import { deploymentController } from '../../src/controllers/deployment/controller.js';
import { replicaSetController } from '../../src/controllers/replicaset.js';
import { eventually, markRunningReady, runControllers, type RunningCluster } from './fixture.js';

let cluster: RunningCluster;

async function readyPod(namespace: string, name: string, labels: Record<string, string>, ready = true): Promise<void> {
  await cluster.client.create(PODS, namespace, { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'nginx' }] } } as Obj);
  if (ready) await markRunningReady(cluster.client, namespace, name);
  else await cluster.client.mutate(PODS, namespace, name, (p) => ({ ...p, status: { ...p.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } }), { subresource: 'status' });
}

async function budget(namespace: string, name: string, spec: Obj['spec']): Promise<Obj> {
  return cluster.client.create(POD_DISRUPTION_BUDGETS, namespace, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec } as Obj);
}

async function statusOf(namespace: string, name: string): Promise<Obj> {
  return (await cluster.client.get(POD_DISRUPTION_BUDGETS, namespace, name)).status;
}

const evict = (namespace: string, name: string, body: Obj = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name } } as Obj) => cluster.client.createSubresource(PODS, namespace, name, 'eviction', body);

before(async () => {
  cluster = await runControllers([disruptionController, deploymentController, replicaSetController], { namespaces: ['pdb', 'free', 'pct', 'unhealthy'] });
});
after(() => cluster.stop());

describe('disruption controller and pods/eviction', () => {
  it('minAvailable: status counts, DisruptionAllowed, one eviction allowed, the next refused with 429', async () => {
    for (const name of ['a', 'b', 'c']) await readyPod('pdb', name, { app: 'web' });
    await budget('pdb', 'web', { minAvailable: 2, selector: { matchLabels: { app: 'web' } } });
    const status = await eventually(async () => {
      const s = await statusOf('pdb', 'web');
      assert.equal(s.currentHealthy, 3);
      return s;
    });
    assert.equal(status.desiredHealthy, 2);
    assert.equal(status.expectedPods, 3);
    assert.equal(status.disruptionsAllowed, 1);
    assert.equal(status.observedGeneration, 1);
    const condition = status.conditions.find((c: Obj) => c.type === 'DisruptionAllowed');
    assert.equal(condition.status, 'True');
    assert.equal(condition.reason, 'SufficientPods');

    await evict('pdb', 'a');
    // Bound to a node: the pod is now terminating (graceful deletion), and the budget spent.
    assert.ok((await cluster.client.get(PODS, 'pdb', 'a')).metadata.deletionTimestamp);
    const refused = await evict('pdb', 'b').then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(refused instanceof ApiError);
    assert.equal(refused.code, 429);
    assert.equal(refused.reason, 'TooManyRequests');
    assert.equal(refused.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(refused.details?.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' }]);
    assert.equal((await cluster.client.get(PODS, 'pdb', 'b')).metadata.deletionTimestamp, undefined);

    await eventually(async () => {
      const s = await statusOf('pdb', 'web');
      assert.equal(s.currentHealthy, 2);
      assert.equal(s.disruptionsAllowed, 0);
      assert.equal(s.disruptedPods, undefined, 'the terminating pod is no longer tracked');
      const c = s.conditions.find((x: Obj) => x.type === 'DisruptionAllowed');
      assert.equal(c.status, 'False');
      assert.equal(c.reason, 'InsufficientPods');
    });
    // A replacement restores the allowance.
    await readyPod('pdb', 'd', { app: 'web' });
    await eventually(async () => assert.equal((await statusOf('pdb', 'web')).disruptionsAllowed, 1));
  });

  it('pods without a budget, and Pending pods, are evicted (deleted) at once; the name must match', async () => {
    await readyPod('free', 'loose', { app: 'x' });
    await evict('free', 'loose');
    assert.ok((await cluster.client.get(PODS, 'free', 'loose')).metadata.deletionTimestamp);
    await cluster.client.create(PODS, 'free', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'waiting' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } as Obj);
    await evict('free', 'waiting');
    await assert.rejects(cluster.client.get(PODS, 'free', 'waiting'), (e: unknown) => e instanceof ApiError && e.code === 404);
    await readyPod('free', 'named', { app: 'x' });
    await assert.rejects(evict('free', 'named', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'other' } } as Obj), (e: unknown) => e instanceof ApiError && e.code === 400);
  });

  it('maxUnavailable and percentages use the controllers\' replicas', async () => {
    await cluster.client.create(DEPLOYMENTS, 'pct', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    } as Obj);
    const pods = await eventually(async () => {
      const list = (await cluster.client.list(PODS, 'pct')).items;
      assert.equal(list.length, 4);
      return list;
    });
    for (const pod of pods.slice(0, 3)) await markRunningReady(cluster.client, 'pct', pod.metadata.name!);
    await budget('pct', 'max', { maxUnavailable: '25%', selector: { matchLabels: { app: 'web' } } });
    await eventually(async () => {
      const s = await statusOf('pct', 'max');
      assert.deepEqual([s.expectedPods, s.desiredHealthy, s.currentHealthy, s.disruptionsAllowed], [4, 3, 3, 0]);
    });
    await budget('pct', 'min', { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } });
    await eventually(async () => {
      const s = await statusOf('pct', 'min');
      assert.deepEqual([s.expectedPods, s.desiredHealthy, s.currentHealthy, s.disruptionsAllowed], [4, 2, 3, 1]);
    });
  });

  it('a percentage over pods without a controller fails the sync (SyncFailed, nothing allowed)', async () => {
    await readyPod('unhealthy', 'orphan', { app: 'o' });
    await budget('unhealthy', 'orphans', { maxUnavailable: 1, selector: { matchLabels: { app: 'o' } } });
    await eventually(async () => {
      const s = await statusOf('unhealthy', 'orphans');
      const c = (s.conditions ?? []).find((x: Obj) => x.type === 'DisruptionAllowed');
      assert.equal(c?.reason, 'SyncFailed');
      assert.match(c.message, /found no controllers for pod "orphan"/);
      assert.equal(s.disruptionsAllowed, 0);
    });
  });

  it('an unready pod is evicted without spending the budget while it is met; AlwaysAllow always', async () => {
    for (const name of ['h1', 'h2']) await readyPod('unhealthy', name, { app: 'h' });
    await readyPod('unhealthy', 'sick', { app: 'h' }, false);
    await budget('unhealthy', 'h', { minAvailable: 2, selector: { matchLabels: { app: 'h' } } });
    await eventually(async () => assert.equal((await statusOf('unhealthy', 'h')).currentHealthy, 2));
    assert.equal((await statusOf('unhealthy', 'h')).disruptionsAllowed, 0);
    await evict('unhealthy', 'sick');
    assert.ok((await cluster.client.get(PODS, 'unhealthy', 'sick')).metadata.deletionTimestamp);
    await assert.rejects(evict('unhealthy', 'h1'), (e: unknown) => e instanceof ApiError && e.code === 429);
  });
});
