import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONTROLLER_REVISIONS, DAEMON_SETS, NODES, PODS } from '../../src/client/resource-types.js';
import type { Obj } from '../../src/client/api-client.js';
import { DaemonSetControl } from '../../src/controllers/daemonset/control.js';
import { nodeShouldRunDaemonPod, addDaemonPodTolerations, targetNodeOf } from '../../src/controllers/daemonset/placement.js';
import { planRollingUpdate } from '../../src/controllers/daemonset/rolling-update.js';
import { indexByControllerUid } from '../../src/controllers/controller-ref.js';
import { FakeClock } from '../../src/controllers/clock.js';
import { controllerCluster, markFinished, markRunningReady } from './fixture.js';

function node(name: string, labels: Record<string, string> = {}, taints: Record<string, string>[] = []): Obj {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec: taints.length ? { taints } : {} } as Obj;
}

function daemonSet(name: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'agent:1' }], ...podSpec } },
      ...spec,
    },
  } as Obj;
}

async function setup() {
  const cluster = await controllerCluster();
  const pods = cluster.informers.informer(PODS);
  const revisions = cluster.informers.informer(CONTROLLER_REVISIONS);
  indexByControllerUid(pods);
  indexByControllerUid(revisions);
  const clock = new FakeClock(Date.now());
  const control = new DaemonSetControl({ client: cluster.client, daemonSets: cluster.informers.informer(DAEMON_SETS), pods, nodes: cluster.informers.informer(NODES), revisions, events: cluster.events, clock });
  await cluster.sync();
  const podsByNode = async () => {
    const result: Record<string, string[]> = {};
    for (const pod of await cluster.list(PODS)) (result[targetNodeOf(pod) ?? '?'] ??= []).push(pod.spec.containers[0].image);
    return result;
  };
  const readyAll = async () => {
    for (const pod of await cluster.list(PODS)) if (pod.status?.phase !== 'Running') await markRunningReady(cluster.client, 'default', pod.metadata.name!, new Date(clock.now() - 1000));
  };
  return { ...cluster, control, clock, podsByNode, readyAll };
}

