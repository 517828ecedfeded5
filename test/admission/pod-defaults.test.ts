import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/api/status.js';
import { PRIORITY_CLASSES } from '../../src/client/resource-types.js';
import { admissionCluster, pod } from './fixture.js';

describe('Priority and DefaultTolerationSeconds admission', () => {
  it('resolves priorityClassName, the global default and refuses unknown classes or a stated priority', async () => {
    const cluster = await admissionCluster();
    await cluster.client.create(PRIORITY_CLASSES, undefined, { metadata: { name: 'low' }, value: 10, globalDefault: true, preemptionPolicy: 'Never' });
    await cluster.client.create(PRIORITY_CLASSES, undefined, { metadata: { name: 'high' }, value: 1000 });
    const byDefault = (await cluster.create('', 'pods', pod('default', 'a'))).object;
    assert.deepEqual([byDefault.spec.priorityClassName, byDefault.spec.priority, byDefault.spec.preemptionPolicy], ['low', 10, 'Never']);
    const named = (await cluster.create('', 'pods', pod('default', 'b', { priorityClassName: 'high' }))).object;
    assert.deepEqual([named.spec.priority, named.spec.preemptionPolicy], [1000, 'PreemptLowerPriority']);
    const system = (await cluster.create('', 'pods', pod('default', 'c', { priorityClassName: 'system-node-critical' }))).object;
    assert.equal(system.spec.priority, 2000001000);
    const forbidden = (message: string) => (e: unknown) => e instanceof ApiError && e.code === 403 && e.message === message;
    await assert.rejects(cluster.create('', 'pods', pod('default', 'd', { priorityClassName: 'gold' })), forbidden('pods "d" is forbidden: no PriorityClass with name gold was found'));
    await assert.rejects(
      cluster.create('', 'pods', pod('default', 'e', { priorityClassName: 'high', priority: 5 })),
      forbidden('pods "e" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name'),
    );
    await assert.rejects(
      cluster.client.create(PRIORITY_CLASSES, undefined, { metadata: { name: 'other' }, value: 5, globalDefault: true }),
      forbidden('priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass low is already marked as default. Only one default can exist'),
    );
    await cluster.stop();
  });

  it('adds the not-ready and unreachable tolerations for 300 s unless the pod has its own', async () => {
    const cluster = await admissionCluster();
    const plain = (await cluster.create('', 'pods', pod('default', 'a'))).object;
    assert.deepEqual(plain.spec.tolerations, [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    const own = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 };
    const custom = (await cluster.create('', 'pods', pod('default', 'b', { tolerations: [own] }))).object;
    assert.deepEqual(custom.spec.tolerations, [own, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]);
    await cluster.stop();
  });
});
