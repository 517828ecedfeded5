import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/api/status.js';
import { PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, PODS, STORAGE_CLASSES } from '../../src/client/resource-types.js';
import { pvcProtectionController } from '../../src/controllers/pvc-protection.js';
import { pvProtectionController } from '../../src/controllers/pv-protection.js';
import { admissionCluster, eventually, pod } from './fixture.js';

const claim = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...extra },
});

const gone = (e: unknown) => e instanceof ApiError && e.code === 404;

describe('DefaultStorageClass and StorageObjectInUseProtection', () => {
  it('gives unclassed claims the newest default class, and leaves "" alone', async () => {
    const cluster = await admissionCluster();
    const sc = (name: string, isDefault: boolean) => ({ metadata: { name, annotations: isDefault ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : ({} as Record<string, string>) }, provisioner: 'example.com/x' });
    await cluster.create('', 'persistentvolumeclaims', claim('none') as never).then(({ object }) => assert.equal(object.spec.storageClassName, undefined));
    await cluster.client.create(STORAGE_CLASSES, undefined, sc('standard', true));
    await cluster.client.create(STORAGE_CLASSES, undefined, sc('other', false));
    const { object } = await cluster.create('', 'persistentvolumeclaims', claim('a') as never);
    assert.equal(object.spec.storageClassName, 'standard');
    const explicit = await cluster.create('', 'persistentvolumeclaims', claim('b', { storageClassName: '' }) as never);
    assert.equal(explicit.object.spec.storageClassName, '');
    await cluster.stop();
  });

  it('keeps a claim in use by a running pod until the pod finishes or goes', async () => {
    const cluster = await admissionCluster({ controllers: [pvcProtectionController, pvProtectionController] });
    const { object } = await cluster.create('', 'persistentvolumeclaims', claim('data') as never);
    assert.deepEqual(object.metadata.finalizers, ['kubernetes.io/pvc-protection']);
    await cluster.create('', 'pods', pod('default', 'user', { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }] }));
    await cluster.client.delete(PERSISTENT_VOLUME_CLAIMS, 'default', 'data');
    const pending = await cluster.client.get(PERSISTENT_VOLUME_CLAIMS, 'default', 'data');
    assert.ok(pending.metadata.deletionTimestamp);
    await cluster.client.delete(PODS, 'default', 'user', { gracePeriodSeconds: 0 });
    await eventually(() => assert.rejects(cluster.client.get(PERSISTENT_VOLUME_CLAIMS, 'default', 'data'), gone));
    // A claim nobody uses goes at once (after the controller drops the finalizer).
    await cluster.create('', 'persistentvolumeclaims', claim('idle') as never);
    await cluster.client.delete(PERSISTENT_VOLUME_CLAIMS, 'default', 'idle');
    await eventually(() => assert.rejects(cluster.client.get(PERSISTENT_VOLUME_CLAIMS, 'default', 'idle'), gone));
    await cluster.stop();
  });

  it('keeps a Bound volume until it is released', async () => {
    const cluster = await admissionCluster({ controllers: [pvProtectionController] });
    const { object } = await cluster.create('', 'persistentvolumes', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/pv' } } } as never);
    assert.deepEqual(object.metadata.finalizers, ['kubernetes.io/pv-protection']);
    await cluster.client.mutate(PERSISTENT_VOLUMES, undefined, 'pv', (pv) => ({ ...pv, status: { phase: 'Bound' } }), { subresource: 'status' });
    await cluster.client.delete(PERSISTENT_VOLUMES, undefined, 'pv');
    assert.ok((await cluster.client.get(PERSISTENT_VOLUMES, undefined, 'pv')).metadata.deletionTimestamp);
    await cluster.client.mutate(PERSISTENT_VOLUMES, undefined, 'pv', (pv) => ({ ...pv, status: { phase: 'Released' } }), { subresource: 'status' });
    await eventually(() => assert.rejects(cluster.client.get(PERSISTENT_VOLUMES, undefined, 'pv'), gone));
    await cluster.stop();
  });
});