describe('DaemonSet placement', () => {
  it('adds the default daemon tolerations, network-unavailable only for host-network pods, replacing equal ones', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const spec: Record<string, any> = { tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] };
    addDaemonPodTolerations(spec);
    assert.deepEqual(spec.tolerations.map((t: Record<string, unknown>) => `${t.key}:${t.effect}${t.tolerationSeconds ? `:${t.tolerationSeconds}` : ''}`), [
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const hostNetwork: Record<string, any> = { hostNetwork: true };
    addDaemonPodTolerations(hostNetwork);
    assert.ok(hostNetwork.tolerations.some((t: Record<string, unknown>) => t.key === 'node.kubernetes.io/network-unavailable'));
  });

  it('decides per node from nodeSelector, required affinity and NoSchedule/NoExecute taints', () => {
    const ds = daemonSet('agent', {}, { nodeSelector: { disk: 'ssd' } });
    assert.deepEqual(nodeShouldRunDaemonPod(node('a', { disk: 'ssd' }), ds), { shouldRun: true, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(node('b'), ds), { shouldRun: false, shouldContinueRunning: false });
    const affinity = daemonSet('agent', {}, { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['x', 'y'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['special'] }] }] } } } });
    assert.equal(nodeShouldRunDaemonPod(node('a', { zone: 'y' }), affinity).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('a', { zone: 'z' }), affinity).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(node('special'), affinity).shouldRun, true);
    const plain = daemonSet('agent');
    // NoSchedule: no new pod, but a running one may stay; NoExecute: it must go.
    assert.deepEqual(nodeShouldRunDaemonPod(node('t', {}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]), plain), { shouldRun: false, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(node('t', {}, [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }]), plain), { shouldRun: false, shouldContinueRunning: false });
    assert.equal(nodeShouldRunDaemonPod(node('t', {}, [{ key: 'dedicated', value: 'db', effect: 'PreferNoSchedule' }]), plain).shouldRun, true);
    // The default tolerations cover the node lifecycle taints.
    assert.equal(nodeShouldRunDaemonPod(node('t', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]), plain).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('t', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), plain).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(node('t', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), daemonSet('agent', {}, { hostNetwork: true })).shouldRun, true);
    const tolerant = daemonSet('agent', {}, { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] });
    assert.equal(nodeShouldRunDaemonPod(node('t', {}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]), tolerant).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('t', {}, [{ key: 'dedicated', value: 'web', effect: 'NoSchedule' }]), tolerant).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(node('b'), daemonSet('agent', {}, { nodeName: 'a' })).shouldRun, false);
  });

  it('rolling update arithmetic: maxUnavailable counts nodes without an available pod, surge waits for the new pod', () => {
    const pod = (name: string, updated: boolean, ready: boolean): Obj => ({ metadata: { name, labels: { 'controller-revision-hash': updated ? 'new' : 'old' } }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }) as Obj;
    const common = { isUpdated: (p: Obj) => p.metadata.labels?.['controller-revision-hash'] === 'new', shouldRun: () => true, minReadySeconds: 0, now: Date.now() };
    const nodes = new Map<string, Obj[]>([['a', [pod('a-old', false, true)]], ['b', [pod('b-old', false, false)]], ['c', [pod('c-old', false, true)]], ['d', [pod('d-new', true, false)]]]);
    // d's new pod is unavailable (1 of 2); b's old pod is unavailable, so replaced regardless; one more may go.
    assert.deepEqual(planRollingUpdate({ ...common, nodeToPods: nodes, maxSurge: 0, maxUnavailable: 2 }), { oldPodsToDelete: ['b-old', 'a-old'], nodesToCreate: [] });
    assert.deepEqual(planRollingUpdate({ ...common, nodeToPods: nodes, maxSurge: 0, maxUnavailable: 1 }), { oldPodsToDelete: ['b-old'], nodesToCreate: [] });
    const surging = new Map<string, Obj[]>([['a', [pod('a-old', false, true), pod('a-new', true, true)]], ['b', [pod('b-old', false, true)]], ['c', [pod('c-old', false, true)]]]);
    assert.deepEqual(planRollingUpdate({ ...common, nodeToPods: surging, maxSurge: 1, maxUnavailable: 0 }), { oldPodsToDelete: ['a-old'], nodesToCreate: ['b'] });
  });
});

