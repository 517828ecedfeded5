/**
 * The cache's match index stays equal to a fresh count over its snapshot through pod adds,
 * removals, assumed pods, node relabelling and node removal; and the affinity and spread plugins
 * decide the same on a cache-built snapshot (live index) as on a hand-built one (scanned index).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulerCache } from '../../src/scheduler/cache.js';
import { Snapshot } from '../../src/scheduler/snapshot.js';
import { interPodAffinity } from '../../src/scheduler/plugins/inter-pod-affinity.js';
import { podTopologySpread } from '../../src/scheduler/plugins/pod-topology-spread.js';
import { CycleState, type Plugin, type Pod } from '../../src/scheduler/types.js';
import type { LabelSelector } from '../../src/api/selectors.js';
import { node, pod } from './fixture.js';

const ZONE = 'topology.kubernetes.io/zone';
const web: LabelSelector = [{ key: 'app', op: 'in', values: ['web'] }];
const defaultNs = new Set(['default']);

function bound(p: Pod, nodeName: string): Pod {
  return { ...p, spec: { ...p.spec, nodeName } };
}

function webPod(name: string, extra: Record<string, unknown> = {}): Pod {
  return pod(name, extra, { labels: { app: 'web' } });
}

const likesWeb = { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: ZONE } }] } };
const antiWeb = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: ZONE }] } };

/** A snapshot over copies of the cache's current nodes, without the cache's index (it scans). */
function scanned(snapshot: Snapshot): Snapshot {
  const copy = new Snapshot();
  copy.nodeInfoList = snapshot.nodeInfoList;
  for (const info of snapshot.nodeInfoList) copy.nodeInfoMap.set(info.name, info);
  return copy;
}

function counts(snapshot: Snapshot): { zones: Record<string, number>; nodes: Record<string, number>; anti: string[]; scoring: boolean } {
  const entry = snapshot.matchIndex.selectorCounts(defaultNs, web, true, ZONE);
  const anti = [...snapshot.matchIndex.antiAffinityEntries()].flatMap((e) => [...e.domains].map(([value, n]) => `${e.term.topologyKey}=${value}:${n}`)).sort();
  return { zones: Object.fromEntries([...entry.domains.get(ZONE)!].sort()), nodes: Object.fromEntries([...entry.perNode].sort()), anti, scoring: snapshot.matchIndex.hasScoringTerms };
}

test('the live index equals a fresh scan after adds, assumes, removals, relabels and a node deletion', () => {
  const cache = new SchedulerCache();
  const snapshot = new Snapshot();
  const check = (label: string) => {
    cache.updateSnapshot(snapshot);
    assert.deepEqual(counts(snapshot), counts(scanned(snapshot)), label);
  };
  cache.addNode(node('a1', {}, { [ZONE]: 'a' }));
  cache.addNode(node('a2', {}, { [ZONE]: 'a' }));
  cache.addNode(node('b1', {}, { [ZONE]: 'b' }));
  check('empty');
  // Asked for before any pod: maintained from here on.
  cache.updateSnapshot(snapshot);
  snapshot.matchIndex.selectorCounts(defaultNs, web, true, ZONE);
  cache.addPod(bound(webPod('w1'), 'a1'));
  cache.addPod(bound(webPod('w2', { affinity: antiWeb }), 'b1'));
  cache.addPod(bound(pod('other', {}, { labels: { app: 'db' } }), 'a2'));
  cache.addPod(bound(pod('elsewhere', {}, { namespace: 'other', labels: { app: 'web' } }), 'a2'));
  cache.assumePod(webPod('w3'), 'a2');
  check('after adds');
  assert.equal(counts(snapshot).scoring, false, 'required anti-affinity scores nobody');
  const likes = bound(pod('likes', { affinity: likesWeb }, { labels: { app: 'db' } }), 'b1');
  cache.addPod(likes);
  check('after a pod with a preferred term');
  assert.equal(counts(snapshot).scoring, true);
  cache.removePod(likes);
  assert.deepEqual(counts(snapshot).zones, { a: 2, b: 1 });
  assert.deepEqual(counts(snapshot).anti, [`${ZONE}=b:1`]);
  cache.forgetPod(webPod('w3'));
  cache.removePod(bound(webPod('w1'), 'a1'));
  check('after removals');
  assert.deepEqual(counts(snapshot).zones, { b: 1 });
  assert.equal(counts(snapshot).scoring, false);
  cache.addPod(bound(webPod('w4'), 'a1'));
  cache.updateNode(node('b1', {}, { [ZONE]: 'c' }));
  check('after relabel');
  assert.deepEqual(counts(snapshot).anti, [`${ZONE}=c:1`], 'the anti-affinity pod moved with its node');
  cache.removeNode(node('a1'));
  check('after node removal');
  assert.deepEqual(counts(snapshot).zones, { c: 1 }, 'pods on a deleted node no longer count');
  cache.addNode(node('a1', {}, { [ZONE]: 'a' }));
  check('node back');
  assert.deepEqual(counts(snapshot).zones, { a: 1, c: 1 });
});

function feasible(plugin: Plugin, p: Pod, snapshot: Snapshot): string[] {
  const state = new CycleState();
  const pre = plugin.preFilter!(state, p, snapshot);
  if (pre && 'code' in pre) return pre.code === 'Skip' ? snapshot.nodeInfoList.map((n) => n.name).sort() : [];
  return snapshot.nodeInfoList.filter((info) => !plugin.filter!(state, p, info)).map((n) => n.name).sort();
}

test('InterPodAffinity and PodTopologySpread decide alike on the live index and on a scan', () => {
  const cache = new SchedulerCache();
  const snapshot = new Snapshot();
  for (const [name, zone] of [['a1', 'a'], ['a2', 'a'], ['b1', 'b'], ['c1', 'c']]) cache.addNode(node(name, {}, { [ZONE]: zone }));
  const affinity = interPodAffinity();
  const spread = podTopologySpread();
  const spreadPod = (name: string) => webPod(name, { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }] });
  const antiPod = (name: string) => webPod(name, { affinity: antiWeb });
  let n = 0;
  for (const target of ['a1', 'b1', 'a2']) {
    cache.updateSnapshot(snapshot);
    for (const [plugin, p] of [[affinity, antiPod(`x${n}`)], [spread, spreadPod(`y${n}`)], [affinity, webPod(`z${n}`)]] as const) {
      assert.deepEqual(feasible(plugin, p, snapshot), feasible(plugin, p, scanned(snapshot)), `${plugin.name} for ${p.metadata.name}`);
    }
    cache.addPod(bound(antiPod(`p${n++}`), target));
  }
  cache.updateSnapshot(snapshot);
  // Zones a (two anti pods) and b (one) repel web pods; only c is left.
  assert.deepEqual(feasible(affinity, webPod('late'), snapshot), ['c1']);
  assert.deepEqual(feasible(spread, spreadPod('late'), snapshot), ['c1'], 'a has 2, b 1, c 0: skew allows only c');
});
