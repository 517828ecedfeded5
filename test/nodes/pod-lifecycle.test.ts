import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planPod, normalizedImage, imageId, stopSeconds } from '../../src/nodes/pod-lifecycle.js';
import { PodAddressPool, podCidrBlock, blockOfCidr } from '../../src/nodes/pod-addresses.js';
import type { Obj } from '../../src/client/api-client.js';

const placement = { hostIp: '127.0.0.1', podIp: '10.64.0.2' };
const T0 = Date.parse('2026-12-02T00:00:00Z');

function pod(annotations: Record<string, string> = {}, spec: Record<string, unknown> = {}): Obj {
  return { metadata: { name: 'p', namespace: 'default', uid: 'u1', annotations }, spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'nginx' }], ...spec }, status: { phase: 'Pending', qosClass: 'BestEffort' } } as Obj;
}

/** Applies plans until nothing changes at `nowMs`, as the agent would over several looks. */
function advance(p: Obj, nowMs: number): { pod: Obj; wakeAtMs?: number; terminal: boolean } {
  let current = p;
  for (let i = 0; i < 10; i++) {
    const plan = planPod(current, placement, nowMs);
    if (!plan.status) return { pod: current, wakeAtMs: plan.wakeAtMs, terminal: plan.terminal };
    current = { ...current, status: plan.status } as Obj;
  }
  throw new Error('plan does not settle');
}

test('a pending pod goes Running and Ready at once, keeping its QoS class and scheduling condition', () => {
  const { pod: running, wakeAtMs } = advance(pod(), T0);
  assert.equal(running.status.phase, 'Running');
  assert.equal(running.status.podIP, '10.64.0.2');
  assert.equal(running.status.qosClass, 'BestEffort');
  assert.equal(wakeAtMs, undefined, 'a container that runs forever needs no wake-up');
  const ready = running.status.conditions.find((c: Obj) => c.type === 'Ready');
  assert.equal(ready.status, 'True');
  assert.equal(running.status.containerStatuses[0].state.running.startedAt, '2026-12-02T00:00:00Z');
  // Looking again later changes nothing (no rewrite of timestamps).
  assert.equal(planPod(running, placement, T0 + 60_000).status, undefined);
});

test('readiness waits for initialDelaySeconds and says when to look again', () => {
  const probed = pod({}, { containers: [{ name: 'c', image: 'nginx', readinessProbe: { initialDelaySeconds: 5 } }] });
  const first = advance(probed, T0);
  assert.equal(first.pod.status.containerStatuses[0].ready, false);
  assert.equal(first.pod.status.conditions.find((c: Obj) => c.type === 'Ready').reason, 'ContainersNotReady');
  assert.equal(first.wakeAtMs, T0 + 5000);
  const later = advance(first.pod, T0 + 5000);
  assert.equal(later.pod.status.containerStatuses[0].ready, true);
});

test('restartPolicy Always restarts, then backs off in CrashLoopBackOff; Never and OnFailure end the pod', () => {
  const crashing = pod({ 'nautilus.dev/run-seconds': '2', 'nautilus.dev/exit-code': '1' });
  let state = advance(crashing, T0);
  assert.equal(state.wakeAtMs, T0 + 2000);
  state = advance(state.pod, T0 + 2000);
  const first = state.pod.status.containerStatuses[0];
  assert.equal(first.restartCount, 1);
  assert.equal(first.lastState.terminated.exitCode, 1);
  assert.ok(first.state.running, 'the first restart is immediate');
  state = advance(state.pod, T0 + 4000);
  const second = state.pod.status.containerStatuses[0];
  assert.equal(second.restartCount, 2);
  assert.equal(second.state.waiting.reason, 'CrashLoopBackOff');
  assert.equal(state.wakeAtMs, T0 + 14_000, 'ten seconds of back-off');
  assert.equal(state.pod.status.phase, 'Running');

  const never = advance(advance(pod({ 'nautilus.dev/run-seconds': '1', 'nautilus.dev/exit-code': '2' }, { restartPolicy: 'Never' }), T0).pod, T0 + 1000);
  assert.equal(never.pod.status.phase, 'Failed');
  assert.equal(never.terminal, true);
  assert.equal(never.pod.status.containerStatuses[0].state.terminated.finishedAt, '2026-12-02T00:00:01Z');
  const onFailure = advance(advance(pod({ 'nautilus.dev/run-seconds': '1' }, { restartPolicy: 'OnFailure' }), T0).pod, T0 + 1000);
  assert.equal(onFailure.pod.status.phase, 'Succeeded');
  assert.equal(onFailure.pod.status.conditions.find((c: Obj) => c.type === 'Ready').reason, 'PodCompleted');
  assert.deepEqual(planPod(onFailure.pod, placement, T0 + 99_000), { terminal: true });
});

test('init containers complete, sidecars keep running', () => {
  const withInit = pod({}, { initContainers: [{ name: 'setup', image: 'busybox' }, { name: 'proxy', image: 'envoy', restartPolicy: 'Always' }] });
  const { pod: running } = advance(withInit, T0);
  const [setup, proxy] = running.status.initContainerStatuses;
  assert.equal(setup.state.terminated.reason, 'Completed');
  assert.ok(proxy.state.running);
});

test('images are named as a runtime reports them; stop time is capped by the grace period', () => {
  assert.equal(normalizedImage('nginx'), 'docker.io/library/nginx:latest');
  assert.equal(normalizedImage('bitnami/redis:7'), 'docker.io/bitnami/redis:7');
  assert.equal(normalizedImage('registry.k8s.io/pause:3.9'), 'registry.k8s.io/pause:3.9');
  assert.equal(normalizedImage('localhost:5000/app'), 'localhost:5000/app:latest');
  assert.match(imageId('nginx'), /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
  assert.equal(stopSeconds({ metadata: { deletionGracePeriodSeconds: 30 }, spec: {} } as Obj), 1);
  assert.equal(stopSeconds({ metadata: { deletionGracePeriodSeconds: 5, annotations: { 'nautilus.dev/stop-seconds': '20' } }, spec: {} } as Obj), 5);
});

test('pod addresses: one /24 per node, the lowest free address, kept and released', () => {
  assert.equal(podCidrBlock(0), '10.64.0.0/24');
  assert.equal(podCidrBlock(4999), '10.83.135.0/24');
  assert.equal(blockOfCidr('10.83.135.0/24'), 4999);
  assert.equal(blockOfCidr('10.244.0.0/24'), undefined);
  const pool = new PodAddressPool('10.64.7.0/24');
  assert.equal(pool.assign('a'), '10.64.7.2');
  assert.equal(pool.assign('b', '10.64.7.9'), '10.64.7.9', 'a recorded address is kept');
  assert.equal(pool.assign('a'), '10.64.7.2');
  pool.release('a');
  assert.equal(pool.assign('c'), '10.64.7.2');
  for (let i = 0; i < 251; i++) pool.assign(`x${i}`);
  assert.equal(pool.assign('full'), undefined);
});
