/**
 * The scheduler's fast paths against the straightforward computation they replace: the packed
 * per-node numbers (NodeInfo.fit) against the NodeInfo's own fields after random pod churn, the
 * plain-case resource fit against upstream's reason list, the snapshot's in-place copies against
 * what the cache was told, and the framework's per-cycle list of Filter plugins against skipping
 * by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FitTable,
  FIT_ALLOC_CPU,
  FIT_ALLOC_EPHEMERAL,
  FIT_ALLOC_MEMORY,
  FIT_ALLOC_PODS,
  FIT_NONZERO_CPU,
  FIT_NONZERO_MEMORY,
  FIT_PODS,
  FIT_REQ_CPU,
  FIT_REQ_EPHEMERAL,
  FIT_REQ_MEMORY,
  podInfoOf,
  type NodeInfo,
} from '../../src/scheduler/node-info.js';
import { insufficientResources, nodeResourcesFit } from '../../src/scheduler/plugins/node-resources-fit.js';
import { Framework } from '../../src/scheduler/framework.js';
import { resolveConfiguration } from '../../src/scheduler/config.js';
import { CycleState, type Pod } from '../../src/scheduler/types.js';
import { SchedulerCache } from '../../src/scheduler/cache.js';
import { Snapshot } from '../../src/scheduler/snapshot.js';
import { node, nodeInfo, pod } from './fixture.js';

/** A small deterministic generator (tests must not depend on Math.random's sequence). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function assertFitMatches(info: NodeInfo, where: string): void {
  const f = info.fitNumbers.subarray(info.fitAt);
  assert.equal(f[FIT_ALLOC_CPU], info.allocatable.resource.milliCPU, `${where}: allocatable cpu`);
  assert.equal(f[FIT_ALLOC_MEMORY], info.allocatable.resource.memory, `${where}: allocatable memory`);
  assert.equal(f[FIT_ALLOC_EPHEMERAL], info.allocatable.resource.ephemeralStorage, `${where}: allocatable storage`);
  assert.equal(f[FIT_ALLOC_PODS], info.allocatable.pods, `${where}: allocatable pods`);
  assert.equal(f[FIT_REQ_CPU], info.requested.milliCPU, `${where}: requested cpu`);
  assert.equal(f[FIT_REQ_MEMORY], info.requested.memory, `${where}: requested memory`);
  assert.equal(f[FIT_REQ_EPHEMERAL], info.requested.ephemeralStorage, `${where}: requested storage`);
  assert.equal(f[FIT_PODS], info.pods.length, `${where}: pod count`);
  assert.equal(f[FIT_NONZERO_CPU], info.nonZeroMilliCPU, `${where}: non-zero cpu`);
  assert.equal(f[FIT_NONZERO_MEMORY], info.nonZeroMemory, `${where}: non-zero memory`);
}

test('NodeInfo.fit follows the NodeInfo through adds, removes, node updates and clones', () => {
  const random = rng(7);
  const table = new FitTable();
  const info = nodeInfo(node('n', { cpu: '8', memory: '16Gi', pods: 20, extra: { 'ephemeral-storage': '10Gi' } }));
  assertFitMatches(info, 'fresh');
  const present: string[] = [];
  for (let step = 0; step < 300; step++) {
    const roll = random();
    if (roll < 0.55 || present.length === 0) {
      const spec: Record<string, unknown> = {};
      if (random() < 0.8) spec.cpu = `${1 + Math.floor(random() * 900)}m`;
      if (random() < 0.8) spec.memory = `${1 + Math.floor(random() * 500)}Mi`;
      const p = pod(`p-${step}`, spec);
      info.addPod(podInfoOf({ ...p, spec: { ...p.spec, nodeName: 'n' } }));
      present.push(`default/p-${step}`);
    } else if (roll < 0.95) {
      const index = Math.floor(random() * present.length);
      assert.ok(info.removePod(present[index]));
      present.splice(index, 1);
    } else {
      info.setNode(node('n', { cpu: `${1 + Math.floor(random() * 16)}`, memory: `${1 + Math.floor(random() * 64)}Gi`, pods: 5 + Math.floor(random() * 100) }));
    }
    assertFitMatches(info, `step ${step}`);
    const copy = info.clone();
    assertFitMatches(copy, `clone at step ${step}`);
    assert.notEqual(copy.fitNumbers, info.fitNumbers, 'a clone has its own numbers');
    const placed = info.clone(table);
    assertFitMatches(placed, `clone placed in a table at step ${step}`);
    assert.equal(placed.fitNumbers, table.numbers, 'a snapshot copy reads the table');
  }
});

test('the snapshot, updated in place, equals what the cache was told and stays still between updates', () => {
  const random = rng(13);
  const cache = new SchedulerCache();
  const snapshot = new Snapshot();
  const names = ['n0', 'n1', 'n2', 'n3'];
  const labels = new Map<string, string>();
  const model = new Map<string, Map<string, number>>(names.map((n) => [n, new Map()]));
  const placed = new Map<string, { pod: Pod; node: string }>();
  for (const name of names) {
    labels.set(name, 'a');
    cache.addNode(node(name, {}, { zone: 'a' }));
  }
  cache.updateSnapshot(snapshot);
  const copies = new Map(names.map((n) => [n, snapshot.nodeInfoMap.get(n)!]));
  const podKeys = () => names.map((n) => snapshot.nodeInfoMap.get(n)!.pods.map((p) => p.key).sort().join());
  for (let step = 0; step < 400; step++) {
    const seen = podKeys();
    const roll = random();
    const nodeName = names[Math.floor(random() * names.length)];
    if (roll < 0.5 || placed.size === 0) {
      const milliCPU = 1 + Math.floor(random() * 500);
      const p = pod(`p-${step}`, { cpu: `${milliCPU}m` });
      if (random() < 0.3) cache.assumePod(p, nodeName);
      else cache.addPod({ ...p, spec: { ...p.spec, nodeName } });
      placed.set(`default/p-${step}`, { pod: { ...p, spec: { ...p.spec, nodeName } }, node: nodeName });
      model.get(nodeName)!.set(`default/p-${step}`, milliCPU);
    } else if (roll < 0.9) {
      const [key, { pod: p, node: on }] = [...placed][Math.floor(random() * placed.size)];
      cache.removePod(p);
      placed.delete(key);
      model.get(on)!.delete(key);
    } else {
      const zone = random() < 0.5 ? 'a' : 'b';
      labels.set(nodeName, zone);
      cache.updateNode(node(nodeName, {}, { zone }));
    }
    assert.deepEqual(podKeys(), seen, `step ${step}: nothing moves under a cycle until the next update`);
    cache.updateSnapshot(snapshot);
    for (const name of names) {
      const info = snapshot.nodeInfoMap.get(name)!;
      assert.equal(info, copies.get(name), `step ${step}: ${name} is updated in place`);
      assert.deepEqual(info.pods.map((p) => p.key).sort(), [...model.get(name)!.keys()].sort(), `step ${step}: ${name} pods`);
      assert.equal(info.requested.milliCPU, [...model.get(name)!.values()].reduce((a, b) => a + b, 0), `step ${step}: ${name} cpu`);
      assert.equal(info.labels.zone, labels.get(name), `step ${step}: ${name} labels`);
      assertFitMatches(info, `step ${step}: ${name}`);
    }
    assert.deepEqual(snapshot.nodeInfoList.map((i) => i.name).sort(), names);
  }
});

test('NodeResourcesFit: the plain-case check agrees with the full reason list on every node', () => {
  const random = rng(11);
  const plugin = nodeResourcesFit();
  for (let i = 0; i < 400; i++) {
    const pods = [];
    const count = Math.floor(random() * 6);
    for (let j = 0; j < count; j++) pods.push(pod(`e-${i}-${j}`, { cpu: `${Math.floor(random() * 1500)}m`, memory: `${Math.floor(random() * 3000)}Mi` }));
    const info = nodeInfo(node(`n-${i}`, { cpu: `${1 + Math.floor(random() * 4)}`, memory: `${1 + Math.floor(random() * 8)}Gi`, pods: 1 + Math.floor(random() * 6) }), pods);
    const incoming = pod(`in-${i}`, { cpu: `${Math.floor(random() * 2000)}m`, memory: `${Math.floor(random() * 4000)}Mi` });
    const state = new CycleState();
    plugin.preFilter!(state, incoming, undefined as never);
    const expected = insufficientResources(podInfoOf(incoming), info);
    const result = plugin.filter!(state, incoming, info);
    assert.deepEqual(result?.reasons ?? [], expected, `node ${i}`);
  }
});

test('Framework: a plugin whose PreFilter answers Skip is left out of Filter for that cycle only', () => {
  // The in-tree plugins without informers (VolumeBinding and the like need a cluster).
  const profile = { plugins: { multiPoint: { enabled: ['PrioritySort', 'NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'DefaultBinder'].map((name) => ({ name })), disabled: [{ name: '*' }] } } };
  const framework = new Framework(resolveConfiguration({ profiles: [profile] }).profiles[0], { client: undefined as never, informers: undefined as never, recorder: undefined as never, handle: undefined as never });
  const ported = pod('ported', { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80, hostPort: 8080 }] }] });
  const plain = pod('plain', {});
  const busy = nodeInfo(node('busy'), [ported]);
  const snapshot = { nodeInfoList: [busy], numNodes: 1, get: () => busy } as never;
  // A pod asking for the same host port: NodePorts runs and rejects.
  const portState = new CycleState();
  assert.equal(framework.runPreFilter(portState, ported, snapshot).status, undefined);
  assert.equal(framework.runFilters(portState, ported, busy)?.plugin, 'NodePorts');
  // A pod without host ports: NodePorts skipped, the node fits.
  const plainState = new CycleState();
  assert.equal(framework.runPreFilter(plainState, plain, snapshot).status, undefined);
  assert.ok(plainState.skipFilter.has('NodePorts'));
  assert.equal(framework.runFilters(plainState, plain, busy), undefined);
  // The list is per state: the port pod's state still runs NodePorts, and a clone keeps it.
  assert.equal(framework.runFilters(portState.clone(), ported, busy)?.plugin, 'NodePorts');
});

test('NodeInfo: untainted nodes share one empty taint list; a tainted node keeps its own, and a re-taint replaces it', () => {
  const a = nodeInfo(node('a'));
  const b = nodeInfo(node('b'));
  assert.equal(a.taints, b.taints);
  assert.equal(a.taints.length, 0);
  const taints = [{ key: 'k', value: 'v', effect: 'NoSchedule' }];
  a.setNode(node('a', { taints }));
  assert.deepEqual(a.taints, taints);
  assert.equal(b.taints.length, 0, 'the shared empty list is not written through');
  a.setNode(node('a'));
  assert.equal(a.taints, b.taints);
});
