import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replicasForUtilization, replicasForAverageValue, type PodSample } from '../../src/controllers/hpa/replica-calculator.js';
import { normalizeReplicas, recordScale, scaleDownLimit, scaleUpLimit, type ScalingHistory } from '../../src/controllers/hpa/behavior.js';

const pods = (usages: Array<number | undefined>, request = 100, ready = true): PodSample[] => usages.map((usage, i) => ({ name: `p${i}`, request, usage, ready }));

describe('HPA replica calculation', () => {
  it('scales by the usage ratio, rounding up', () => {
    // 3 pods at 90% of request, target 50%: ceil(1.8 * 3) = 6.
    assert.equal(replicasForUtilization(3, 50, pods([90, 90, 90])).replicas, 6);
    assert.equal(replicasForUtilization(3, 50, pods([90, 90, 90])).utilization, 90);
    // 4 pods at 20%, target 50%: ceil(0.4 * 4) = 2.
    assert.equal(replicasForUtilization(4, 50, pods([20, 20, 20, 20])).replicas, 2);
  });

  it('keeps the size within the 10% tolerance', () => {
    assert.equal(replicasForUtilization(4, 50, pods([54, 54, 54, 54])).replicas, 4);
    assert.equal(replicasForUtilization(4, 50, pods([46, 46, 46, 46])).replicas, 4);
    assert.equal(replicasForUtilization(4, 50, pods([56, 56, 56, 56])).replicas, 5);
    assert.equal(replicasForUtilization(4, 50, pods([54, 54, 54, 54]), 0.05).replicas, 5);
  });

  it('assumes missing pods at 100% when scaling down and 0% when scaling up', () => {
    // Scale up: 2 report 100%, 2 missing count as 0% → ratio (200/400)/0.5 = 1 → no change.
    assert.equal(replicasForUtilization(4, 50, pods([100, 100, undefined, undefined])).replicas, 4);
    // Scale down: 2 report 10%, 2 missing count as 100% → 220/400 = 55% vs 50% → within tolerance.
    assert.equal(replicasForUtilization(4, 50, pods([10, 10, undefined, undefined])).replicas, 4);
    // Scale up with an unready pod counted as 0%: (150+150+0)/300 = 100% vs 50% → ceil(2 * 3) = 6.
    const samples = [...pods([150, 150]), { name: 'u', request: 100, usage: 500, ready: false }];
    assert.equal(replicasForUtilization(3, 50, samples).replicas, 6);
  });

  it('refuses pods without requests, and handles AverageValue targets', () => {
    assert.throws(() => replicasForUtilization(1, 50, pods([10], 0)), /missing request for cpu/);
    assert.equal(replicasForAverageValue(2, 100, pods([300, 300])).replicas, 6);
    assert.equal(replicasForAverageValue(2, 100, pods([105, 95])).replicas, 2);
  });
});

describe('HPA behavior', () => {
  const empty = (): ScalingHistory => ({ recommendations: [], events: [] });

  it('scale-down stabilization keeps the highest recommendation of the window', () => {
    const history = empty();
    const base = { minReplicas: 1, maxReplicas: 10, history, downscaleStabilizationSeconds: 300 };
    assert.equal(normalizeReplicas({ ...base, current: 5, recommended: 8, now: 0 }).replicas, 8);
    assert.equal(normalizeReplicas({ ...base, current: 8, recommended: 2, now: 60_000 }).replicas, 8);
    // After the window, the low recommendation wins.
    assert.equal(normalizeReplicas({ ...base, current: 8, recommended: 2, now: 400_000 }).replicas, 2);
  });

  it('without a behavior, scale-up is limited to max(2 × current, 4)', () => {
    const result = normalizeReplicas({ current: 3, recommended: 20, minReplicas: 1, maxReplicas: 50, history: empty(), now: 0 });
    assert.deepEqual(result, { replicas: 6, limited: { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' } });
  });

  it('policies: Pods and Percent per period, selectPolicy Max and Min, Disabled', () => {
    const rules = { policies: [{ type: 'Pods' as const, value: 2, periodSeconds: 60 }, { type: 'Percent' as const, value: 50, periodSeconds: 60 }] };
    assert.equal(scaleUpLimit(10, [], { ...rules, selectPolicy: 'Max' }, 0), 15);
    assert.equal(scaleUpLimit(10, [], { ...rules, selectPolicy: 'Min' }, 0), 12);
    assert.equal(scaleUpLimit(10, [], { ...rules, selectPolicy: 'Disabled' }, 0), 10);
    // 3 added within the period: the period started at 7.
    assert.equal(scaleUpLimit(10, [{ at: -30_000, change: 3 }], { ...rules, selectPolicy: 'Min' }, 0), 9);
    assert.equal(scaleDownLimit(10, [], { ...rules, selectPolicy: 'Max' }, 0), 5);
    assert.equal(scaleDownLimit(10, [], { ...rules, selectPolicy: 'Min' }, 0), 8);
  });

  it('a behavior with a scale-up window waits for the recommendation to hold', () => {
    const history = empty();
    const behavior = { scaleUp: { stabilizationWindowSeconds: 60, policies: [{ type: 'Percent' as const, value: 100, periodSeconds: 15 }] }, scaleDown: { stabilizationWindowSeconds: 0 } };
    const base = { minReplicas: 1, maxReplicas: 10, history, behavior };
    assert.equal(normalizeReplicas({ ...base, current: 2, recommended: 2, now: 0 }).replicas, 2);
    assert.equal(normalizeReplicas({ ...base, current: 2, recommended: 6, now: 10_000 }).replicas, 2);
    assert.equal(normalizeReplicas({ ...base, current: 2, recommended: 6, now: 70_000 }).replicas, 4);
    recordScale(history, 2, 4, 70_000);
    assert.equal(normalizeReplicas({ ...base, current: 4, recommended: 6, now: 75_000 }).replicas, 4);
    assert.equal(normalizeReplicas({ ...base, current: 4, recommended: 6, now: 90_000 }).replicas, 6);
  });

  it('clamps to min and max replicas', () => {
    assert.equal(normalizeReplicas({ current: 3, recommended: 100, minReplicas: 1, maxReplicas: 5, history: empty(), now: 0 }).limited?.reason, 'TooManyReplicas');
    assert.equal(normalizeReplicas({ current: 3, recommended: 0, minReplicas: 2, maxReplicas: 5, history: empty(), now: 0, downscaleStabilizationSeconds: 0 }).replicas, 2);
  });
});
