/**
 * The HPA controller over a real registry and the in-process client; pod usage comes from a
 * metrics source injected at the controller's seam (the metrics API is another component's).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry as MetricsRegistry } from 'prom-client';
import { inMemoryCluster } from '../client/fixture.js';
import { InformerFactory } from '../../src/client/informer-factory.js';
import { ControllerManager } from '../../src/controllers/manager.js';
import { horizontalPodAutoscalerController } from '../../src/controllers/horizontal-pod-autoscaler.js';
import { DEPLOYMENTS, HORIZONTAL_POD_AUTOSCALERS, PODS } from '../../src/client/resource-types.js';
import { MetricsUnavailableError, type PodUsage } from '../../src/controllers/hpa/metrics-source.js';
import type { ResourceType } from '../../src/client/resource-types.js';

async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const HPA_V1: ResourceType = { ...HORIZONTAL_POD_AUTOSCALERS, version: 'v1' };

describe('horizontal pod autoscaler controller', () => {
  it('scales a Deployment up when usage rises, reports status, and says why when metrics are missing', async () => {
    const { client } = await inMemoryCluster(['default']);
    let cpuPerPod: number | undefined = 90;
    const metrics = {
      async podUsage(): Promise<PodUsage> {
        if (cpuPerPod === undefined) throw new MetricsUnavailableError('unable to fetch metrics from resource metrics API: the server could not find the requested resource');
        const pods = await client.list(PODS, 'default', { labelSelector: 'app=web' });
        return new Map(pods.items.map((pod) => [pod.metadata.name!, { cpu: cpuPerPod! }]));
      },
    };
    const informers = new InformerFactory(client);
    const manager = new ControllerManager([horizontalPodAutoscalerController({ metrics: () => metrics })], {
      clientFor: (user, fieldManager) => client.as(user, fieldManager),
      informers,
      metrics: new MetricsRegistry(),
      settings: { 'horizontal-pod-autoscaler-sync-period-ms': 100 },
    });
    const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '100m' } } }] } };
    await client.create(DEPLOYMENTS, 'default', { metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template } });
    for (const name of ['web-a', 'web-b']) {
      await client.create(PODS, 'default', { metadata: { name, labels: { app: 'web' } }, spec: template.spec });
      await client.patch(PODS, 'default', name, 'merge', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
    }
    // Created through autoscaling/v1: the v2 controller sees the CPU target.
    await client.create(HPA_V1, 'default', { metadata: { name: 'web' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10, targetCPUUtilizationPercentage: 50 } });
    await manager.start();
    try {
      // 2 pods at 90% of request, target 50% → ceil(1.8 × 2) = 4.
      await eventually(async () => assert.equal((await client.get(DEPLOYMENTS, 'default', 'web')).spec.replicas, 4));
      const hpa = await eventually(async () => {
        const current = await client.get(HORIZONTAL_POD_AUTOSCALERS, 'default', 'web');
        assert.equal(current.status?.desiredReplicas, 4);
        return current;
      });
      assert.equal(hpa.status.currentMetrics[0].resource.current.averageUtilization, 90);
      assert.ok(hpa.status.lastScaleTime);
      const v1 = await client.get(HPA_V1, 'default', 'web');
      assert.equal(v1.spec.targetCPUUtilizationPercentage, 50);
      cpuPerPod = undefined;
      await eventually(async () => {
        const current = await client.get(HORIZONTAL_POD_AUTOSCALERS, 'default', 'web');
        const active = current.status.conditions.find((c: { type: string }) => c.type === 'ScalingActive');
        assert.equal(active.status, 'False');
        assert.equal(active.reason, 'FailedGetResourceMetric');
      });
    } finally {
      await manager.stop();
      informers.stop();
    }
  });
});
