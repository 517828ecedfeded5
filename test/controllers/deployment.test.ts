/**
 * The Deployment controller's arithmetic against upstream's documented cases: maxSurge and
 * maxUnavailable with percentages and their rounding, the rolling-update steps, proportional
 * scaling, history cleanup, the pod-template-hash, and a full controller run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Obj } from '../../src/client/api-client.js';
import { EventRecorder } from '../../src/client/event-recorder.js';
import { InformerFactory } from '../../src/client/informer-factory.js';
import type { InProcessClient } from '../../src/client/in-process.js';
import { DEPLOYMENTS, EVENTS, PODS, REPLICA_SETS } from '../../src/client/resource-types.js';
import { setReplicasAnnotations } from '../../src/controllers/deployment/annotations.js';
import { deploymentController } from '../../src/controllers/deployment/controller.js';
import { computePodTemplateHash, equalIgnoringHash } from '../../src/controllers/deployment/hash.js';
import { maxSurge, maxUnavailable, newReplicaSetReplicas, resolveFenceposts, scaledValue } from '../../src/controllers/deployment/replica-sets.js';
import { cleanupUnhealthyReplicas, reconcileNewReplicaSet, reconcileOldReplicaSets, scaleDownOldReplicaSetsForRollingUpdate } from '../../src/controllers/deployment/rolling.js';
import { cleanupDeployment, scale, type SyncContext, type SyncState } from '../../src/controllers/deployment/sync.js';
import { replicaSetController } from '../../src/controllers/replicaset.js';
import { inMemoryCluster } from '../client/fixture.js';
import { eventually, podTemplate, runControllers } from './fixture.js';

function deployment(replicas: number, rolling: { maxSurge?: number | string; maxUnavailable?: number | string } = {}, extra: Obj['spec'] = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'foo', namespace: 'default', uid: 'd-uid', generation: 1 },
    spec: { replicas, selector: { matchLabels: { foo: 'bar' } }, template: podTemplate({ foo: 'bar' }), strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: rolling.maxSurge ?? '25%', maxUnavailable: rolling.maxUnavailable ?? '25%' } }, ...extra },
    status: {},
  };
}

/** A stored ReplicaSet with `replicas` wanted and `available` available, created (for ordering) at `createdAt`. */
async function storedRS(client: InProcessClient, name: string, replicas: number, options: { available?: number; annotations?: Record<string, string>; createdAt?: string; statusReplicas?: number } = {}): Promise<Obj> {
  const created = await client.create(REPLICA_SETS, 'default', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', annotations: options.annotations },
    spec: { replicas, selector: { matchLabels: { rs: name } }, template: podTemplate({ rs: name }) },
  });
  created.status = { replicas: options.statusReplicas ?? replicas, availableReplicas: options.available ?? replicas, observedGeneration: created.metadata.generation };
  const withStatus = await client.update(REPLICA_SETS, 'default', name, created, { subresource: 'status' });
  if (options.createdAt) withStatus.metadata.creationTimestamp = options.createdAt;
  return withStatus;
}

async function syncFixture() {
  const { client } = await inMemoryCluster();
  const informers = new InformerFactory(client);
  const replicaSets = informers.informer(REPLICA_SETS);
  await informers.waitForSync();
  const ctx: SyncContext = { client, events: new EventRecorder(client, { component: 'deployment-controller' }), replicaSets: replicaSets.lister, podsOf: () => [], now: () => Date.now() };
  const specOf = async (name: string) => (await client.get(REPLICA_SETS, 'default', name)).spec.replicas as number;
  return { client, ctx, specOf, stop: () => informers.stop() };
}

