import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/api/status.js';
import { SERVICE_ACCOUNTS } from '../../src/client/resource-types.js';
import { admissionCluster, pod } from './fixture.js';

describe('ServiceAccount admission', () => {
  it('defaults the account and projects the kube-api-access token volume into every container', async () => {
    const cluster = await admissionCluster();
    const { object } = await cluster.create('', 'pods', pod('default', 'p', {
      initContainers: [{ name: 'init', image: 'busybox' }],
      containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x', volumeMounts: [{ name: 'own', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }],
      volumes: [{ name: 'own', emptyDir: {} }],
    }));
    assert.equal(object.spec.serviceAccountName, 'default');
    assert.equal(object.spec.serviceAccount, 'default');
    const volume = object.spec.volumes.find((v: { name: string }) => v.name.startsWith('kube-api-access-'));
    assert.match(volume.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(volume.projected, {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    });
    const mount = { name: volume.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
    assert.deepEqual(object.spec.initContainers[0].volumeMounts, [mount]);
    assert.deepEqual(object.spec.containers[0].volumeMounts, [mount]);
    assert.deepEqual(object.spec.containers[1].volumeMounts, [{ name: 'own', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
    await cluster.stop();
  });

  it('honours automountServiceAccountToken: false and copies imagePullSecrets', async () => {
    const cluster = await admissionCluster();
    await cluster.client.create(SERVICE_ACCOUNTS, 'default', { metadata: { name: 'builder' }, automountServiceAccountToken: false, imagePullSecrets: [{ name: 'registry' }] });
    const { object } = await cluster.create('', 'pods', pod('default', 'p', { serviceAccountName: 'builder' }));
    assert.equal(object.spec.volumes, undefined);
    assert.deepEqual(object.spec.imagePullSecrets, [{ name: 'registry' }]);
    // The pod's own setting wins over the account's.
    const { object: mounted } = await cluster.create('', 'pods', pod('default', 'q', { serviceAccountName: 'builder', automountServiceAccountToken: true }));
    assert.equal(mounted.spec.volumes.length, 1);
    await cluster.stop();
  });

  it('refuses a pod whose account does not exist', async () => {
    const cluster = await admissionCluster();
    await assert.rejects(cluster.create('', 'pods', pod('default', 'p', { serviceAccountName: 'ghost' })), (error: unknown) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.code, 403);
      assert.equal(error.message, 'pods "p" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found');
      return true;
    });
    await cluster.stop();
  });
});