describe('DaemonSet controller', () => {
  it('runs one pod per eligible node, pinned by node affinity (not nodeName), and follows new and changed nodes', async () => {
    const t = await setup();
    for (const name of ['n1', 'n2', 'n3']) await t.client.create(NODES, undefined, node(name));
    await t.client.create(NODES, undefined, node('tainted', {}, [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }]));
    await t.client.create(DAEMON_SETS, 'default', daemonSet('agent'));
    await t.control.sync('default/agent');
    const pods = await t.list(PODS);
    assert.deepEqual(pods.map((p) => targetNodeOf(p)).sort(), ['n1', 'n2', 'n3']);
    for (const pod of pods) {
      assert.equal(pod.spec.nodeName, undefined);
      assert.deepEqual(pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [targetNodeOf(pod)] }] }]);
      assert.match(pod.metadata.name!, /^agent-/);
      assert.equal(pod.metadata.labels!['pod-template-generation'], '1');
      assert.ok(pod.metadata.labels!['controller-revision-hash']);
      assert.ok(pod.spec.tolerations.some((t: Obj) => t.key === 'node.kubernetes.io/unschedulable'));
    }
    let status = (await t.client.get(DAEMON_SETS, 'default', 'agent')).status;
    assert.equal(status.desiredNumberScheduled, 3);
    assert.equal(status.currentNumberScheduled, 3);
    assert.equal(status.numberReady, 0);
    assert.equal(status.updatedNumberScheduled, 3);
    assert.equal(status.numberUnavailable, 3);
    assert.equal(status.observedGeneration, 1);

    await t.readyAll();
    await t.client.create(NODES, undefined, node('n4'));
    await t.control.sync('default/agent');
    assert.deepEqual(Object.keys(await t.podsByNode()).sort(), ['n1', 'n2', 'n3', 'n4']);
    status = (await t.client.get(DAEMON_SETS, 'default', 'agent')).status;
    assert.equal(status.desiredNumberScheduled, 4);
    assert.equal(status.numberReady, 3);
    assert.equal(status.numberAvailable, 3);

    // A NoExecute taint evicts the daemon pod; a tolerating DaemonSet would stay.
    await t.client.mutate(NODES, undefined, 'n4', (n) => ({ ...n, spec: { ...n.spec, taints: [{ key: 'maintenance', effect: 'NoExecute' }] } }));
    await t.control.sync('default/agent');
    assert.deepEqual(Object.keys(await t.podsByNode()).sort(), ['n1', 'n2', 'n3']);
    t.stop();
  });

  it('a tainted node gets a pod only when the DaemonSet tolerates the taint; a NoSchedule pod stays as misscheduled', async () => {
    const t = await setup();
    await t.client.create(NODES, undefined, node('n1'));
    await t.client.create(NODES, undefined, node('gpu', {}, [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }]));
    await t.client.create(DAEMON_SETS, 'default', daemonSet('tolerant', {}, { tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }] }));
    await t.control.sync('default/tolerant');
    assert.deepEqual(Object.keys(await t.podsByNode()).sort(), ['gpu', 'n1']);
    await t.client.mutate(NODES, undefined, 'n1', (n) => ({ ...n, spec: { taints: [{ key: 'other', effect: 'NoSchedule' }] } }));
    await t.control.sync('default/tolerant');
    assert.deepEqual(Object.keys(await t.podsByNode()).sort(), ['gpu', 'n1'], 'an untolerated NoSchedule taint does not evict');
    const status = (await t.client.get(DAEMON_SETS, 'default', 'tolerant')).status;
    assert.equal(status.desiredNumberScheduled, 1);
    assert.equal(status.numberMisscheduled, 1);
    t.stop();
  });

  it('deletes the pod of a node that stops matching the node selector', async () => {
    const t = await setup();
    await t.client.create(NODES, undefined, node('n1', { role: 'edge' }));
    await t.client.create(NODES, undefined, node('n2', { role: 'edge' }));
    await t.client.create(DAEMON_SETS, 'default', daemonSet('edge', {}, { nodeSelector: { role: 'edge' } }));
    await t.control.sync('default/edge');
    assert.equal((await t.list(PODS)).length, 2);
    await t.client.mutate(NODES, undefined, 'n2', (n) => ({ ...n, metadata: { ...n.metadata, labels: { role: 'core' } } }));
    await t.control.sync('default/edge');
    assert.deepEqual(Object.keys(await t.podsByNode()), ['n1']);
    t.stop();
  });

  it('rolls out with maxUnavailable 1: one node at a time, the next once the new pod is available', async () => {
    const t = await setup();
    for (const name of ['n1', 'n2', 'n3']) await t.client.create(NODES, undefined, node(name));
    await t.client.create(DAEMON_SETS, 'default', daemonSet('agent'));
    await t.control.sync('default/agent');
    await t.readyAll();
    await t.control.sync('default/agent');
    await t.client.mutate(DAEMON_SETS, 'default', 'agent', (d) => {
      d.spec.template.spec.containers[0].image = 'agent:2';
      return d;
    });
    const ds = await t.client.get(DAEMON_SETS, 'default', 'agent');
    assert.equal(ds.metadata.annotations!['deprecated.daemonset.template.generation'], '2');
    await t.control.sync('default/agent');
    const count = (images: Record<string, string[]>, image: string) => Object.values(images).flat().filter((i) => i === image).length;
    let images = await t.podsByNode();
    assert.equal(count(images, 'agent:1'), 2, 'one old pod deleted');
    await t.control.sync('default/agent');
    images = await t.podsByNode();
    assert.equal(count(images, 'agent:2'), 1, 'replaced on that node');
    await t.control.sync('default/agent');
    assert.equal(count(await t.podsByNode(), 'agent:1'), 2, 'waits while the new pod is not available');
    for (let i = 0; i < 6; i++) {
      await t.readyAll();
      await t.control.sync('default/agent');
    }
    images = await t.podsByNode();
    assert.equal(count(images, 'agent:2'), 3);
    const status = (await t.client.get(DAEMON_SETS, 'default', 'agent')).status;
    assert.equal(status.updatedNumberScheduled, 3);
    assert.equal(status.numberAvailable, 3);
    assert.equal(status.observedGeneration, 2);
    const revisions = await t.list(CONTROLLER_REVISIONS);
    assert.deepEqual(revisions.map((r) => r.revision).sort(), [1, 2]);
    t.stop();
  });

  it('surges with maxSurge: a new pod starts beside the old one, which goes once the new one is available', async () => {
    const t = await setup();
    await t.client.create(NODES, undefined, node('n1'));
    await t.client.create(NODES, undefined, node('n2'));
    await t.client.create(DAEMON_SETS, 'default', daemonSet('agent', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
    await t.control.sync('default/agent');
    await t.readyAll();
    await t.client.mutate(DAEMON_SETS, 'default', 'agent', (d) => {
      d.spec.template.spec.containers[0].image = 'agent:2';
      return d;
    });
    await t.control.sync('default/agent');
    const images = await t.podsByNode();
    assert.equal(Object.values(images).flat().length, 3, 'one node runs old and new');
    assert.ok(Object.values(images).some((list) => list.length === 2));
    await t.readyAll();
    await t.control.sync('default/agent');
    await t.control.sync('default/agent');
    assert.equal((await t.list(PODS)).filter((p) => p.spec.containers[0].image === 'agent:1').length, 1);
    t.stop();
  });

  it('deletes a failed daemon pod (with an event), backing off before the next, and recreates it', async () => {
    const t = await setup();
    await t.client.create(NODES, undefined, node('n1'));
    await t.client.create(DAEMON_SETS, 'default', daemonSet('agent'));
    await t.control.sync('default/agent');
    const [first] = await t.list(PODS);
    await markFinished(t.client, 'default', first.metadata.name!, 1);
    await t.control.sync('default/agent');
    await t.control.sync('default/agent');
    const [second] = await t.list(PODS);
    assert.notEqual(second.metadata.uid, first.metadata.uid);
    assert.ok((await t.reasons()).includes('FailedDaemonPod'));
    await markFinished(t.client, 'default', second.metadata.name!, 1);
    const result = await t.control.sync('default/agent');
    assert.equal((await t.list(PODS))[0].metadata.uid, second.metadata.uid, 'within the backoff the failed pod stays');
    assert.ok(result && result.requeueAfterMs! > 0 && result.requeueAfterMs! <= 2000);
    t.clock.advance(2500);
    await t.control.sync('default/agent');
    assert.notEqual((await t.list(PODS))[0]?.metadata.uid, second.metadata.uid);
    t.stop();
  });

  it('OnDelete updates a node only when its pod is deleted', async () => {
    const t = await setup();
    await t.client.create(NODES, undefined, node('n1'));
    await t.client.create(NODES, undefined, node('n2'));
    await t.client.create(DAEMON_SETS, 'default', daemonSet('agent', { updateStrategy: { type: 'OnDelete' } }));
    await t.control.sync('default/agent');
    await t.client.mutate(DAEMON_SETS, 'default', 'agent', (d) => {
      d.spec.template.spec.containers[0].image = 'agent:2';
      return d;
    });
    await t.control.sync('default/agent');
    assert.deepEqual(Object.values(await t.podsByNode()).flat(), ['agent:1', 'agent:1']);
    const victim = (await t.list(PODS)).find((p) => targetNodeOf(p) === 'n1')!;
    await t.client.delete(PODS, 'default', victim.metadata.name!);
    await t.control.sync('default/agent');
    assert.deepEqual(await t.podsByNode(), { n1: ['agent:2'], n2: ['agent:1'] });
    t.stop();
  });
});