describe('maxSurge and maxUnavailable against the replica count', () => {
  it('rounds a surge percentage up and an unavailability percentage down', () => {
    assert.equal(scaledValue('25%', 10, true), 3);
    assert.equal(scaledValue('25%', 10, false), 2);
    assert.equal(scaledValue('25%', 1, true), 1);
    assert.equal(scaledValue('25%', 1, false), 0);
    assert.equal(scaledValue('33%', 3, true), 1);
    assert.equal(scaledValue('50%', 5, false), 2);
    assert.equal(scaledValue(7, 100, true), 7);
    assert.throws(() => scaledValue('7', 10, true), /not a percentage/);
  });

  it('never resolves both to zero: unavailability becomes 1 (ResolveFenceposts)', () => {
    assert.deepEqual(resolveFenceposts('25%', '25%', 10), { surge: 3, unavailable: 2 });
    assert.deepEqual(resolveFenceposts('25%', '25%', 1), { surge: 1, unavailable: 0 });
    assert.deepEqual(resolveFenceposts(0, 0, 10), { surge: 0, unavailable: 1 });
    assert.deepEqual(resolveFenceposts('0%', '10%', 5), { surge: 0, unavailable: 1 });
    assert.deepEqual(resolveFenceposts('1%', '0%', 5), { surge: 1, unavailable: 0 });
    assert.deepEqual(resolveFenceposts(undefined, undefined, 3), { surge: 0, unavailable: 1 });
  });

  it('caps maxUnavailable at the replica count, is zero for Recreate and for zero replicas', () => {
    assert.equal(maxUnavailable(deployment(2, { maxUnavailable: 5 })), 2);
    assert.equal(maxUnavailable(deployment(0, { maxUnavailable: 5 })), 0);
    assert.equal(maxUnavailable(deployment(10, { maxSurge: 0, maxUnavailable: '0%' })), 1);
    const recreate = deployment(10);
    recreate.spec.strategy = { type: 'Recreate' };
    assert.equal(maxUnavailable(recreate), 0);
    assert.equal(maxSurge(recreate), 0);
    assert.equal(maxSurge(deployment(10, { maxSurge: '25%' })), 3);
  });

  it('lets the new ReplicaSet grow only within replicas + maxSurge (NewRSNewReplicas)', () => {
    const rs = (replicas: number) => ({ metadata: {}, spec: { replicas } }) as Obj;
    const cases: Array<[number, number | string, number, number, number]> = [
      // replicas, maxSurge, old, new, expected new
      [10, 0, 10, 0, 0],
      [10, 2, 10, 0, 2],
      [10, 2, 5, 0, 7],
      [10, 2, 10, 2, 2],
      [10, '30%', 10, 0, 3],
      [10, '30%', 4, 3, 9],
    ];
    for (const [replicas, surge, oldReplicas, newReplicas, expected] of cases) {
      const newRS = rs(newReplicas);
      assert.equal(newReplicaSetReplicas(deployment(replicas, { maxSurge: surge, maxUnavailable: 0 }), [rs(oldReplicas), newRS], newRS), expected, `${replicas} ${surge} ${oldReplicas} ${newReplicas}`);
    }
    const recreate = deployment(4);
    recreate.spec.strategy = { type: 'Recreate' };
    assert.equal(newReplicaSetReplicas(recreate, [rs(3), rs(0)], rs(0)), 4);
  });
});

