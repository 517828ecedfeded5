import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONTROLLER_REVISIONS, PERSISTENT_VOLUME_CLAIMS, PODS, STATEFUL_SETS } from '../../src/client/resource-types.js';
import type { Obj } from '../../src/client/api-client.js';
import { StatefulSetControl } from '../../src/controllers/statefulset/control.js';
import { indexByControllerUid } from '../../src/controllers/controller-ref.js';
import { FakeClock } from '../../src/controllers/clock.js';
import { controllerCluster, markFinished, markRunningReady } from './fixture.js';

function statefulSet(name: string, spec: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 3,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } },
      ...spec,
    },
  };
}

async function setup(options: { maxUnavailable?: boolean } = {}) {
  const cluster = await controllerCluster();
  const pods = cluster.informers.informer(PODS);
  const revisions = cluster.informers.informer(CONTROLLER_REVISIONS);
  indexByControllerUid(pods);
  indexByControllerUid(revisions);
  const clock = new FakeClock(Date.now());
  const control = new StatefulSetControl({
    client: cluster.client,
    sets: cluster.informers.informer(STATEFUL_SETS),
    pods,
    revisions,
    claims: cluster.informers.informer(PERSISTENT_VOLUME_CLAIMS),
    events: cluster.events,
    clock,
    maxUnavailable: options.maxUnavailable,
  });
  await cluster.sync();
  const podNames = () => cluster.names(PODS);
  /** Syncs until nothing changes (as the work queue would on the writes' events). */
  const settle = async (key = 'default/db') => {
    for (let i = 0; i < 20; i++) {
      const before = JSON.stringify(await cluster.list(PODS)) + JSON.stringify((await cluster.client.get(STATEFUL_SETS, 'default', key.split('/')[1]).catch(() => undefined))?.status);
      await control.sync(key);
      const after = JSON.stringify(await cluster.list(PODS)) + JSON.stringify((await cluster.client.get(STATEFUL_SETS, 'default', key.split('/')[1]).catch(() => undefined))?.status);
      if (before === after) return;
    }
  };
  const readyAll = async () => {
    for (const pod of await cluster.list(PODS)) if (pod.status?.phase !== 'Running') await markRunningReady(cluster.client, 'default', pod.metadata.name!);
  };
  return { ...cluster, control, clock, podNames, settle, readyAll };
}

