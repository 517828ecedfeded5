/** The node lifecycle controller's health part, driven by hand with a fake clock over the real in-process registry. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Obj } from '../../src/client/api-client.js';
import { LEASES, NAMESPACES, NODES } from '../../src/client/resource-types.js';
import { FakeClock } from '../../src/controllers/clock.js';
import { NodeLifecycle, NOT_READY_TAINT, TAINTING_KEY, UNREACHABLE_TAINT } from '../../src/controllers/node-lifecycle.js';
import { controllerCluster, eventually } from './fixture.js';

const T0 = Date.parse('2026-12-02T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms).toISOString().replace(/\.\d+Z$/, 'Z');

describe('node lifecycle controller', () => {
  it('a silent node goes Unknown after the grace period and gets the unreachable NoExecute taint; a Lease renewal or Ready=False changes it', async () => {
    const cluster = await controllerCluster();
    await cluster.client.create(NAMESPACES, undefined, { metadata: { name: 'kube-node-lease' } } as Obj);
    const nodes = cluster.informers.informer(NODES);
    const leases = cluster.informers.informer(LEASES, { namespace: 'kube-node-lease' });
    await cluster.sync();
    const clock = new FakeClock(T0);
    const lifecycle = new NodeLifecycle({ client: cluster.client, nodes, leases, clock, gracePeriodMs: 40_000 });
    // A healthy neighbour: with every node down the controller would suspect itself and not taint NoExecute.
    await cluster.client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n0' }, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: at(0), lastTransitionTime: at(0) }] } } as Obj);
    await cluster.client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } as Obj);
    await cluster.client.mutate(NODES, undefined, 'n1', (n) => ({ ...n, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: at(0), lastTransitionTime: at(0) }, { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: at(0), lastTransitionTime: at(0) }] } }), { subresource: 'status' });
    await cluster.client.create(LEASES, 'kube-node-lease', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1' }, spec: { holderIdentity: 'n1', renewTime: new Date(T0).toISOString().replace('Z', '000Z').replace(/\.(\d{3})000Z$/, '.$1000Z') } } as Obj);
    const node = () => cluster.client.get(NODES, undefined, 'n1');
    const settle = () => eventually(async () => assert.equal(nodes.lister.get(undefined, 'n1')?.metadata.resourceVersion, (await node()).metadata.resourceVersion));

    await settle();
    await lifecycle.sync('n1'); // first sight, as on the informer's add: the grace period starts now
    clock.set(T0 + 30_000);
    const early = await lifecycle.sync('n1');
    assert.ok(early && early.requeueAfterMs! <= 10_001, 'looks again before the grace period ends');
    assert.equal((await node()).status.conditions[0].status, 'True');

    clock.set(T0 + 41_000);
    await lifecycle.sync('n1');
    const unknown = await node();
    const ready = unknown.status.conditions.find((c: Obj) => c.type === 'Ready');
    assert.deepEqual([ready.status, ready.reason, ready.message], ['Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.']);
    assert.equal(unknown.status.conditions.find((c: Obj) => c.type === 'MemoryPressure').status, 'Unknown');
    await settle();
    await lifecycle.sync('n1');
    assert.deepEqual((await node()).spec.taints.map((t: Obj) => [t.key, t.effect]), [[UNREACHABLE_TAINT, 'NoSchedule']], 'NoSchedule at once, NoExecute through the zone queue');
    await settle();
    await lifecycle.sync(TAINTING_KEY);
    assert.deepEqual((await node()).spec.taints.map((t: Obj) => [t.key, t.effect]), [[UNREACHABLE_TAINT, 'NoSchedule'], [UNREACHABLE_TAINT, 'NoExecute']]);

    // The kubelet comes back: Ready=False (e.g. runtime down) swaps the taint for not-ready.
    await cluster.client.mutate(NODES, undefined, 'n1', (n) => ({ ...n, status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', lastHeartbeatTime: at(41_000), lastTransitionTime: at(41_000) }] } }), { subresource: 'status' });
    await settle();
    await lifecycle.sync('n1');
    assert.deepEqual((await node()).spec.taints.map((t: Obj) => [t.key, t.effect]), [[NOT_READY_TAINT, 'NoSchedule'], [NOT_READY_TAINT, 'NoExecute']]);
    // Ready again: no taint.
    await cluster.client.mutate(NODES, undefined, 'n1', (n) => ({ ...n, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: at(42_000), lastTransitionTime: at(42_000) }] } }), { subresource: 'status' });
    await settle();
    await lifecycle.sync('n1');
    assert.equal((await node()).spec.taints, undefined);
    cluster.stop();
  });

  it('a node registered with an old heartbeat gets the whole grace period from when it is first seen', async () => {
    const cluster = await controllerCluster();
    const nodes = cluster.informers.informer(NODES);
    const leases = cluster.informers.informer(LEASES, { namespace: 'kube-node-lease' });
    await cluster.sync();
    const clock = new FakeClock(T0);
    const lifecycle = new NodeLifecycle({ client: cluster.client, nodes, leases, clock, gracePeriodMs: 40_000 });
    const old = '2026-01-01T00:00:00Z';
    await cluster.client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' }, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: old, lastTransitionTime: old }] } } as Obj);
    await eventually(() => assert.ok(nodes.lister.get(undefined, 'n2')));
    const readyOf = async () => (await cluster.client.get(NODES, undefined, 'n2')).status.conditions.find((c: Obj) => c.type === 'Ready').status;
    await lifecycle.sync('n2');
    assert.equal(await readyOf(), 'True');
    clock.set(T0 + 39_000);
    await lifecycle.sync('n2');
    assert.equal(await readyOf(), 'True');
    clock.set(T0 + 41_000);
    await lifecycle.sync('n2');
    assert.equal(await readyOf(), 'Unknown');
    cluster.stop();
  });
});