describe('rolling update steps, on stored ReplicaSets', () => {
  it('reconcileNewReplicaSet: scales up within the surge, down when above the replica count', async () => {
    const cases: Array<{ replicas: number; surge: number; old: number; new: number; expected?: number }> = [
      { replicas: 10, surge: 0, old: 10, new: 0 },
      { replicas: 10, surge: 2, old: 10, new: 0, expected: 2 },
      { replicas: 10, surge: 2, old: 5, new: 0, expected: 7 },
      { replicas: 10, surge: 2, old: 10, new: 2 },
      { replicas: 10, surge: 2, old: 2, new: 11, expected: 10 },
    ];
    for (const [i, c] of cases.entries()) {
      const { client, ctx, specOf, stop } = await syncFixture();
      const newRS = await storedRS(client, `new-${i}`, c.new);
      const oldRS = await storedRS(client, `old-${i}`, c.old);
      const state: SyncState = { d: deployment(c.replicas, { maxSurge: c.surge, maxUnavailable: 0 }), rsList: [newRS, oldRS] };
      const scaled = await reconcileNewReplicaSet(ctx, state, [newRS, oldRS], newRS);
      assert.equal(scaled, c.expected !== undefined, `case ${i}`);
      assert.equal(await specOf(`new-${i}`), c.expected ?? c.new, `case ${i}`);
      stop();
    }
  });

  it('reconcileOldReplicaSets: scales down while availability allows, unhealthy replicas first', async () => {
    const cases: Array<{ replicas: number; maxUnavailable: number; old: number; new: number; oldReady: number; newReady: number; expectedOld?: number }> = [
      { replicas: 10, maxUnavailable: 0, old: 10, new: 0, oldReady: 10, newReady: 0, expectedOld: 9 },
      { replicas: 10, maxUnavailable: 2, old: 10, new: 0, oldReady: 10, newReady: 0, expectedOld: 8 },
      // two unhealthy old replicas are cleaned up
      { replicas: 10, maxUnavailable: 2, old: 10, new: 0, oldReady: 8, newReady: 0, expectedOld: 8 },
      // one unhealthy cleaned up, one ready scaled down
      { replicas: 10, maxUnavailable: 2, old: 10, new: 0, oldReady: 9, newReady: 0, expectedOld: 8 },
      // the new ReplicaSet's unavailable pods forbid going further
      { replicas: 10, maxUnavailable: 2, old: 8, new: 2, oldReady: 8, newReady: 0 },
    ];
    for (const [i, c] of cases.entries()) {
      const { client, ctx, specOf, stop } = await syncFixture();
      const newRS = await storedRS(client, `new-${i}`, c.new, { available: c.newReady });
      const oldRS = await storedRS(client, `old-${i}`, c.old, { available: c.oldReady });
      const state: SyncState = { d: deployment(c.replicas, { maxSurge: 0, maxUnavailable: c.maxUnavailable }), rsList: [newRS, oldRS] };
      const scaled = await reconcileOldReplicaSets(ctx, state, [oldRS, newRS], [oldRS], newRS);
      assert.equal(scaled, c.expectedOld !== undefined, `case ${i}`);
      assert.equal(await specOf(`old-${i}`), c.expectedOld ?? c.old, `case ${i}`);
      stop();
    }
  });

  it('cleanupUnhealthyReplicas removes at most maxCleanup unavailable replicas', async () => {
    const cases: Array<[number, number, number, number]> = [
      // old replicas, available, maxCleanup, expected cleaned
      [10, 8, 1, 1],
      [10, 8, 3, 2],
      [10, 8, 0, 0],
      [10, 10, 3, 0],
    ];
    for (const [i, [replicas, available, maxCleanup, expected]] of cases.entries()) {
      const { client, ctx, specOf, stop } = await syncFixture();
      const oldRS = await storedRS(client, `old-${i}`, replicas, { available });
      const state: SyncState = { d: deployment(10, { maxSurge: 2, maxUnavailable: 2 }), rsList: [oldRS] };
      const { count } = await cleanupUnhealthyReplicas(ctx, state, [oldRS], maxCleanup);
      assert.equal(count, expected, `case ${i}`);
      assert.equal(await specOf(`old-${i}`), replicas - expected);
      stop();
    }
  });

  it('scaleDownOldReplicaSetsForRollingUpdate keeps replicas - maxUnavailable available', async () => {
    const cases: Array<[number, number, number, number, number | undefined]> = [
      // replicas, maxUnavailable, available, old replicas, expected old
      [10, 0, 10, 10, 9],
      [10, 2, 10, 10, 8],
      [10, 2, 8, 10, undefined],
      [10, 2, 10, 0, undefined],
      [10, 2, 1, 10, undefined],
    ];
    for (const [i, [replicas, unavailable, available, old, expected]] of cases.entries()) {
      const { client, ctx, specOf, stop } = await syncFixture();
      const oldRS = await storedRS(client, `old-${i}`, old, { available });
      const state: SyncState = { d: deployment(replicas, { maxSurge: 0, maxUnavailable: unavailable }), rsList: [oldRS] };
      const scaled = await scaleDownOldReplicaSetsForRollingUpdate(ctx, state, [oldRS], [oldRS]);
      assert.equal(scaled > 0, expected !== undefined, `case ${i}`);
      assert.equal(await specOf(`old-${i}`), expected ?? old);
      stop();
    }
  });
});