describe('StatefulSet controller', () => {
  it('OrderedReady: creates db-1 only after db-0 is Running and Ready, with stable identity and labels', async () => {
    const t = await setup();
    await t.client.create(STATEFUL_SETS, 'default', statefulSet('db'));
    await t.settle();
    assert.deepEqual(await t.podNames(), ['db-0']);
    const db0 = await t.client.get(PODS, 'default', 'db-0');
    assert.equal(db0.metadata.labels!['statefulset.kubernetes.io/pod-name'], 'db-0');
    assert.equal(db0.metadata.labels!['apps.kubernetes.io/pod-index'], '0');
    assert.match(db0.metadata.labels!['controller-revision-hash'], /^db-[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(db0.spec.hostname, 'db-0');
    assert.equal(db0.spec.subdomain, 'db');
    assert.deepEqual(db0.metadata.ownerReferences!.map((r) => [r.kind, r.name, r.controller, r.blockOwnerDeletion]), [['StatefulSet', 'db', true, true]]);

    // Running but not Ready still blocks.
    await t.client.mutate(PODS, 'default', 'db-0', (p) => ({ ...p, status: { ...p.status, phase: 'Running' } }), { subresource: 'status' });
    await t.settle();
    assert.deepEqual(await t.podNames(), ['db-0']);

    await markRunningReady(t.client, 'default', 'db-0');
    await t.settle();
    assert.deepEqual(await t.podNames(), ['db-0', 'db-1']);
    await t.readyAll();
    await t.settle();
    await t.readyAll();
    await t.settle();
    assert.deepEqual(await t.podNames(), ['db-0', 'db-1', 'db-2']);
    const status = (await t.client.get(STATEFUL_SETS, 'default', 'db')).status;
    assert.equal(status.replicas, 3);
    assert.equal(status.readyReplicas, 3);
    assert.equal(status.availableReplicas, 3);
    assert.equal(status.currentReplicas, 3);
    assert.equal(status.updatedReplicas, 3);
    assert.equal(status.currentRevision, status.updateRevision);
    assert.equal(status.observedGeneration, 1);
    assert.equal(status.collisionCount, 0);
    t.stop();
  });

  it('scales down from the highest ordinal, one at a time, waiting while a lower pod is unhealthy', async () => {
    const t = await setup();
    await t.client.create(STATEFUL_SETS, 'default', statefulSet('db'));
    for (let i = 0; i < 4; i++) {
      await t.settle();
      await t.readyAll();
    }
    assert.deepEqual(await t.podNames(), ['db-0', 'db-1', 'db-2']);
    await t.client.mutate(STATEFUL_SETS, 'default', 'db', (s) => ({ ...s, spec: { ...s.spec, replicas: 1 } }));
    await t.control.sync('default/db');
    assert.deepEqual(await t.podNames(), ['db-0', 'db-1'], 'db-2 goes first, alone');
    // db-0 becomes unready: db-1 (healthy) must not be removed until db-0 recovers.
    await t.client.mutate(PODS, 'default', 'db-0', (p) => ({ ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'False' }] } }), { subresource: 'status' });
    await t.settle();
    assert.deepEqual(await t.podNames(), ['db-0', 'db-1']);
    await markRunningReady(t.client, 'default', 'db-0');
    await t.settle();
    assert.deepEqual(await t.podNames(), ['db-0']);
    t.stop();
  });

  it('Parallel creates and deletes without waiting for readiness', async () => {
    const t = await setup();
    await t.client.create(STATEFUL_SETS, 'default', statefulSet('db', { podManagementPolicy: 'Parallel' }));
    await t.control.sync('default/db');
    assert.deepEqual(await t.podNames(), ['db-0', 'db-1', 'db-2']);
    await t.client.mutate(STATEFUL_SETS, 'default', 'db', (s) => ({ ...s, spec: { ...s.spec, replicas: 0 } }));
    await t.control.sync('default/db');
    assert.deepEqual(await t.podNames(), []);
    t.stop();
  });

  it('creates claims from volumeClaimTemplates before the pod, named <template>-<set>-<ordinal>, and mounts them', async () => {
    const t = await setup();
    const template = { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
    await t.client.create(STATEFUL_SETS, 'default', statefulSet('db', { replicas: 2, volumeClaimTemplates: [template], persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } }));
    await t.settle();
    await t.readyAll();
    await t.settle();
    assert.deepEqual(await t.names(PERSISTENT_VOLUME_CLAIMS), ['data-db-0', 'data-db-1']);
    const claim = await t.client.get(PERSISTENT_VOLUME_CLAIMS, 'default', 'data-db-0');
    assert.equal(claim.metadata.labels!.app, 'db');
    const set = await t.client.get(STATEFUL_SETS, 'default', 'db');
    // whenDeleted=Delete: the set controls the claims of pods within the replicas.
    assert.deepEqual(claim.metadata.ownerReferences!.map((r) => [r.kind, r.uid, r.controller]), [['StatefulSet', set.metadata.uid, true]]);
    const pod = await t.client.get(PODS, 'default', 'db-1');
    assert.deepEqual(pod.spec.volumes.find((v: Obj) => v.name === 'data'), { name: 'data', persistentVolumeClaim: { claimName: 'data-db-1' } });

    // whenScaled=Delete: scaling down hands the condemned pod's claim to the pod, for the GC.
    await markRunningReady(t.client, 'default', 'db-1');
    await t.client.mutate(STATEFUL_SETS, 'default', 'db', (s) => ({ ...s, spec: { ...s.spec, replicas: 1 } }));
    const db1 = await t.client.get(PODS, 'default', 'db-1');
    await t.control.sync('default/db');
    const scaled = await t.client.get(PERSISTENT_VOLUME_CLAIMS, 'default', 'data-db-1');
    assert.deepEqual(scaled.metadata.ownerReferences!.map((r) => [r.kind, r.uid, r.controller]), [['Pod', db1.metadata.uid, true]]);
    assert.deepEqual(await t.podNames(), ['db-0']);
    t.stop();
  });

  it('rolls out from the highest ordinal down to the partition, one healthy pod at a time', async () => {
    const t = await setup();
    await t.client.create(STATEFUL_SETS, 'default', statefulSet('db', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }));
    for (let i = 0; i < 4; i++) {
      await t.settle();
      await t.readyAll();
    }
    const before = (await t.client.get(STATEFUL_SETS, 'default', 'db')).status.currentRevision;
    await t.client.mutate(STATEFUL_SETS, 'default', 'db', (s) => {
      s.spec.template.spec.containers[0].image = 'nginx:2';
      return s;
    });
    await t.control.sync('default/db');
    assert.deepEqual(await t.podNames(), ['db-0', 'db-1'], 'db-2 is deleted for the update');
    await t.control.sync('default/db');
    const db2 = await t.client.get(PODS, 'default', 'db-2');
    assert.equal(db2.spec.containers[0].image, 'nginx:2');
    // db-1 waits until the new db-2 is healthy.
    await t.control.sync('default/db');
    assert.equal((await t.client.get(PODS, 'default', 'db-1')).spec.containers[0].image, 'nginx:1');
    await markRunningReady(t.client, 'default', 'db-2');
    await t.settle();
    await t.readyAll();
    await t.settle();
    await t.readyAll();
    await t.settle();
    const images = await Promise.all(['db-0', 'db-1', 'db-2'].map(async (n) => (await t.client.get(PODS, 'default', n)).spec.containers[0].image));
    assert.deepEqual(images, ['nginx:1', 'nginx:2', 'nginx:2'], 'the partition keeps db-0 at the old revision');
    const status = (await t.client.get(STATEFUL_SETS, 'default', 'db')).status;
    assert.equal(status.currentRevision, before);
    assert.notEqual(status.updateRevision, before);
    assert.equal(status.updatedReplicas, 2);
    assert.equal(status.currentReplicas, 1);
    assert.equal((await t.names(CONTROLLER_REVISIONS)).length, 2);

    // Dropping the partition finishes the rollout; status then completes it.
    await t.client.mutate(STATEFUL_SETS, 'default', 'db', (s) => ({ ...s, spec: { ...s.spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } } }));
    for (let i = 0; i < 3; i++) {
      await t.settle();
      await t.readyAll();
    }
    await t.settle();
    const done = (await t.client.get(STATEFUL_SETS, 'default', 'db')).status;
    assert.equal(done.currentRevision, done.updateRevision);
    assert.equal(done.currentReplicas, 3);
    t.stop();
  });

  it('rolling back to an earlier template reuses its revision and renumbers it as the newest', async () => {
    const t = await setup();
    await t.client.create(STATEFUL_SETS, 'default', statefulSet('db', { replicas: 1 }));
    await t.settle();
    const first = (await t.list(CONTROLLER_REVISIONS))[0];
    assert.equal(first.revision, 1);
    assert.deepEqual(first.data.spec.template.$patch, 'replace');
    const setImage = (image: string) => t.client.mutate(STATEFUL_SETS, 'default', 'db', (s) => {
      s.spec.template.spec.containers[0].image = image;
      return s;
    });
    await setImage('nginx:2');
    await t.control.sync('default/db');
    await setImage('nginx:1');
    await t.control.sync('default/db');
    const revisions = await t.list(CONTROLLER_REVISIONS);
    assert.equal(revisions.length, 2);
    assert.equal(revisions.find((r) => r.metadata.name === first.metadata.name)!.revision, 3);
    t.stop();
  });

  it('OnDelete leaves old pods alone until they are deleted; a failed pod is replaced', async () => {
    const t = await setup();
    await t.client.create(STATEFUL_SETS, 'default', statefulSet('db', { replicas: 2, podManagementPolicy: 'Parallel', updateStrategy: { type: 'OnDelete' } }));
    await t.control.sync('default/db');
    await t.readyAll();
    await t.client.mutate(STATEFUL_SETS, 'default', 'db', (s) => {
      s.spec.template.spec.containers[0].image = 'nginx:2';
      return s;
    });
    await t.settle();
    assert.equal((await t.client.get(PODS, 'default', 'db-1')).spec.containers[0].image, 'nginx:1');
    await t.client.delete(PODS, 'default', 'db-1');
    await t.control.sync('default/db');
    assert.equal((await t.client.get(PODS, 'default', 'db-1')).spec.containers[0].image, 'nginx:2');
    const failedUid = (await markFinished(t.client, 'default', 'db-0', 1)).metadata.uid;
    await t.settle();
    const replaced = await t.client.get(PODS, 'default', 'db-0');
    assert.notEqual(replaced.metadata.uid, failedUid);
    assert.equal(replaced.spec.containers[0].image, 'nginx:2');
    t.stop();
  });

  it('spec.ordinals.start numbers the pods from there', async () => {
    const t = await setup();
    await t.client.create(STATEFUL_SETS, 'default', statefulSet('db', { replicas: 2, podManagementPolicy: 'Parallel', ordinals: { start: 5 } }));
    await t.control.sync('default/db');
    assert.deepEqual(await t.podNames(), ['db-5', 'db-6']);
    t.stop();
  });

  it('adopts an orphan pod named as a member and matching the selector, and releases one no longer matching', async () => {
    const t = await setup();
    await t.client.create(PODS, 'default', { metadata: { name: 'db-0', labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } });
    await t.client.create(STATEFUL_SETS, 'default', statefulSet('db', { replicas: 1 }));
    await t.control.sync('default/db');
    const adopted = await t.client.get(PODS, 'default', 'db-0');
    assert.equal(adopted.metadata.ownerReferences?.[0]?.name, 'db');
    await t.client.mutate(PODS, 'default', 'db-0', (p) => ({ ...p, metadata: { ...p.metadata, labels: { app: 'other' } } }));
    // Released, the pod still holds the name: creating the replacement fails until it goes (as upstream).
    await assert.rejects(t.control.sync('default/db'), /already exists/);
    assert.deepEqual((await t.client.get(PODS, 'default', 'db-0')).metadata.ownerReferences ?? [], []);
    t.stop();
  });

  it('with MaxUnavailableStatefulSet, replaces up to maxUnavailable pods at once', async () => {
    const t = await setup({ maxUnavailable: true });
    await t.client.create(STATEFUL_SETS, 'default', statefulSet('db', { replicas: 4, podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } } }));
    await t.control.sync('default/db');
    await t.readyAll();
    await t.client.mutate(STATEFUL_SETS, 'default', 'db', (s) => {
      s.spec.template.spec.containers[0].image = 'nginx:2';
      return s;
    });
    await t.control.sync('default/db');
    assert.deepEqual(await t.podNames(), ['db-0', 'db-1'], 'db-3 and db-2 go together');
    t.stop();
  });
});
