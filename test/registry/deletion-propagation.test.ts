/**
 * Delete as upstream's generic store does it for the garbage collector: the propagation policy
 * (or the deprecated orphanDependents, or a GC finalizer already set, or the kind's default)
 * decides whether the object goes at once (Background) or waits with the `orphan` or
 * `foregroundDeletion` finalizer and a deletionTimestamp.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIG_MAPS, JOBS, REPLICATION_CONTROLLERS, REPLICA_SETS, type ResourceType } from '../../src/client/resource-types.js';
import { inMemoryCluster } from '../client/fixture.js';

const template = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
const objects: Record<string, { type: ResourceType; body: Record<string, unknown> }> = {
  configmap: { type: CONFIG_MAPS, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'obj' } } },
  replicaset: { type: REPLICA_SETS, body: { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'obj' }, spec: { selector: { matchLabels: { app: 'x' } }, template } } },
  rc: { type: REPLICATION_CONTROLLERS, body: { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'obj' }, spec: { template } } },
  job: { type: JOBS, body: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'obj' }, spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } } } },
};

async function deleted(kind: keyof typeof objects, options: Parameters<Awaited<ReturnType<typeof inMemoryCluster>>['client']['delete']>[3] & { orphanDependents?: boolean }, finalizers?: string[]) {
  const { client, registry } = await inMemoryCluster();
  const { type, body } = objects[kind];
  await client.create(type, 'default', { ...body, metadata: { ...(body.metadata as object), finalizers } } as never);
  const generic = registry.resource(type.group, type.version, type.resource)!;
  const result = await generic.delete('default', 'obj', options);
  return { result, client, type, generic };
}

describe('delete and the garbage collector finalizers', () => {
  it('Background (what kubectl sends) deletes at once', async () => {
    const { result } = await deleted('configmap', { propagationPolicy: 'Background' });
    assert.equal(result.deleted, true);
  });

  it('Orphan adds the orphan finalizer and a deletionTimestamp, and the object stays', async () => {
    const { result, client, type } = await deleted('configmap', { propagationPolicy: 'Orphan' });
    assert.equal(result.deleted, false);
    const stored = await client.get(type, 'default', 'obj');
    assert.deepEqual(stored.metadata.finalizers, ['orphan']);
    assert.ok(stored.metadata.deletionTimestamp);
    assert.equal(stored.metadata.deletionGracePeriodSeconds, 0);
  });

  it('Foreground adds foregroundDeletion, after finalizers already there', async () => {
    const { result } = await deleted('configmap', { propagationPolicy: 'Foreground' }, ['example.com/keep']);
    assert.equal(result.deleted, false);
    assert.deepEqual(result.stored.object.metadata.finalizers, ['example.com/keep', 'foregroundDeletion']);
  });

  it('orphanDependents true is Orphan, false is Background', async () => {
    assert.deepEqual((await deleted('configmap', { orphanDependents: true })).result.stored.object.metadata.finalizers, ['orphan']);
    assert.equal((await deleted('configmap', { orphanDependents: false })).result.deleted, true);
  });

  it('with no policy: apps/v1 deletes dependents in the background; core/v1 ReplicationController and batch/v1 Job orphan them', async () => {
    assert.equal((await deleted('replicaset', {})).result.deleted, true);
    assert.equal((await deleted('configmap', {})).result.deleted, true);
    assert.deepEqual((await deleted('rc', {})).result.stored.object.metadata.finalizers, ['orphan']);
    assert.deepEqual((await deleted('job', {})).result.stored.object.metadata.finalizers, ['orphan']);
    assert.equal((await deleted('rc', { propagationPolicy: 'Background' })).result.deleted, true, 'an explicit policy wins over the default');
  });

  it('a GC finalizer already set decides when no policy is given', async () => {
    const { result } = await deleted('configmap', {}, ['foregroundDeletion']);
    assert.equal(result.deleted, false);
    assert.deepEqual(result.stored.object.metadata.finalizers, ['foregroundDeletion']);
  });

  it('a second delete may change the policy: Foreground then Orphan swaps the finalizer; then Background lets it go', async () => {
    const { client, type, generic } = await deleted('configmap', { propagationPolicy: 'Foreground' });
    const first = await client.get(type, 'default', 'obj');
    const swapped = await generic.delete('default', 'obj', { propagationPolicy: 'Orphan' });
    assert.equal(swapped.deleted, false);
    assert.deepEqual(swapped.stored.object.metadata.finalizers, ['orphan']);
    assert.equal(swapped.stored.object.metadata.deletionTimestamp, first.metadata.deletionTimestamp, 'the deletion keeps its time');
    const same = await generic.delete('default', 'obj', { propagationPolicy: 'Orphan' });
    assert.equal(same.stored.object.metadata.resourceVersion, swapped.stored.object.metadata.resourceVersion, 'nothing to change: no write');
    const gone = await generic.delete('default', 'obj', { propagationPolicy: 'Background' });
    assert.equal(gone.deleted, true);
  });

  it('removing the last finalizer completes the deletion', async () => {
    const { client, type } = await deleted('configmap', { propagationPolicy: 'Orphan' });
    await client.mutate(type, 'default', 'obj', (cm) => ({ ...cm, metadata: { ...cm.metadata, finalizers: [] } }));
    await assert.rejects(client.get(type, 'default', 'obj'), /not found/);
  });

  it('dry run changes nothing', async () => {
    const { result, client, type } = await deleted('configmap', { propagationPolicy: 'Orphan', dryRun: true });
    assert.equal(result.deleted, false);
    assert.deepEqual(result.stored.object.metadata.finalizers, ['orphan']);
    const stored = await client.get(type, 'default', 'obj');
    assert.equal(stored.metadata.finalizers, undefined);
    assert.equal(stored.metadata.deletionTimestamp, undefined);
  });

  it('refuses an object that would both orphan and delete its dependents', async () => {
    const { client } = await inMemoryCluster();
    await assert.rejects(client.create(CONFIG_MAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'both', finalizers: ['orphan', 'foregroundDeletion'] } }), /finalizer orphan and foregroundDeletion cannot be both set/);
  });
});