describe('proportional scaling (upstream TestScale)', () => {
  const NEW = '2016-05-20T02:00:00Z';
  const OLD = '2016-05-20T01:00:00Z';
  const OLDER = '2016-05-20T00:00:00Z';
  type Case = { name: string; replicas: number; oldReplicas: number; surge?: number; oldSurge?: number; newRS?: [string, number]; oldRSs: Array<[string, number, string]>; expectNew?: number; expectOld: number[]; newAvailable?: number; template?: boolean };
  const cases: Case[] = [
    { name: 'normal scaling event: 10 -> 12', replicas: 12, oldReplicas: 10, newRS: ['v1', 10], oldRSs: [], expectNew: 12, expectOld: [] },
    { name: 'normal scaling event: 10 -> 5', replicas: 5, oldReplicas: 10, newRS: ['v1', 10], oldRSs: [], expectNew: 5, expectOld: [] },
    { name: 'proportional scaling: 5 -> 10', replicas: 10, oldReplicas: 5, newRS: ['v2', 2], oldRSs: [['v1', 3, OLD]], expectNew: 4, expectOld: [6] },
    { name: 'proportional scaling: 5 -> 3', replicas: 3, oldReplicas: 5, newRS: ['v2', 2], oldRSs: [['v1', 3, OLD]], expectNew: 1, expectOld: [2] },
    { name: 'proportional scaling: 9 -> 4', replicas: 4, oldReplicas: 9, newRS: ['v2', 8], oldRSs: [['v1', 1, OLD]], expectNew: 4, expectOld: [0] },
    { name: 'proportional scaling: 7 -> 10', replicas: 10, oldReplicas: 7, newRS: ['v3', 2], oldRSs: [['v2', 3, OLD], ['v1', 2, OLDER]], expectNew: 3, expectOld: [4, 3] },
    { name: 'proportional scaling: 13 -> 8', replicas: 8, oldReplicas: 13, newRS: ['v3', 2], oldRSs: [['v2', 8, OLD], ['v1', 3, OLDER]], expectNew: 1, expectOld: [5, 2] },
    { name: 'leftover distribution: 3 -> 4 (to the newest)', replicas: 4, oldReplicas: 3, newRS: ['v3', 1], oldRSs: [['v2', 1, OLD], ['v1', 1, OLDER]], expectNew: 2, expectOld: [1, 1] },
    { name: 'leftover distribution: 3 -> 2 (from the oldest)', replicas: 2, oldReplicas: 3, newRS: ['v3', 1], oldRSs: [['v2', 1, OLD], ['v1', 1, OLDER]], expectNew: 1, expectOld: [1, 0] },
    { name: 'no new ReplicaSet: 4 -> 5 scales the latest up first', replicas: 5, oldReplicas: 4, oldRSs: [['v2', 2, OLD], ['v1', 2, OLDER]], expectOld: [3, 2] },
    { name: 'proportional scaling: 6 -> 0', replicas: 0, oldReplicas: 6, newRS: ['v3', 3], oldRSs: [['v2', 2, OLD], ['v1', 1, OLDER]], expectNew: 0, expectOld: [0, 0] },
    { name: 'from zero: 0 -> 6 all to the new', replicas: 6, oldReplicas: 6, newRS: ['v3', 0], oldRSs: [['v2', 0, OLD], ['v1', 0, OLDER]], expectNew: 6, expectOld: [0, 0] },
    { name: 'with surge pods: 10 -> 20', replicas: 20, oldReplicas: 10, surge: 2, oldSurge: 2, newRS: ['v2', 6], oldRSs: [['v1', 6, OLD]], expectNew: 11, expectOld: [11] },
    { name: 'surge and size both change', replicas: 50, oldReplicas: 10, surge: 6, oldSurge: 3, newRS: ['v2', 5], oldRSs: [['v1', 8, OLD]], expectNew: 22, expectOld: [34] },
    { name: 'size and template both change', replicas: 14, oldReplicas: 10, oldRSs: [['v2', 7, NEW], ['v1', 3, OLD]], expectOld: [10, 4] },
    { name: 'a saturated but broken new ReplicaSet leaves the old pods', replicas: 2, oldReplicas: 2, surge: 1, oldSurge: 1, newRS: ['v2', 2], newAvailable: 0, oldRSs: [['v1', 1, OLD]], expectNew: 2, expectOld: [1] },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const { client, ctx, specOf, stop } = await syncFixture();
      // Upstream's test deployments have maxSurge and maxUnavailable 0 unless a case says otherwise.
      const surge = c.surge ?? 0;
      const oldSurge = c.oldSurge ?? 0;
      const d = deployment(c.replicas, { maxSurge: surge, maxUnavailable: 0 });
      const annotations = (rsName: string) => {
        const holder = { metadata: { name: rsName, annotations: {} } } as Obj;
        setReplicasAnnotations(holder, c.oldReplicas, c.oldReplicas + oldSurge);
        return holder.metadata.annotations;
      };
      const newRS = c.newRS ? await storedRS(client, c.newRS[0], c.newRS[1], { annotations: annotations(c.newRS[0]), createdAt: NEW, available: c.newAvailable }) : undefined;
      const oldRSs: Obj[] = [];
      for (const [name, replicas, createdAt] of c.oldRSs) oldRSs.push(await storedRS(client, name, replicas, { annotations: annotations(name), createdAt }));
      d.status = { replicas: [newRS, ...oldRSs].reduce((n, rs) => n + (rs?.spec.replicas ?? 0), 0) };
      await scale(ctx, { d, rsList: [...oldRSs, ...(newRS ? [newRS] : [])] }, newRS, oldRSs);
      if (c.newRS) assert.equal(await specOf(c.newRS[0]), c.expectNew);
      assert.deepEqual(await Promise.all(c.oldRSs.map(([name]) => specOf(name))), c.expectOld);
      for (const rs of [...oldRSs, ...(newRS ? [newRS] : [])]) {
        const stored = await client.get(REPLICA_SETS, 'default', rs.metadata.name!);
        if (stored.spec.replicas !== rs.spec.replicas) {
          assert.equal(stored.metadata.annotations!['deployment.kubernetes.io/desired-replicas'], String(c.replicas));
          assert.equal(stored.metadata.annotations!['deployment.kubernetes.io/max-replicas'], String(c.replicas + surge));
        }
      }
      stop();
    });
  }
});

