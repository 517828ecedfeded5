/**
 * Zone-aware, rate-limited NoExecute tainting in the node lifecycle controller, as upstream's
 * nodelifecycle documents it: per-zone queues drained at --node-eviction-rate, a partially
 * disrupted zone slowed to --secondary-node-eviction-rate (or stopped when small), and no NoExecute
 * taint at all while every zone is fully disrupted. Driven by hand with a fake clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Obj } from '../../src/client/api-client.js';
import { LEASES, NODES } from '../../src/client/resource-types.js';
import { FakeClock } from '../../src/controllers/clock.js';
import { NodeLifecycle, NOT_READY_TAINT, TAINTING_KEY, UNREACHABLE_TAINT } from '../../src/controllers/node-lifecycle.js';
import { computeZoneState, DEFAULT_EVICTION_SETTINGS, taintingRate, type EvictionSettings } from '../../src/controllers/node-lifecycle-zones.js';
import { NodeCollectorMetrics } from '../../src/controllers/node-lifecycle-metrics.js';
import { Registry } from 'prom-client';
import { controllerCluster, eventually } from './fixture.js';

const T0 = Date.parse('2026-12-02T00:00:00Z');
const OURS = [NOT_READY_TAINT, UNREACHABLE_TAINT];
const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

async function zones(layout: Record<string, number>, eviction: Partial<EvictionSettings> = {}, metrics?: NodeCollectorMetrics) {
  const cluster = await controllerCluster();
  const nodes = cluster.informers.informer(NODES);
  const leases = cluster.informers.informer(LEASES, { namespace: 'kube-node-lease' });
  await cluster.sync();
  const clock = new FakeClock(T0);
  const lifecycle = new NodeLifecycle({ client: cluster.client, nodes, leases, clock, gracePeriodMs: 40_000, eviction: { ...DEFAULT_EVICTION_SETTINGS, ...eviction }, metrics });
  const names: string[] = [];
  for (const [zone, count] of Object.entries(layout)) {
    for (let i = 0; i < count; i++) {
      const name = `${zone}-${i}`;
      names.push(name);
      await cluster.client.create(NODES, undefined, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'topology.kubernetes.io/region': 'r', 'topology.kubernetes.io/zone': zone } },
        status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: stamp(T0), lastTransitionTime: stamp(T0) }] },
      } as Obj);
    }
  }
  let beat = 0;
  const settle = () =>
    eventually(async () => {
      const stored = (await cluster.client.list(NODES, undefined)).items;
      for (const node of stored) assert.equal(nodes.lister.get(undefined, node.metadata.name!)?.metadata.resourceVersion, node.metadata.resourceVersion);
    });
  const setReady = async (name: string, status: 'True' | 'False') => {
    beat += 1000;
    await cluster.client.mutate(NODES, undefined, name, (n) => ({ ...n, status: { conditions: [{ type: 'Ready', status, reason: status === 'True' ? 'KubeletReady' : 'KubeletNotReady', lastHeartbeatTime: stamp(T0 + beat), lastTransitionTime: stamp(T0 + beat) }] } }), { subresource: 'status' });
  };
  await settle();
  for (const name of names) await lifecycle.sync(name);
  return {
    cluster,
    clock,
    lifecycle,
    /** Marks nodes not Ready and lets the controller see each, in order. */
    async down(...down: string[]) {
      for (const name of down) await setReady(name, 'False');
      await settle();
      for (const name of down) await lifecycle.sync(name);
      await settle();
    },
    async up(name: string) {
      await setReady(name, 'True');
      await settle();
      await lifecycle.sync(name);
      await settle();
    },
    async syncAll() {
      for (const name of names) await lifecycle.sync(name);
      await settle();
    },
    /** One tainting pass; what it asks for (the next wake-up). */
    async pass() {
      const result = await lifecycle.sync(TAINTING_KEY);
      await settle();
      return result;
    },
    /** The nodes with our NoExecute taint (not-ready, or unreachable once silent past the grace period), sorted. */
    async evicting(): Promise<string[]> {
      const stored = (await cluster.client.list(NODES, undefined)).items;
      return stored.filter((n) => (n.spec?.taints ?? []).some((t: Obj) => OURS.includes(t.key) && t.effect === 'NoExecute')).map((n) => n.metadata.name!).sort();
    },
    async noSchedule(): Promise<string[]> {
      const stored = (await cluster.client.list(NODES, undefined)).items;
      return stored.filter((n) => (n.spec?.taints ?? []).some((t: Obj) => OURS.includes(t.key) && t.effect === 'NoSchedule')).map((n) => n.metadata.name!).sort();
    },
    state(zone: string) {
      return lifecycle.states().get(`r:\u0000:${zone}`);
    },
  };
}

