/**
 * The ReplicaSet and ReplicationController controllers: upstream's deletion ranking, slow-start
 * batches, adoption and release by selector, status counts and the ReplicaFailure condition.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/api/status.js';
import type { AdmissionPlugin } from '../../src/admission/admission.js';
import type { Obj } from '../../src/client/api-client.js';
import type { OwnerReference } from '../../src/api/object.js';
import { PODS, REPLICA_SETS, REPLICATION_CONTROLLERS } from '../../src/client/resource-types.js';
import { podsToDelete } from '../../src/controllers/replicaset/deletion-ranking.js';
import { replicaSetController } from '../../src/controllers/replicaset.js';
import { replicationControllerController } from '../../src/controllers/replication-controller.js';
import { slowStartBatch } from '../../src/controllers/slow-start.js';
import { eventually, podTemplate, runControllers, sleep } from './fixture.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

function pod(name: string, options: { node?: string; phase?: string; ready?: boolean; readySince?: number; created?: number; restarts?: number; cost?: number; uid?: string } = {}): Obj {
  const conditions = options.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: ago(options.readySince ?? 60_000) }] : [];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      uid: options.uid ?? name,
      creationTimestamp: ago(options.created ?? 3_600_000),
      annotations: options.cost !== undefined ? { 'controller.kubernetes.io/pod-deletion-cost': String(options.cost) } : undefined,
    },
    spec: { nodeName: options.node, containers: [{ name: 'c', image: 'x' }] },
    status: { phase: options.phase ?? 'Running', conditions, containerStatuses: [{ name: 'c', restartCount: options.restarts ?? 0 }] },
  };
}

const first = (pods: Obj[], related: Obj[] = []) => podsToDelete(pods, related, 1, NOW)[0].metadata.name;

describe('deletion ranking (upstream ActivePodsWithRanks)', () => {
  it('unscheduled before scheduled', () => assert.equal(first([pod('on-node', { node: 'n1' }), pod('unscheduled')]), 'unscheduled'));
  it('Pending before Unknown before Running', () => {
    assert.equal(first([pod('running', { node: 'n', phase: 'Running' }), pod('unknown', { node: 'n', phase: 'Unknown' }), pod('pending', { node: 'n', phase: 'Pending' })]), 'pending');
    assert.equal(first([pod('running', { node: 'n', phase: 'Running' }), pod('unknown', { node: 'n', phase: 'Unknown' })]), 'unknown');
  });
  it('not ready before ready', () => assert.equal(first([pod('ready', { node: 'n', ready: true }), pod('not-ready', { node: 'n' })]), 'not-ready'));
  it('lower pod-deletion-cost first, a malformed cost counting as 0', () => {
    assert.equal(first([pod('costly', { node: 'n', ready: true, cost: 100 }), pod('cheap', { node: 'n', ready: true, cost: -5 })]), 'cheap');
    assert.equal(first([pod('one', { node: 'n', ready: true, cost: 1 }), pod('plain', { node: 'n', ready: true })]), 'plain');
  });
  it('more related pods on the same node first', () => {
    const related = [pod('r1', { node: 'crowded' }), pod('r2', { node: 'crowded' }), pod('r3', { node: 'quiet' })];
    assert.equal(first([pod('alone', { node: 'quiet', ready: true }), pod('doubled', { node: 'crowded', ready: true })], related), 'doubled');
  });
  it('ready for less time first, on a log2 scale of age (ties by uid)', () => {
    assert.equal(first([pod('long', { node: 'n', ready: true, readySince: 3_600_000 }), pod('short', { node: 'n', ready: true, readySince: 60_000 })]), 'short');
    // 60 s and 61 s are in the same power-of-two bucket: the lower uid goes first.
    assert.equal(first([pod('b', { node: 'n', ready: true, readySince: 61_000, uid: 'uid-b' }), pod('a', { node: 'n', ready: true, readySince: 60_000, uid: 'uid-z' })]), 'b');
  });
  it('more restarts first', () => assert.equal(first([pod('steady', { node: 'n', ready: true }), pod('flappy', { node: 'n', ready: true, restarts: 7 })]), 'flappy'));
  it('newer first', () => assert.equal(first([pod('old', { node: 'n', created: 86_400_000 }), pod('new', { node: 'n', created: 1_000 })]), 'new'));
  it('the criteria apply in order: an unscheduled ready pod goes before a scheduled pending one', () => {
    assert.equal(first([pod('pending-on-node', { node: 'n', phase: 'Pending' }), pod('ready-unscheduled', { ready: true })]), 'ready-unscheduled');
  });
  it('deleting as many as there are needs no ranking', () => assert.equal(podsToDelete([pod('a'), pod('b')], [], 5).length, 2));
});

describe('slow-start batches', () => {
  it('tries 1, 2, 4 … at a time and stops after the first batch with a failure', async () => {
    let calls = 0;
    let succeeded = 0;
    const result = await slowStartBatch(20, 1, async () => {
      calls++;
      if (calls > 3) throw new Error('quota exceeded');
      succeeded++;
    });
    // batches of 1 and 2 succeed; the batch of 4 fails, the remaining 13 are never tried
    assert.equal(calls, 7);
    assert.equal(result.successes, 3);
    assert.equal(succeeded, 3);
    assert.match(String(result.error), /quota exceeded/);
    const all = await slowStartBatch(10, 1, async () => {});
    assert.deepEqual(all, { successes: 10 });
  });
});

const replicaSet = (name: string, replicas: number, labels: Record<string, string>, extra: Obj['metadata'] = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name, ...extra },
  spec: { replicas, selector: { matchLabels: labels }, template: podTemplate(labels) },
});

const barePod = (name: string, labels: Record<string, string>, ownerReferences?: OwnerReference[]) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels, ownerReferences }, spec: { containers: [{ name: 'c', image: 'x' }] } });

describe('the ReplicaSet controller', () => {
  it('creates pods named <rs>-<5 chars>, owned with controller and blockOwnerDeletion, and counts them in status', async () => {
    const cluster = await runControllers([replicaSetController]);
    try {
      const rs = await cluster.client.create(REPLICA_SETS, 'default', replicaSet('fe', 3, { tier: 'fe' }));
      const pods = await eventually(async () => {
        const items = (await cluster.client.list(PODS, 'default')).items;
        assert.equal(items.length, 3);
        return items;
      });
      for (const p of pods) {
        assert.match(p.metadata.name!, /^fe-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
        assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'fe', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      }
      await eventually(async () => assert.deepEqual((await cluster.client.get(REPLICA_SETS, 'default', 'fe')).status, { replicas: 3, fullyLabeledReplicas: 3, observedGeneration: 1 }));
      // Ready pods: ready and available counted.
      const ready = pods[0];
      ready.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }] };
      await cluster.client.update(PODS, 'default', ready.metadata.name!, ready, { subresource: 'status' });
      await eventually(async () => assert.deepEqual((await cluster.client.get(REPLICA_SETS, 'default', 'fe')).status, { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 1, availableReplicas: 1, observedGeneration: 1 }));
      // A terminating pod is not counted: it is replaced at once.
      await cluster.client.mutate(PODS, 'default', pods[1].metadata.name!, (p) => ({ ...p, metadata: { ...p.metadata, finalizers: ['example.com/hold'] } }));
      await cluster.client.delete(PODS, 'default', pods[1].metadata.name!);
      await eventually(async () => {
        const items = (await cluster.client.list(PODS, 'default')).items;
        assert.equal(items.filter((p) => !p.metadata.deletionTimestamp).length, 3);
        assert.equal(items.length, 4);
      });
      await cluster.client.mutate(PODS, 'default', pods[1].metadata.name!, (p) => ({ ...p, metadata: { ...p.metadata, finalizers: [] } }));
    } finally {
      await cluster.stop();
    }
  });

  it('adopts matching orphans, leaves pods of another controller alone, and releases a pod relabelled away', async () => {
    const cluster = await runControllers([replicaSetController]);
    const { client } = cluster;
    try {
      await client.create(PODS, 'default', barePod('orphan', { tier: 'fe' }));
      await client.create(PODS, 'default', barePod('theirs', { tier: 'fe' }, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'other', uid: 'other-uid', controller: true }]));
      const rs = await client.create(REPLICA_SETS, 'default', replicaSet('fe', 2, { tier: 'fe' }));
      await eventually(async () => {
        const owned = (await client.list(PODS, 'default')).items.filter((p) => p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid);
        assert.equal(owned.length, 2);
        assert.ok(owned.some((p) => p.metadata.name === 'orphan'), 'the orphan was adopted');
      });
      assert.equal((await client.get(PODS, 'default', 'theirs')).metadata.ownerReferences![0].uid, 'other-uid');
      assert.deepEqual((await client.get(PODS, 'default', 'orphan')).metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'fe', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);

      await client.mutate(PODS, 'default', 'orphan', (p) => ({ ...p, metadata: { ...p.metadata, labels: { tier: 'elsewhere' } } }));
      await eventually(async () => {
        assert.equal((await client.get(PODS, 'default', 'orphan')).metadata.ownerReferences, undefined, 'released');
        const owned = (await client.list(PODS, 'default')).items.filter((p) => p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid);
        assert.equal(owned.length, 2, 'replaced');
      });
    } finally {
      await cluster.stop();
    }
  });

  it('scales down by deleting the lowest-ranked pods: the not-ready ones', async () => {
    const cluster = await runControllers([replicaSetController]);
    const { client } = cluster;
    try {
      await client.create(REPLICA_SETS, 'default', replicaSet('fe', 4, { tier: 'fe' }));
      const pods = await eventually(async () => {
        const items = (await client.list(PODS, 'default')).items;
        assert.equal(items.length, 4);
        return items;
      });
      const keep = pods.slice(0, 2).map((p) => p.metadata.name!);
      for (const name of keep) {
        const p = await client.get(PODS, 'default', name);
        p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }] };
        await client.update(PODS, 'default', name, p, { subresource: 'status' });
      }
      await eventually(async () => assert.equal((await client.get(REPLICA_SETS, 'default', 'fe')).status.readyReplicas, 2));
      await client.mutate(REPLICA_SETS, 'default', 'fe', (rs) => ({ ...rs, spec: { ...rs.spec, replicas: 2 } }));
      await eventually(async () => assert.deepEqual((await client.list(PODS, 'default')).items.map((p) => p.metadata.name).sort(), keep.sort()));
    } finally {
      await cluster.stop();
    }
  });

  it('a ReplicaSet being deleted neither adopts nor creates', async () => {
    const cluster = await runControllers([replicaSetController]);
    const { client } = cluster;
    try {
      await client.create(REPLICA_SETS, 'default', replicaSet('fe', 2, { tier: 'fe' }, { finalizers: ['example.com/hold'] }));
      await eventually(async () => assert.equal((await client.list(PODS, 'default')).items.length, 2));
      await client.delete(REPLICA_SETS, 'default', 'fe', { propagationPolicy: 'Orphan' });
      for (const p of (await client.list(PODS, 'default')).items) await client.delete(PODS, 'default', p.metadata.name!);
      await client.create(PODS, 'default', barePod('late', { tier: 'fe' }));
      await sleep(300);
      const pods = (await client.list(PODS, 'default')).items;
      assert.deepEqual(pods.map((p) => p.metadata.name), ['late']);
      assert.equal(pods[0].metadata.ownerReferences, undefined);
    } finally {
      await cluster.stop();
    }
  });

  it('reports ReplicaFailure (FailedCreate) while pods cannot be created, and clears it once they can', async () => {
    let refuse = true;
    const quota: AdmissionPlugin = {
      name: 'TestQuota',
      validate(attributes) {
        if (refuse && attributes.operation === 'CREATE' && attributes.kind.kind === 'Pod') throw new ApiError(403, 'Forbidden', 'pods "x" is forbidden: exceeded quota: test');
      },
    };
    const cluster = await runControllers([replicaSetController], { admission: [quota] });
    const { client } = cluster;
    try {
      await client.create(REPLICA_SETS, 'default', replicaSet('fe', 2, { tier: 'fe' }));
      const failure = await eventually(async () => {
        const condition = (await client.get(REPLICA_SETS, 'default', 'fe')).status.conditions?.[0];
        assert.ok(condition);
        return condition;
      });
      assert.equal(failure.type, 'ReplicaFailure');
      assert.equal(failure.status, 'True');
      assert.equal(failure.reason, 'FailedCreate');
      assert.match(failure.message, /exceeded quota: test/);
      refuse = false;
      await eventually(async () => {
        const rs = await client.get(REPLICA_SETS, 'default', 'fe');
        assert.equal(rs.status.replicas, 2);
        assert.equal(rs.status.conditions, undefined);
      }, 30_000);
    } finally {
      await cluster.stop();
    }
  });
});

describe('the ReplicationController controller', () => {
  it('keeps replicas by its map selector, adopting and releasing like a ReplicaSet', async () => {
    const cluster = await runControllers([replicationControllerController]);
    const { client } = cluster;
    try {
      await client.create(PODS, 'default', barePod('orphan', { app: 'legacy' }));
      const rc = await client.create(REPLICATION_CONTROLLERS, 'default', { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'legacy' }, spec: { replicas: 2, template: podTemplate({ app: 'legacy' }) } });
      await eventually(async () => {
        const pods = (await client.list(PODS, 'default')).items;
        assert.equal(pods.length, 2);
        assert.ok(pods.every((p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicationController' && p.metadata.ownerReferences[0].uid === rc.metadata.uid));
      });
      await eventually(async () => assert.deepEqual((await client.get(REPLICATION_CONTROLLERS, 'default', 'legacy')).status, { replicas: 2, fullyLabeledReplicas: 2, observedGeneration: 1 }));
      await client.mutate(REPLICATION_CONTROLLERS, 'default', 'legacy', (c) => ({ ...c, spec: { ...c.spec, replicas: 0 } }));
      await eventually(async () => assert.equal((await client.list(PODS, 'default')).items.length, 0));
    } finally {
      await cluster.stop();
    }
  });
});