describe('revisionHistoryLimit (upstream cleanupDeployment)', () => {
  const cases: Array<{ sets: Array<[number, number]>; limit: number; deletions: number }> = [
    { sets: [[0, 0], [0, 0], [0, 0]], limit: 1, deletions: 2 },
    // only what has no replicas wanted nor existing goes
    { sets: [[0, 0], [0, 1], [1, 0], [1, 1]], limit: 0, deletions: 1 },
    { sets: [[0, 0], [0, 0]], limit: 0, deletions: 2 },
    { sets: [[1, 1], [1, 1]], limit: 0, deletions: 0 },
    { sets: [[0, 0], [0, 0], [0, 0]], limit: 2147483647, deletions: 0 },
  ];
  for (const [i, c] of cases.entries()) {
    it(`case ${i}: limit ${c.limit}, ${c.deletions} deleted`, async () => {
      const { client, ctx, stop } = await syncFixture();
      const sets: Obj[] = [];
      for (const [j, [replicas, statusReplicas]] of c.sets.entries()) sets.push(await storedRS(client, `foo-${j + 1}`, replicas, { statusReplicas, annotations: { 'deployment.kubernetes.io/revision': String(j + 1) } }));
      await cleanupDeployment(ctx, { d: deployment(1, {}, { revisionHistoryLimit: c.limit }), rsList: sets }, sets);
      const left = (await client.list(REPLICA_SETS, 'default')).items.length;
      assert.equal(c.sets.length - left, c.deletions);
      stop();
    });
  }

  it('deletes the lowest revisions first', async () => {
    const { client, ctx, stop } = await syncFixture();
    const sets = [await storedRS(client, 'b', 0, { annotations: { 'deployment.kubernetes.io/revision': '3' } }), await storedRS(client, 'a', 0, { annotations: { 'deployment.kubernetes.io/revision': '1' } }), await storedRS(client, 'c', 0, { annotations: { 'deployment.kubernetes.io/revision': '2' } })];
    await cleanupDeployment(ctx, { d: deployment(1, {}, { revisionHistoryLimit: 1 }), rsList: sets }, sets);
    assert.deepEqual((await client.list(REPLICA_SETS, 'default')).items.map((rs) => rs.metadata.name), ['b']);
    stop();
  });
});

