/**
 * Topology aware hints as upstream's topologycache allocates them: same-zone hints first, then
 * zones over their CPU share give endpoints to zones under it; no hints (and a
 * TopologyAwareHintsDisabled event) when it is not safe; and the EndpointSlice controller writing
 * them for an annotated Service, with the events.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Obj } from '../../src/client/api-client.js';
import { ENDPOINT_SLICES, EVENTS, NODES, PODS, SERVICES } from '../../src/client/resource-types.js';
import { endpointSliceController, SERVICE_NAME_LABEL } from '../../src/controllers/endpointslice.js';
import { cpuRatiosByZone, hintsEnabled, TopologyHints } from '../../src/controllers/topology-hints.js';
import { hintTarget as target } from './hint-target.js';
import { eventually, runControllers, type RunningCluster } from './fixture.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

const node = (name: string, zone: string | undefined, cpu: string | undefined, ready = true, labels: Record<string, string> = {}): Obj =>
  ({
    metadata: { name, labels: { ...(zone ? { 'topology.kubernetes.io/zone': zone } : {}), ...labels } },
    status: { allocatable: cpu ? { cpu } : {}, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  }) as Obj;

const endpoint = (zone: string | undefined, ready = true): Fields => ({ addresses: ['10.0.0.1'], conditions: { ready }, ...(zone ? { zone } : {}) });


const hintZones = (lists: Fields[][]) => lists.flat().map((e) => e.hints?.forZones?.map((z: Fields) => z.name).join(',') ?? '-');
const count = (zones: string[]) => zones.reduce<Record<string, number>>((acc, z) => ({ ...acc, [z]: (acc[z] ?? 0) + 1 }), {});

describe('topology hints (allocation)', () => {
  it('reads both annotations, the older first, Auto or auto only', () => {
    assert.equal(hintsEnabled({ 'service.kubernetes.io/topology-mode': 'Auto' }), true);
    assert.equal(hintsEnabled({ 'service.kubernetes.io/topology-aware-hints': 'auto' }), true);
    assert.equal(hintsEnabled({ 'service.kubernetes.io/topology-mode': 'PreferZone' }), false);
    assert.equal(hintsEnabled({ 'service.kubernetes.io/topology-aware-hints': 'disabled', 'service.kubernetes.io/topology-mode': 'Auto' }), false);
    assert.equal(hintsEnabled(undefined), false);
  });

  it('weighs zones by the allocatable CPU of ready nodes, leaving out control-plane nodes; unusable with one node lacking a zone or CPU, or one zone', () => {
    const ratios = cpuRatiosByZone([node('a1', 'a', '4'), node('a2', 'a', '4000m'), node('b1', 'b', '8'), node('c1', 'c', '2', false), node('m', 'c', '16', true, { 'node-role.kubernetes.io/control-plane': '' })]);
    assert.deepEqual([...ratios!], [['a', 0.5], ['b', 0.5]]);
    assert.equal(cpuRatiosByZone([node('a1', 'a', '4'), node('b1', undefined, '4')]), undefined);
    assert.equal(cpuRatiosByZone([node('a1', 'a', '4'), node('b1', 'b', undefined)]), undefined);
    assert.equal(cpuRatiosByZone([node('a1', 'a', '4'), node('a2', 'a', '4')]), undefined);
  });

  it('hints each endpoint for its zone when zones hold their share, and says so once', () => {
    const hints = new TopologyHints(() => [node('a', 'a', '4'), node('b', 'b', '4'), node('c', 'c', '4')]);
    const lists = [[endpoint('a'), endpoint('b'), endpoint('c')], [endpoint('a'), endpoint('b'), endpoint('c'), endpoint('c', false)]];
    const events = hints.apply(target(lists), true);
    assert.deepEqual(hintZones(lists), ['a', 'b', 'c', 'a', 'b', 'c', '-']);
    assert.deepEqual(events, [{ type: 'Normal', reason: 'TopologyAwareHintsEnabled', message: 'Topology Aware Hints has been enabled, addressType: IPv4' }]);
    assert.deepEqual(hints.apply(target([[endpoint('a'), endpoint('b'), endpoint('c')]]), true), [], 'no second event');
  });

  it('moves endpoints from zones over their CPU share to zones under it', () => {
    const hints = new TopologyHints(() => [node('a', 'a', '8'), node('b', 'b', '4'), node('c', 'c', '4')]);
    const lists = [[endpoint('a'), endpoint('a'), endpoint('b'), endpoint('b'), endpoint('b'), endpoint('c'), endpoint('c'), endpoint('c')]];
    hints.apply(target(lists), true);
    assert.deepEqual(count(hintZones(lists)), { a: 4, b: 2, c: 2 }, 'desired: 8 x (0.5, 0.25, 0.25)');
    assert.deepEqual(lists[0].filter((e) => e.zone === 'a').map((e) => e.hints.forZones[0].name), ['a', 'a'], 'a keeps its own');
  });

  it('keeps valid hints of unchanged slices and rewrites invalid ones', () => {
    const hints = new TopologyHints(() => [node('a', 'a', '4'), node('b', 'b', '4')]);
    const good = [{ ...endpoint('a'), hints: { forZones: [{ name: 'a' }] } }];
    const stale = [{ ...endpoint('b'), hints: { forZones: [{ name: 'gone' }] } }];
    const t = target([], [good, stale]);
    hints.apply(t, true);
    assert.deepEqual(t.rewritten, [1]);
    assert.deepEqual(hintZones(t.written), ['b']);
  });

  it('removes hints with upstream\'s reasons when they would not be safe', () => {
    const threeZones = () => [node('a', 'a', '4'), node('b', 'b', '4'), node('c', 'c', '4')];
    const cases: Array<[string, () => Obj[], Fields[], string]> = [
      ['too few endpoints', threeZones, [endpoint('a'), endpoint('b')], 'Insufficient number of endpoints (2 endpoints, 3 zones), addressType: IPv4'],
      ['an endpoint without a zone', threeZones, [endpoint('a'), endpoint('b'), endpoint(undefined)], 'One or more endpoints do not have a zone specified, addressType: IPv4'],
      ['a node without CPU', () => [node('a', 'a', '4'), node('b', 'b', undefined)], [endpoint('a'), endpoint('b')], 'Insufficient Node information: allocatable CPU or zone not specified on one or more nodes, addressType: IPv4'],
      ['no share reachable', () => [node('a', 'a', '1'), node('b', 'b', '1'), node('c', 'c', '1'), node('d', 'd', '1')], [endpoint('a'), endpoint('b'), endpoint('c'), endpoint('d'), endpoint('d')], 'Unable to allocate minimum required endpoints to each zone without exceeding overload threshold (5 endpoints, 4 zones), addressType: IPv4'],
    ];
    for (const [why, nodes, endpoints, message] of cases) {
      const hints = new TopologyHints(nodes);
      const lists = [endpoints.map((e) => ({ ...e, hints: { forZones: [{ name: 'x' }] } }))];
      const unchanged = [[{ ...endpoint('a', false), hints: { forZones: [{ name: 'a' }] } }]];
      const t = target(lists, unchanged);
      assert.deepEqual(hints.apply(t, true), [{ type: 'Warning', reason: 'TopologyAwareHintsDisabled', message }], why);
      assert.ok(t.written.flat().every((e) => e.hints === undefined), `${why}: no hints left`);
      assert.deepEqual(t.rewritten, [0], `${why}: the unchanged slice with hints is rewritten`);
    }
  });

  it('taking the annotation away removes the hints with a TopologyAwareHintsDisabled event', () => {
    const hints = new TopologyHints(() => [node('a', 'a', '4'), node('b', 'b', '4')]);
    hints.apply(target([[endpoint('a'), endpoint('b')]]), true);
    const t = target([], [[{ ...endpoint('a'), hints: { forZones: [{ name: 'a' }] } }]]);
    assert.deepEqual(hints.apply(t, false), [{ type: 'Warning', reason: 'TopologyAwareHintsDisabled', message: 'Topology Aware Hints has been disabled, addressType: IPv4' }]);
    assert.deepEqual(hintZones(t.written), ['-']);
    assert.deepEqual(hints.apply(target([[endpoint('a')]]), false), [], 'said once');
  });
});

describe('EndpointSlice controller with topology hints', () => {
  let cluster: RunningCluster;
  before(async () => {
    cluster = await runControllers([endpointSliceController], { namespaces: ['default'] });
    for (const zone of ['a', 'b', 'c']) {
      await cluster.client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: `n-${zone}`, labels: { 'topology.kubernetes.io/zone': `zone-${zone}` } } } as Obj);
      await cluster.client.mutate(NODES, undefined, `n-${zone}`, (n) => ({ ...n, status: { allocatable: { cpu: '4' }, conditions: [{ type: 'Ready', status: 'True' }] } }), { subresource: 'status' });
    }
    let ip = 1;
    for (const zone of ['a', 'b', 'c']) {
      for (const i of [0, 1]) {
        const name = `web-${zone}${i}`;
        await cluster.client.create(PODS, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' } }, spec: { nodeName: `n-${zone}`, containers: [{ name: 'web', image: 'nginx' }] } } as Obj);
        const address = `10.0.0.${ip++}`;
        await cluster.client.mutate(PODS, 'default', name, (p) => ({ ...p, status: { phase: 'Running', podIP: address, podIPs: [{ ip: address }], conditions: [{ type: 'Ready', status: 'True' }] } }), { subresource: 'status' });
      }
    }
  });
  after(() => cluster.stop());

  const slices = async () => (await cluster.client.list(ENDPOINT_SLICES, 'default', { labelSelector: `${SERVICE_NAME_LABEL}=web` })).items;
  const reasons = async () => (await cluster.client.list(EVENTS, 'default')).items.filter((e) => e.involvedObject?.name === 'web').map((e) => `${e.type} ${e.reason}: ${e.message}`);

  it('hints every endpoint for its own zone for a Service in topology-mode Auto, and stops when the annotation goes', async () => {
    await cluster.client.create(SERVICES, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', annotations: { 'service.kubernetes.io/topology-mode': 'Auto' } }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } as Obj);
    await eventually(async () => {
      const endpoints = (await slices()).flatMap((s) => s.endpoints ?? []);
      assert.equal(endpoints.length, 6);
      for (const e of endpoints) assert.deepEqual(e.hints, { forZones: [{ name: e.zone }] });
    });
    await eventually(async () => assert.ok((await reasons()).includes('Normal TopologyAwareHintsEnabled: Topology Aware Hints has been enabled, addressType: IPv4')));
    await cluster.client.mutate(SERVICES, 'default', 'web', (s) => ({ ...s, metadata: { ...s.metadata, annotations: {} } }));
    await eventually(async () => {
      const endpoints = (await slices()).flatMap((s) => s.endpoints ?? []);
      assert.equal(endpoints.length, 6);
      assert.ok(endpoints.every((e) => e.hints === undefined));
    });
    await eventually(async () => assert.ok((await reasons()).includes('Warning TopologyAwareHintsDisabled: Topology Aware Hints has been disabled, addressType: IPv4')));
  });
});
