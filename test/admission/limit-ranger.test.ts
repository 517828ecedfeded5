import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/api/status.js';
import { LIMIT_RANGES } from '../../src/client/resource-types.js';
import { admissionCluster, pod } from './fixture.js';

const refused = (message: string) => (error: unknown) => {
  assert.ok(error instanceof ApiError, String(error));
  assert.equal(error.code, 403);
  assert.equal(error.message, message);
  return true;
};

function limitRange(name: string, limits: unknown[]) {
  return { apiVersion: 'v1', kind: 'LimitRange', metadata: { name, namespace: 'default' }, spec: { limits } };
}

describe('LimitRanger admission', () => {
  it('fills in container defaults and notes them in the pod annotation', async () => {
    const cluster = await admissionCluster();
    await cluster.client.create(LIMIT_RANGES, 'default', limitRange('defaults', [{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m' } }]));
    const { object } = await cluster.create('', 'pods', pod('default', 'p', {
      initContainers: [{ name: 'init', image: 'busybox', resources: { limits: { cpu: '200m' } } }],
      containers: [{ name: 'web', image: 'nginx' }],
    }));
    assert.deepEqual(object.spec.containers[0].resources, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '256Mi' } });
    // A limit without a request defaults the request to the limit (API defaulting), before LimitRanger looks.
    assert.deepEqual(object.spec.initContainers[0].resources, { limits: { cpu: '200m', memory: '256Mi' }, requests: { cpu: '200m', memory: '256Mi' } });
    assert.equal(
      object.metadata.annotations?.['kubernetes.io/limit-ranger'],
      'LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web; memory request for init container init; memory limit for init container init',
    );
    await cluster.stop();
  });

  it('refuses containers, pods and claims outside min, max and ratio with upstream messages', async () => {
    const cluster = await admissionCluster();
    await cluster.client.create(LIMIT_RANGES, 'default', limitRange('bounds', [
      { type: 'Container', min: { cpu: '100m' }, max: { cpu: '1', memory: '1Gi' }, maxLimitRequestRatio: { cpu: '2' } },
      { type: 'Pod', max: { memory: '1536Mi' } },
      { type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '10Gi' } },
    ]));
    const withResources = (name: string, requests: Record<string, string>, limits: Record<string, string>) => pod('default', name, { containers: [{ name: 'c', image: 'x', resources: { requests, limits } }] });
    await assert.rejects(cluster.create('', 'pods', withResources('small', { cpu: '50m' }, { cpu: '100m', memory: '1Gi' })), refused('pods "small" is forbidden: minimum cpu usage per Container is 100m, but request is 50m'));
    await assert.rejects(
      cluster.create('', 'pods', withResources('big', { cpu: '200m' }, { cpu: '2', memory: '2Gi' })),
      refused('pods "big" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, maximum memory usage per Container is 1Gi, but limit is 2Gi, cpu max limit to request ratio per Container is 2, but provided ratio is 10.000000, maximum memory usage per Pod is 1536Mi, but limit is 2Gi]'),
    );
    // A missing limit is defaulted from max (the LimitRange's own defaulting), so it passes.
    const defaulted = await cluster.create('', 'pods', withResources('nolimit', { cpu: '200m' }, { cpu: '300m' }));
    assert.equal(defaulted.object.spec.containers[0].resources.limits.memory, '1Gi');
    await cluster.create('', 'pods', withResources('fits', { cpu: '200m' }, { cpu: '400m', memory: '1Gi' }));
    const claim = (name: string, storage: string) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } } });
    await assert.rejects(cluster.create('', 'persistentvolumeclaims', claim('tiny', '500Mi') as never), refused('persistentvolumeclaims "tiny" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi'));
    await assert.rejects(cluster.create('', 'persistentvolumeclaims', claim('huge', '20Gi') as never), refused('persistentvolumeclaims "huge" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi'));
    await cluster.create('', 'persistentvolumeclaims', claim('ok', '5Gi') as never);
    await cluster.stop();
  });
});