describe('node lifecycle: zone states and rate-limited NoExecute tainting', () => {
  it('computes zone states and rates as upstream (Normal, PartialDisruption from 3 nodes and the threshold, FullDisruption with none Ready)', () => {
    assert.equal(computeZoneState(0, 1, 0.55), 'FullDisruption');
    assert.equal(computeZoneState(0, 0, 0.55), 'Normal');
    assert.equal(computeZoneState(0, 2, 0.55), 'FullDisruption');
    assert.equal(computeZoneState(1, 2, 0.55), 'Normal', 'two not Ready never make a partial disruption');
    assert.equal(computeZoneState(2, 3, 0.55), 'PartialDisruption', '3 of 5 = 0.6');
    assert.equal(computeZoneState(3, 3, 0.55), 'Normal', '3 of 6 = 0.5');
    assert.equal(computeZoneState(3, 3, 0.5), 'PartialDisruption', 'the threshold is inclusive');
    const settings = DEFAULT_EVICTION_SETTINGS;
    assert.deepEqual([settings.evictionRate, settings.secondaryEvictionRate, settings.unhealthyZoneThreshold, settings.largeClusterThreshold], [0.1, 0.01, 0.55, 50]);
    assert.equal(taintingRate('Normal', 10, settings), 0.1);
    assert.equal(taintingRate('FullDisruption', 10, settings), 0.1, 'one zone wholly down while others live: evict at the normal rate');
    assert.equal(taintingRate('PartialDisruption', 50, settings), 0);
    assert.equal(taintingRate('PartialDisruption', 51, settings), 0.01);
  });

  it('taints NoExecute one node per 10 s per zone (--node-eviction-rate 0.1), each zone on its own bucket; NoSchedule at once', async () => {
    const z = await zones({ a: 10, b: 3 });
    await z.down('a-0', 'a-1', 'b-0');
    assert.deepEqual(await z.noSchedule(), ['a-0', 'a-1', 'b-0'], 'NoSchedule is not rate-limited');
    assert.deepEqual(await z.evicting(), []);
    assert.equal(z.state('a'), 'Normal');
    const first = await z.pass();
    assert.deepEqual(await z.evicting(), ['a-0', 'b-0'], 'the first of each zone at once');
    assert.equal(first?.requeueAfterMs, 10_000, 'the pass asks to run again when zone a has a token');
    z.clock.advance(9_000);
    await z.pass();
    assert.deepEqual(await z.evicting(), ['a-0', 'b-0']);
    z.clock.advance(1_000);
    await z.pass();
    assert.deepEqual(await z.evicting(), ['a-0', 'a-1', 'b-0']);
    // Ready again: the NoExecute taint comes off at once.
    await z.up('a-1');
    assert.deepEqual(await z.evicting(), ['a-0', 'b-0']);
    z.cluster.stop();
  });

  it('node_collector metrics: zone size, health and not-Ready count per zone key, NoExecute taintings counted as evictions', async () => {
    const registry = new Registry();
    const z = await zones({ a: 4, b: 2 }, {}, NodeCollectorMetrics.in(registry));
    const values = async (name: string) => {
      const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
      return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.zone).replace('r:\u0000:', ''), v.value]));
    };
    assert.deepEqual(await values('node_collector_zone_size'), { a: 4, b: 2 });
    assert.deepEqual(await values('node_collector_zone_health'), { a: 100, b: 100 });
    await z.down('a-0', 'b-0', 'b-1');
    assert.deepEqual(await values('node_collector_unhealthy_nodes_in_zone'), { a: 1, b: 2 });
    assert.deepEqual(await values('node_collector_zone_health'), { a: 75, b: 0 });
    assert.deepEqual(await values('node_collector_evictions_total'), {});
    await z.pass();
    assert.deepEqual(await values('node_collector_evictions_total'), { a: 1, b: 1 }, 'the first node of each zone tainted at once');
    z.cluster.stop();
  });

  it('a small partially disrupted zone stops tainting; a large one slows to --secondary-node-eviction-rate', async () => {
    const small = await zones({ a: 5, b: 1 });
    await small.down('a-0', 'a-1', 'a-2');
    assert.equal(small.state('a'), 'PartialDisruption');
    assert.equal(await small.pass(), undefined, 'nothing to wake up for');
    small.clock.advance(3_600_000);
    await small.pass();
    assert.deepEqual(await small.evicting(), [], 'a zone of 5 (<= 50) in partial disruption is not tainted');
    assert.deepEqual(await small.noSchedule(), ['a-0', 'a-1', 'a-2']);
    small.cluster.stop();

    const large = await zones({ a: 5, b: 1 }, { largeClusterThreshold: 4 });
    await large.down('a-0', 'a-1', 'a-2');
    assert.equal(large.state('a'), 'PartialDisruption');
    await large.pass();
    assert.deepEqual(await large.evicting(), ['a-0']);
    large.clock.advance(99_000);
    await large.pass();
    assert.deepEqual(await large.evicting(), ['a-0'], '0.01 per second: not before 100 s');
    large.clock.advance(1_000);
    await large.pass();
    assert.deepEqual(await large.evicting(), ['a-0', 'a-1']);
    // Back to Normal (2 of 5 not Ready): the normal rate again.
    await large.up('a-0');
    assert.equal(large.state('a'), 'Normal');
    large.clock.advance(10_000);
    await large.pass();
    assert.deepEqual(await large.evicting(), ['a-1', 'a-2']);
    large.cluster.stop();
  });

  it('with every zone fully disrupted no node is tainted NoExecute (existing taints come off) until a node is Ready again', async () => {
    const z = await zones({ a: 2, b: 1 });
    await z.down('a-0');
    await z.pass();
    assert.deepEqual(await z.evicting(), ['a-0']);
    await z.down('a-1', 'b-0');
    assert.equal(z.state('a'), 'FullDisruption');
    assert.equal(z.state('b'), 'FullDisruption');
    await z.syncAll();
    assert.deepEqual(await z.evicting(), [], 'master disruption mode: the NoExecute taints are taken off');
    assert.deepEqual(await z.noSchedule(), ['a-0', 'a-1', 'b-0'], 'NoSchedule stays');
    z.clock.advance(3_600_000);
    await z.pass();
    await z.syncAll();
    await z.pass();
    assert.deepEqual(await z.evicting(), []);

    // Zone b recovers: zone a alone is fully disrupted and is evicted at the normal rate.
    await z.up('b-0');
    assert.equal(z.state('b'), 'Normal');
    assert.equal(z.state('a'), 'FullDisruption');
    await z.syncAll();
    await z.pass();
    assert.equal((await z.evicting()).length, 1);
    z.clock.advance(10_000);
    await z.pass();
    assert.deepEqual(await z.evicting(), ['a-0', 'a-1']);
    z.cluster.stop();
  });
});
