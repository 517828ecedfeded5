/** The taint-eviction controller over the real in-process registry: by hand with a fake clock, and running for real. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Obj } from '../../src/client/api-client.js';
import { EVENTS, NODES, PODS } from '../../src/client/resource-types.js';
import { FakeClock, rfc3339 } from '../../src/controllers/clock.js';
import { newTaintEvictionController, TaintEviction, tolerationPeriodMs } from '../../src/controllers/taint-eviction.js';
import { controllerCluster, eventually, runControllers } from './fixture.js';

const T0 = Date.parse('2026-12-02T00:00:00Z');
// Not node.kubernetes.io/unreachable: admission gives every pod a 300 s toleration of that one.
const UNREACHABLE = 'example.com/unreachable';
const pod = (name: string, nodeName: string, tolerations?: object[], finalizers?: string[]) =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, finalizers }, spec: { nodeName, tolerations, containers: [{ name: 'c', image: 'nginx' }] } }) as Obj;
const tolerate = (seconds?: number) => ({ key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', ...(seconds === undefined ? {} : { tolerationSeconds: seconds }) });

describe('taint-eviction controller', () => {
  it('tolerationPeriodMs: untolerated → undefined, no tolerationSeconds → Infinity, else the shortest used', () => {
    const taints = [{ key: UNREACHABLE, effect: 'NoExecute' }, { key: 'k', value: 'v', effect: 'NoExecute' }];
    assert.equal(tolerationPeriodMs(taints, [tolerate(5)]), undefined);
    assert.equal(tolerationPeriodMs(taints, [tolerate(), { key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute' }]), Infinity);
    assert.equal(tolerationPeriodMs(taints, [tolerate(30), { operator: 'Exists', tolerationSeconds: 10 }]), 10_000);
    assert.equal(tolerationPeriodMs(taints, [{ operator: 'Exists', tolerationSeconds: -3 }]), 0);
  });

  it('evicts at once without a toleration, after tolerationSeconds from timeAdded with one, never without tolerationSeconds; a removed taint cancels', async () => {
    const cluster = await controllerCluster();
    const pods = cluster.informers.informer(PODS);
    const nodes = cluster.informers.informer(NODES);
    await cluster.sync();
    const clock = new FakeClock(T0 + 1_000);
    const eviction = new TaintEviction({ client: cluster.client, pods, nodes, events: cluster.events, clock });
    await cluster.client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { taints: [{ key: UNREACHABLE, effect: 'NoExecute', timeAdded: rfc3339(T0) }] } } as Obj);
    await cluster.client.create(PODS, 'default', pod('plain', 'n1', undefined, ['example.com/hold']));
    await cluster.client.create(PODS, 'default', pod('for10s', 'n1', [tolerate(10)]));
    await cluster.client.create(PODS, 'default', pod('forever', 'n1', [tolerate()]));
    await cluster.client.create(PODS, 'default', pod('cancelled', 'n1', [tolerate(20)]));
    await eventually(() => assert.equal(pods.lister.list('default').length, 4));
    await eventually(() => assert.ok(nodes.lister.get(undefined, 'n1')));

    assert.equal(await eviction.sync('default/plain'), undefined);
    const plain = await cluster.client.get(PODS, 'default', 'plain');
    assert.ok(plain.metadata.deletionTimestamp, 'deleted (held by its finalizer so the test can look)');
    const condition = plain.status.conditions.find((c: Obj) => c.type === 'DisruptionTarget');
    assert.deepEqual([condition.status, condition.reason, condition.message], ['True', 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint']);

    assert.deepEqual(await eviction.sync('default/for10s'), { requeueAfterMs: 9_000 }, 'due 10 s after timeAdded');
    assert.deepEqual(await eviction.sync('default/cancelled'), { requeueAfterMs: 19_000 });
    assert.equal(await eviction.sync('default/forever'), undefined);
    assert.equal(eviction.pendingCount, 2);
    clock.set(T0 + 10_000);
    await eviction.sync('default/for10s');
    assert.ok((await cluster.client.get(PODS, 'default', 'for10s')).metadata.deletionTimestamp, 'deleted with its grace period (no kubelet here to finish it)');

    await cluster.client.mutate(NODES, undefined, 'n1', (n) => ({ ...n, spec: { ...n.spec, taints: [] } }));
    await eventually(() => assert.equal(nodes.lister.get(undefined, 'n1')?.spec.taints?.length ?? 0, 0));
    clock.set(T0 + 60_000);
    assert.equal(await eviction.sync('default/cancelled'), undefined);
    assert.equal(eviction.pendingCount, 0);
    const alive = async () => (await cluster.list(PODS)).filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name).sort();
    assert.deepEqual(await alive(), ['cancelled', 'forever']);
    await cluster.events.flush();
    const messages = (await cluster.client.list(EVENTS, 'default')).items.filter((e) => e.reason === 'TaintManagerEviction').map((e) => e.message).sort();
    assert.deepEqual(messages, ['Cancelling deletion of Pod default/cancelled', 'Marking for deletion Pod default/for10s', 'Marking for deletion Pod default/plain']);
    cluster.stop();
  });

  it('running: a NoExecute taint evicts untolerating pods at once and tolerating ones after tolerationSeconds; tolerated-forever pods stay', async () => {
    const cluster = await runControllers([newTaintEvictionController()]);
    try {
      await cluster.client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } as Obj);
      await cluster.client.create(PODS, 'default', pod('plain', 'n1'));
      await cluster.client.create(PODS, 'default', pod('brief', 'n1', [tolerate(1)]));
      await cluster.client.create(PODS, 'default', pod('forever', 'n1', [tolerate()]));
      await cluster.client.mutate(NODES, undefined, 'n1', (n) => ({ ...n, spec: { taints: [{ key: UNREACHABLE, effect: 'NoExecute', timeAdded: rfc3339(Date.now()) }] } }));
      const alive = async () => (await cluster.client.list(PODS, 'default')).items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name).sort();
      // `plain` goes at once and `brief` after its 1 s (the order and timing are the fake-clock
      // test's; a loaded machine may run both before this looks), `forever` stays.
      await eventually(async () => assert.deepEqual(await alive(), ['forever']));
      await eventually(async () => {
        const reasons = (await cluster.client.list(EVENTS, 'default')).items.filter((e) => e.reason === 'TaintManagerEviction');
        assert.equal(reasons.length, 2);
        assert.equal(reasons[0].source?.component ?? reasons[0].reportingComponent, 'taint-eviction-controller');
      });
    } finally {
      await cluster.stop();
    }
  });
});
