import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/api/status.js';
import { RESOURCE_QUOTAS, PODS, CONFIG_MAPS, PRIORITY_CLASSES } from '../../src/client/resource-types.js';
import { resourceQuotaController } from '../../src/controllers/resource-quota.js';
import { format, parse } from '../../src/admission/quantity.js';
import { admissionCluster, eventually, pod } from './fixture.js';

const forbidden = (message: string) => (error: unknown) => {
  assert.ok(error instanceof ApiError, String(error));
  assert.equal(error.code, 403);
  assert.equal(error.message, message);
  return true;
};

function quota(name: string, hard: Record<string, string>, spec: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name, namespace: 'default' }, spec: { hard, ...spec } };
}

const withResources = (name: string, requests: Record<string, string>, limits: Record<string, string> = requests) =>
  pod('default', name, { containers: [{ name: 'c', image: 'nginx', resources: { requests, limits } }] });

describe('ResourceQuota admission and controller', () => {
  it('refuses a create beyond the quota with upstream message and counts usage', async () => {
    const cluster = await admissionCluster({ controllers: [resourceQuotaController] });
    await cluster.create('', 'pods', pod('default', 'before'));
    await cluster.client.create(RESOURCE_QUOTAS, 'default', quota('compute', { pods: '2', 'requests.cpu': '1', 'limits.memory': '1Gi' }));
    // The controller counts what existed before the quota.
    await eventually(async () => assert.deepEqual((await cluster.client.get(RESOURCE_QUOTAS, 'default', 'compute')).status.used, { pods: '1', 'requests.cpu': '0', 'limits.memory': '0' }));
    await assert.rejects(
      cluster.create('', 'pods', pod('default', 'bare')),
      forbidden('pods "bare" is forbidden: failed quota: compute: must specify limits.memory for: c; requests.cpu for: c'),
    );
    await cluster.create('', 'pods', withResources('one', { cpu: '600m', memory: '512Mi' }));
    assert.deepEqual((await cluster.client.get(RESOURCE_QUOTAS, 'default', 'compute')).status.used, { pods: '2', 'requests.cpu': '600m', 'limits.memory': '512Mi' });
    await assert.rejects(
      cluster.create('', 'pods', withResources('two', { cpu: '500m', memory: '768Mi' })),
      forbidden('pods "two" is forbidden: exceeded quota: compute, requested: limits.memory=768Mi,pods=1,requests.cpu=500m, used: limits.memory=512Mi,pods=2,requests.cpu=600m, limited: limits.memory=1Gi,pods=2,requests.cpu=1'),
    );
    await assert.rejects(cluster.client.get(PODS, 'default', 'two'), (e) => e instanceof ApiError && e.code === 404);
    // Deleting releases the usage (the controller recounts), and the next create fits.
    await cluster.client.delete(PODS, 'default', 'one');
    await eventually(async () => assert.equal((await cluster.client.get(RESOURCE_QUOTAS, 'default', 'compute')).status.used.pods, '1'));
    await cluster.create('', 'pods', withResources('two', { cpu: '500m', memory: '768Mi' }));
    await cluster.stop();
  });

  it('refuses a create while the quota has not been counted yet', async () => {
    const cluster = await admissionCluster();
    await cluster.client.create(RESOURCE_QUOTAS, 'default', quota('counts', { 'count/configmaps': '1' }));
    await assert.rejects(
      cluster.create('', 'configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } } as never),
      forbidden('configmaps "a" is forbidden: status unknown for quota: counts, resources: count/configmaps'),
    );
    await cluster.stop();
  });

  it('counts objects by count/<resource>, and concurrent creates never overshoot', async () => {
    const cluster = await admissionCluster({ controllers: [resourceQuotaController] });
    await cluster.client.create(RESOURCE_QUOTAS, 'default', quota('objects', { 'count/configmaps': '3', configmaps: '3' }));
    await eventually(async () => assert.deepEqual((await cluster.client.get(RESOURCE_QUOTAS, 'default', 'objects')).status.used, { 'count/configmaps': '0', configmaps: '0' }));
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => cluster.create('', 'configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'default' } } as never)),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
    assert.equal((await cluster.client.list(CONFIG_MAPS, 'default')).items.length, 3);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason as ApiError;
    assert.match(refused.message, /exceeded quota: objects, requested: configmaps=1,count\/configmaps=1, used: configmaps=3,count\/configmaps=3, limited: configmaps=3,count\/configmaps=3$/);
    await cluster.stop();
  });

  it('applies scopes: a BestEffort quota counts only pods without requests or limits', async () => {
    const cluster = await admissionCluster({ controllers: [resourceQuotaController] });
    await cluster.client.create(RESOURCE_QUOTAS, 'default', quota('besteffort', { pods: '1' }, { scopes: ['BestEffort'] }));
    await cluster.client.create(RESOURCE_QUOTAS, 'default', quota('prio', { pods: '0' }, { scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['gold'] }] } }));
    await eventually(async () => assert.equal((await cluster.client.get(RESOURCE_QUOTAS, 'default', 'besteffort')).status.used?.pods, '0'));
    await eventually(async () => assert.equal((await cluster.client.get(RESOURCE_QUOTAS, 'default', 'prio')).status.used?.pods, '0'));
    await cluster.create('', 'pods', pod('default', 'free'));
    await cluster.create('', 'pods', withResources('paid-1', { cpu: '1' }));
    await cluster.create('', 'pods', withResources('paid-2', { cpu: '1' }));
    await assert.rejects(cluster.create('', 'pods', pod('default', 'free-2')), /exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1/);
    await cluster.client.create(PRIORITY_CLASSES, undefined, { metadata: { name: 'gold' }, value: 1000 });
    const gold = withResources('gold', { cpu: '1' });
    gold.spec.priorityClassName = 'gold';
    await assert.rejects(cluster.create('', 'pods', gold), /exceeded quota: prio, requested: pods=1, used: pods=0, limited: pods=0/);
    await cluster.stop();
  });

  it('prints quantities as upstream does', () => {
    const q = (text: string) => format(parse(text)!);
    assert.equal(q('1500m'), '1500m');
    assert.equal(q('2000m'), '2');
    assert.equal(q('1024Mi'), '1Gi');
    assert.equal(q('1.5Gi'), '1536Mi');
    assert.equal(q('2000'), '2k');
    assert.equal(q('0.5'), '500m');
  });
});