describe('pod-template-hash', () => {
  it('is stable, up to 10 characters of the safe alphabet, and changes with the template and the collision count', () => {
    const template = podTemplate({ app: 'web' });
    const hash = computePodTemplateHash(template);
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    assert.equal(computePodTemplateHash(structuredClone(template)), hash);
    assert.equal(computePodTemplateHash({ spec: template.spec, metadata: template.metadata }), hash, 'key order does not matter');
    assert.notEqual(computePodTemplateHash(podTemplate({ app: 'api' })), hash);
    assert.notEqual(computePodTemplateHash(template, 1), hash);
    assert.notEqual(computePodTemplateHash(template, 1), computePodTemplateHash(template, 2));
  });

  it('templates equal but for the hash label, or empty against absent fields, are the same template', () => {
    const a = podTemplate({ app: 'web' });
    const b = { ...structuredClone(a), metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' }, creationTimestamp: null, annotations: {} } } as unknown as Obj;
    assert.ok(equalIgnoringHash(a, b));
    const c = structuredClone(a);
    c.spec.containers[0].image = 'nginx:2';
    assert.ok(!equalIgnoringHash(a, c));
  });
});

describe('the Deployment controller with the ReplicaSet controller', () => {
  it('creates web-<hash>, records revision annotations, and rolls a template change over to a second ReplicaSet', async () => {
    const cluster = await runControllers([deploymentController, replicaSetController]);
    const { client } = cluster;
    try {
      await client.create(DEPLOYMENTS, 'default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }) } });
      const rs = await eventually(async () => {
        const [only, ...rest] = (await client.list(REPLICA_SETS, 'default')).items;
        assert.ok(only && rest.length === 0);
        assert.equal((await client.list(PODS, 'default')).items.length, 2);
        return only;
      });
      const hash = rs.metadata.labels!['pod-template-hash'];
      assert.equal(rs.metadata.name, `web-${hash}`);
      assert.equal(hash, computePodTemplateHash((await client.get(DEPLOYMENTS, 'default', 'web')).spec.template));
      const d = await eventually(async () => {
        const d = await client.get(DEPLOYMENTS, 'default', 'web');
        assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
        assert.equal(d.status.observedGeneration, 1);
        assert.equal(d.status.unavailableReplicas, 2);
        return d;
      });
      assert.equal(d.status.conditions.find((c: Obj) => c.type === 'Available').reason, 'MinimumReplicasUnavailable');

      // Mark the pods ready as a kubelet would; the deployment becomes available and complete.
      for (const pod of (await client.list(PODS, 'default')).items) {
        pod.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }] };
        await client.update(PODS, 'default', pod.metadata.name!, pod, { subresource: 'status' });
      }
      await eventually(async () => {
        const done = await client.get(DEPLOYMENTS, 'default', 'web');
        assert.equal(done.status.availableReplicas, 2);
        assert.equal(done.status.conditions.find((c: Obj) => c.type === 'Progressing').reason, 'NewReplicaSetAvailable');
      });

      await client.mutate(DEPLOYMENTS, 'default', 'web', (current) => {
        current.spec.template.spec.containers[0].image = 'nginx:2';
        return current;
      });
      await eventually(async () => {
        const sets = (await client.list(REPLICA_SETS, 'default')).items;
        assert.equal(sets.length, 2);
        const second = sets.find((s) => s.metadata.uid !== rs.metadata.uid)!;
        assert.equal(second.metadata.annotations!['deployment.kubernetes.io/revision'], '2');
        // 25% of 2: surge rounds up to 1, unavailability down to 0 — one extra pod, none removed yet.
        assert.equal(second.spec.replicas, 1);
        assert.equal((await client.get(REPLICA_SETS, 'default', rs.metadata.name!)).spec.replicas, 2);
      });
      const events = (await client.list(EVENTS, 'default')).items.filter((e) => e.reason === 'ScalingReplicaSet').map((e) => e.message);
      assert.ok(events.includes(`Scaled up replica set ${rs.metadata.name} from 0 to 2`), events.join('; '));
    } finally {
      await cluster.stop();
    }
  });

  it('counts a pod available only minReadySeconds after it became ready', async () => {
    const cluster = await runControllers([deploymentController, replicaSetController]);
    const { client } = cluster;
    try {
      await client.create(DEPLOYMENTS, 'default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'slow' }, spec: { replicas: 1, minReadySeconds: 2, selector: { matchLabels: { app: 'slow' } }, template: podTemplate({ app: 'slow' }) } });
      const pod = await eventually(async () => {
        const [only] = (await client.list(PODS, 'default')).items;
        assert.ok(only);
        return only;
      });
      const readyAt = Date.now();
      pod.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(readyAt).toISOString() }] };
      await client.update(PODS, 'default', pod.metadata.name!, pod, { subresource: 'status' });
      await eventually(async () => assert.equal((await client.get(DEPLOYMENTS, 'default', 'slow')).status.readyReplicas, 1));
      const early = await client.get(DEPLOYMENTS, 'default', 'slow');
      if (Date.now() - readyAt < 1500) assert.equal(early.status.availableReplicas, undefined, 'ready but not yet available');
      await eventually(async () => assert.equal((await client.get(DEPLOYMENTS, 'default', 'slow')).status.availableReplicas, 1), 15_000);
      const [rs] = (await client.list(REPLICA_SETS, 'default')).items;
      assert.equal(rs.spec.minReadySeconds, 2);
    } finally {
      await cluster.stop();
    }
  });

  it('Recreate: every old pod is gone before any new one is created', async () => {
    const cluster = await runControllers([deploymentController, replicaSetController]);
    const { client } = cluster;
    try {
      const markReady = async () => {
        for (const p of (await client.list(PODS, 'default')).items) {
          if (p.status?.phase === 'Running') continue;
          p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }] };
          await client.update(PODS, 'default', p.metadata.name!, p, { subresource: 'status' }).catch(() => undefined);
        }
      };
      await client.create(DEPLOYMENTS, 'default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'db' }, spec: { replicas: 2, strategy: { type: 'Recreate' }, selector: { matchLabels: { app: 'db' } }, template: podTemplate({ app: 'db' }) } });
      await eventually(async () => {
        await markReady();
        assert.equal((await client.get(DEPLOYMENTS, 'default', 'db')).status.availableReplicas, 2);
      });
      const pods = cluster.informers.informer(PODS);
      const live = new Map<string, string>();
      const overlaps: string[] = [];
      pods.addEventHandler({
        onAdd: (p) => {
          const image = p.spec.containers[0].image;
          if (image === 'nginx:2' && [...live.values()].includes('nginx')) overlaps.push(p.metadata.name!);
          live.set(p.metadata.name!, image);
        },
        onDelete: (p) => live.delete(p.metadata.name!),
      });
      await client.mutate(DEPLOYMENTS, 'default', 'db', (d) => {
        d.spec.template.spec.containers[0].image = 'nginx:2';
        return d;
      });
      await eventually(async () => {
        await markReady();
        const d = await client.get(DEPLOYMENTS, 'default', 'db');
        assert.equal(d.status.observedGeneration, d.metadata.generation);
        assert.equal((await client.list(REPLICA_SETS, 'default')).items.length, 2);
        assert.equal(d.status.updatedReplicas, 2);
        assert.equal(d.status.availableReplicas, 2);
        assert.equal(d.status.replicas, 2);
      });
      assert.deepEqual(overlaps, []);
      assert.deepEqual([...live.values()], ['nginx:2', 'nginx:2']);
    } finally {
      await cluster.stop();
    }
  });
});
