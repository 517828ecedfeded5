/** InterPodAffinity, PodTopologySpread, DefaultPreemption and configuration against upstream's documented behaviour. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState, type Handle, type Plugin, type Pod, type Status } from '../../src/scheduler/types.js';
import { Snapshot } from '../../src/scheduler/snapshot.js';
import type { NodeInfo } from '../../src/scheduler/node-info.js';
import { interPodAffinity } from '../../src/scheduler/plugins/inter-pod-affinity.js';
import { podTopologySpread } from '../../src/scheduler/plugins/pod-topology-spread.js';
import { nodeResourcesFit } from '../../src/scheduler/plugins/node-resources-fit.js';
import { defaultPreemption, pickOneNodeForPreemption } from '../../src/scheduler/plugins/default-preemption.js';
import { imageLocality } from '../../src/scheduler/plugins/image-locality.js';
import { resolveConfiguration, ConfigurationError } from '../../src/scheduler/config.js';
import { node, nodeInfo, pod } from './fixture.js';

function snapshotOf(infos: NodeInfo[]): Snapshot {
  const snapshot = new Snapshot();
  for (const info of infos) snapshot.nodeInfoMap.set(info.name, info);
  snapshot.nodeInfoList = infos;
  snapshot.havePodsWithAffinityList = infos.filter((i) => i.podsWithAffinity.length > 0);
  snapshot.havePodsWithRequiredAntiAffinityList = infos.filter((i) => i.podsWithRequiredAntiAffinity.length > 0);
  return snapshot;
}

/** The node names `plugin` lets `p` onto, after its PreFilter over `infos`. */
function fitting(plugin: Plugin, p: Pod, infos: NodeInfo[]): string[] {
  const state = new CycleState();
  const pre = plugin.preFilter!(state, p, snapshotOf(infos));
  if (pre && 'code' in pre && pre.code === 'Skip') return infos.map((i) => i.name);
  return infos.filter((info) => !plugin.filter!(state, p, info)).map((i) => i.name);
}

const zoneNode = (name: string, zone: string) => node(name, {}, { 'topology.kubernetes.io/zone': zone });
const antiTerm = (app: string, topologyKey = 'kubernetes.io/hostname') => ({ labelSelector: { matchLabels: { app } }, topologyKey });

test('InterPodAffinity: required anti-affinity keeps matching pods apart; existing pods\' anti-affinity is symmetric', () => {
  const plugin = interPodAffinity();
  const withDb = nodeInfo(node('n1'), [pod('db', {}, { labels: { app: 'db' } })]);
  const empty = nodeInfo(node('n2'));
  const anti = pod('p', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [antiTerm('db')] } } }, { labels: { app: 'web' } });
  assert.deepEqual(fitting(plugin, anti, [withDb, empty]), ['n2']);
  // An existing pod that repels app=web: a plain web pod may not join it.
  const repelling = nodeInfo(node('n3'), [pod('guard', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [antiTerm('web')] } } })]);
  const plain = pod('w', {}, { labels: { app: 'web' } });
  const state = new CycleState();
  plugin.preFilter!(state, plain, snapshotOf([repelling, empty]));
  assert.deepEqual(plugin.filter!(state, plain, repelling)?.reasons, ["node(s) didn't satisfy existing pods anti-affinity rules"]);
  assert.equal(plugin.filter!(state, plain, empty), undefined);
  // Other namespaces do not count unless the term names them.
  const elsewhere = nodeInfo(node('n4'), [pod('db', {}, { namespace: 'other', labels: { app: 'db' } })]);
  assert.deepEqual(fitting(plugin, anti, [elsewhere]), ['n4']);
});

test('InterPodAffinity: required affinity needs a matching pod in the zone; the first pod matching its own terms may start the group', () => {
  const plugin = interPodAffinity();
  const a1 = nodeInfo(zoneNode('a1', 'a'), [pod('cache', {}, { labels: { app: 'cache' } })]);
  const a2 = nodeInfo(zoneNode('a2', 'a'));
  const b1 = nodeInfo(zoneNode('b1', 'b'));
  const affinity = (app: string, labels: Record<string, string>) => pod('p', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [antiTerm(app, 'topology.kubernetes.io/zone')] } } }, { labels });
  assert.deepEqual(fitting(plugin, affinity('cache', { app: 'web' }), [a1, a2, b1]), ['a1', 'a2']);
  assert.deepEqual(fitting(plugin, affinity('nothing-yet', { app: 'web' }), [a1, a2, b1]), [], 'no match anywhere and not self-matching');
  assert.deepEqual(fitting(plugin, affinity('grp', { app: 'grp' }), [a1, a2, b1]), ['a1', 'a2', 'b1'], 'the first of its group');
  const state = new CycleState();
  const p = affinity('cache', {});
  plugin.preFilter!(state, p, snapshotOf([a1, b1]));
  assert.equal(plugin.filter!(state, p, b1)?.code, 'UnschedulableAndUnresolvable');
});

test('PodTopologySpread: skew is checked against the emptiest domain; minDomains makes the minimum 0 while domains are missing', () => {
  const spread = (maxSkew: number, minDomains?: number) => pod('p', { topologySpreadConstraints: [{ maxSkew, minDomains, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }] }, { labels: { app: 'web' } });
  const web = (name: string) => pod(name, {}, { labels: { app: 'web' } });
  const a = nodeInfo(zoneNode('a', 'a'), [web('w1'), web('w2')]);
  const b = nodeInfo(zoneNode('b', 'b'), [web('w3')]);
  const c = nodeInfo(zoneNode('c', 'c'));
  const nolabel = nodeInfo(node('nolabel'));
  const plugin = podTopologySpread();
  assert.deepEqual(fitting(plugin, spread(1), [a, b, c]), ['c']);
  assert.deepEqual(fitting(plugin, spread(2), [a, b, c]), ['b', 'c']);
  // Two domains (a, b) but minDomains 3: the global minimum counts as 0, so b (1+1) is too much for maxSkew 1.
  assert.deepEqual(fitting(plugin, spread(1, 3), [a, b]), []);
  assert.deepEqual(fitting(plugin, spread(2, 3), [a, b]), ['b']);
  const state = new CycleState();
  plugin.preFilter!(state, spread(1), snapshotOf([a, b, c, nolabel]));
  assert.deepEqual(plugin.filter!(state, spread(1), nolabel)?.reasons, ["node(s) didn't match pod topology spread constraints (missing required label)"]);
  assert.deepEqual(plugin.filter!(state, spread(1), a)?.reasons, ["node(s) didn't match pod topology spread constraints"]);
});

test('PodTopologySpread: nodeAffinityPolicy Honor counts only nodes the pod may go to', () => {
  const web = (name: string) => pod(name, {}, { labels: { app: 'web' } });
  const a = nodeInfo(node('a', {}, { 'topology.kubernetes.io/zone': 'a', pool: 'x' }), [web('w1')]);
  const b = nodeInfo(node('b', {}, { 'topology.kubernetes.io/zone': 'b', pool: 'y' }));
  const p = (policy: string) => pod('p', { nodeSelector: { pool: 'x' }, topologySpreadConstraints: [{ maxSkew: 1, nodeAffinityPolicy: policy, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }] }, { labels: { app: 'web' } });
  // Honor: zone b is not a domain for this pod, so zone a (1 + 1 − 1 = 1) is fine.
  assert.deepEqual(fitting(podTopologySpread(), p('Honor'), [a, b]), ['a', 'b']);
  // Ignore: zone b (0 pods) counts, so zone a would have skew 2.
  assert.deepEqual(fitting(podTopologySpread(), p('Ignore'), [a, b]), ['b']);
});

function handleFor(plugins: Plugin[], snapshot: Snapshot): Handle {
  return {
    snapshot: () => snapshot,
    runFilters: (state, p, info) => {
      for (const plugin of plugins) {
        const result = plugin.filter?.(state, p, info);
        if (result) return result;
      }
      return undefined;
    },
    runPreFilterExtensionAddPod: (state, p, added, info) => plugins.forEach((plugin) => plugin.addPod?.(state, p, added, info)),
    runPreFilterExtensionRemovePod: (state, p, removed, info) => plugins.forEach((plugin) => plugin.removePod?.(state, p, removed, info)),
  };
}

/** InterPodAffinity's normalized scores for `scored` (the feasible nodes), the cluster being `infos`. */
function affinityScores(p: Pod, infos: NodeInfo[], scored: NodeInfo[], args = {}): Record<string, number> {
  const snapshot = snapshotOf(infos);
  const plugin = interPodAffinity(args, handleFor([], snapshot));
  const state = new CycleState();
  if (plugin.preScore!(state, p, scored)?.code === 'Skip') return Object.fromEntries(scored.map((info) => [info.name, 0]));
  const scores = scored.map((info) => plugin.score!(state, p, info));
  plugin.normalizeScore!(state, p, scores);
  return Object.fromEntries(scored.map((info, i) => [info.name, scores[i]]));
}

test('InterPodAffinity scoring: preferred terms both ways and existing required affinity count the pods of the whole cluster, not only of the nodes scored', () => {
  const zoneTerm = (app: string, weight: number) => ({ weight, podAffinityTerm: antiTerm(app, 'topology.kubernetes.io/zone') });
  // The cache pod runs on a1, which is not among the nodes scored (filtered out, or not sampled).
  const cluster = (existing: Pod) => {
    const infos = [nodeInfo(zoneNode('a1', 'a'), [existing]), nodeInfo(zoneNode('a2', 'a')), nodeInfo(zoneNode('b1', 'b'))];
    return { infos, scored: infos.slice(1) };
  };
  const cache = pod('cache', {}, { labels: { app: 'cache' } });
  const near = pod('p', { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [zoneTerm('cache', 10)] } } }, { labels: { app: 'web' } });
  let { infos, scored } = cluster(cache);
  assert.deepEqual(affinityScores(near, infos, scored), { a2: 100, b1: 0 });
  const away = pod('p', { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [zoneTerm('cache', 10)] } } }, { labels: { app: 'web' } });
  assert.deepEqual(affinityScores(away, infos, scored), { a2: 0, b1: 100 });
  // A plain pod: existing pods' terms that select it (preferred, and required at hardPodAffinityWeight).
  const plain = pod('w', {}, { labels: { app: 'web' } });
  ({ infos, scored } = cluster(pod('likes-web', { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [zoneTerm('web', 5)] } } })));
  assert.deepEqual(affinityScores(plain, infos, scored), { a2: 100, b1: 0 });
  assert.deepEqual(affinityScores(plain, infos, scored, { ignorePreferredTermsOfExistingPods: true }), { a2: 0, b1: 0 });
  ({ infos, scored } = cluster(pod('needs-web', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [antiTerm('web', 'topology.kubernetes.io/zone')] } } })));
  assert.deepEqual(affinityScores(plain, infos, scored), { a2: 100, b1: 0 });
  assert.deepEqual(affinityScores(plain, infos, scored, { hardPodAffinityWeight: 0 }), { a2: 0, b1: 0 });
});

async function preempt(infos: NodeInfo[], preemptor: Pod, pdbs: unknown[] = []) {
  const fit = nodeResourcesFit();
  const snapshot = snapshotOf(infos);
  const deleted: string[] = [];
  const events: string[] = [];
  const plugin = defaultPreemption({}, {
    client: { mutate: async () => ({}), delete: async (_t: unknown, _ns: string, name: string) => void deleted.push(name) } as never,
    recorder: { event: (_o: unknown, _t: string, reason: string, message: string) => events.push(`${reason}: ${message}`) } as never,
    handle: handleFor([fit], snapshot),
    pods: undefined as never,
    podDisruptionBudgets: { list: () => pdbs } as never,
    schedulerName: 'default-scheduler',
  });
  const state = new CycleState();
  fit.preFilter!(state, preemptor, snapshot);
  const filtered = new Map<string, Status>();
  for (const info of infos) {
    const result = fit.filter!(state, preemptor, info);
    if (result) filtered.set(info.name, result);
  }
  const outcome = await plugin.postFilter!(state, preemptor, filtered);
  return { outcome, deleted, events };
}

test('DefaultPreemption: lowest-priority victims first, only as many as needed; the node needing the least important victims wins', async () => {
  const low = (name: string, priority: number, cpu = '1') => pod(name, { cpu, priority });
  const n1 = nodeInfo(node('n1', { cpu: '2' }), [low('a', 5), low('b', 1)]);
  const n2 = nodeInfo(node('n2', { cpu: '2' }), [low('c', 3), low('d', 3)]);
  const preemptor = pod('high', { cpu: '1', priority: 100 });
  const { outcome, deleted, events } = await preempt([n1, n2], preemptor);
  assert.equal(outcome.status, undefined);
  assert.equal(outcome.result?.nominatedNodeName, 'n1', 'n1 loses only its priority-1 pod; n2 would lose a priority-3 one');
  assert.deepEqual(deleted, ['b']);
  assert.match(events[0], /^Preempted: Preempted by pod uid-\d+ on node n1$/);
});

test('DefaultPreemption: PodDisruptionBudgets are respected where another node avoids the violation; pods of equal priority are never victims', async () => {
  const p = (name: string, app: string) => pod(name, { cpu: '2', priority: 1 }, { labels: { app } });
  const n1 = nodeInfo(node('n1', { cpu: '2' }), [p('guarded', 'guarded')]);
  const n2 = nodeInfo(node('n2', { cpu: '2' }), [p('free', 'free')]);
  const pdb = { metadata: { name: 'pdb', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'guarded' } } }, status: { disruptionsAllowed: 0 } };
  const { outcome, deleted } = await preempt([n1, n2], pod('high', { cpu: '2', priority: 100 }), [pdb]);
  assert.equal(outcome.result?.nominatedNodeName, 'n2');
  assert.deepEqual(deleted, ['free']);
  const equal = await preempt([nodeInfo(node('n', { cpu: '1' }), [pod('same', { cpu: '1', priority: 7 })])], pod('p', { cpu: '1', priority: 7 }));
  assert.deepEqual(equal.deleted, []);
  assert.equal(equal.outcome.status?.reasons[0], 'preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
  const never = await preempt([n1], pod('p', { cpu: '2', priority: 100, preemptionPolicy: 'Never' }));
  assert.equal(never.outcome.status?.reasons[0], 'preemption: not eligible due to preemptionPolicy=Never.');
});

test('pickOneNodeForPreemption: fewest PDB violations, then the lowest highest victim priority, then the fewest victims', () => {
  const v = (priority: number) => ({ pod: pod(`v${priority}`, { priority }) }) as never;
  assert.equal(pickOneNodeForPreemption([{ nodeName: 'a', victims: [v(1)], numPDBViolations: 1 }, { nodeName: 'b', victims: [v(9)], numPDBViolations: 0 }]).nodeName, 'b');
  assert.equal(pickOneNodeForPreemption([{ nodeName: 'a', victims: [v(5)], numPDBViolations: 0 }, { nodeName: 'b', victims: [v(1), v(2)], numPDBViolations: 0 }]).nodeName, 'b');
  assert.equal(pickOneNodeForPreemption([{ nodeName: 'a', victims: [v(1), v(1)], numPDBViolations: 0 }, { nodeName: 'b', victims: [v(1)], numPDBViolations: 0 }]).nodeName, 'b');
});

test('ImageLocality: a node holding a large image scores higher, scaled by how many nodes hold it; skipped when no node holds the images', () => {
  const big = { names: ['registry.example/app:1'], sizeBytes: 500 * 1024 * 1024 };
  const snapshot = new Snapshot();
  const imageState = { size: big.sizeBytes, numNodes: 1 };
  snapshot.images = new Map([['registry.example/app:1', imageState]]);
  const withImage = nodeInfo(node('with', { images: [big] }));
  withImage.imageStates = new Map([['registry.example/app:1', imageState]]);
  const without = nodeInfo(node('without'));
  snapshot.nodeInfoList = [withImage, without];
  const plugin = imageLocality(() => snapshot);
  const p = pod('p', { containers: [{ name: 'a', image: 'registry.example/app:1' }] });
  const state = new CycleState();
  assert.equal(plugin.preScore!(state, p, [withImage, without]), undefined);
  // 500 MB × 1/2 of the nodes = 250 MB, between 23 MB and 1,000 MB → 23.
  assert.equal(plugin.score!(state, p, withImage), 23);
  assert.equal(plugin.score!(state, p, without), 0);
  // With the PreScore point disabled in a profile, Score works alone.
  assert.equal(plugin.score!(new CycleState(), p, withImage), 23);
  const elsewhere = pod('q', { containers: [{ name: 'a', image: 'registry.example/other:1' }] });
  assert.equal(plugin.preScore!(new CycleState(), elsewhere, [withImage, without])?.code, 'Skip');
});

test('KubeSchedulerConfiguration: defaults, disabled plugins, weights, percentageOfNodesToScore; bad input is refused', () => {
  const defaults = resolveConfiguration();
  assert.equal(defaults.profiles[0].schedulerName, 'default-scheduler');
  assert.equal(defaults.profiles[0].weights.get('TaintToleration'), 3);
  assert.equal(defaults.profiles[0].weights.get('PodTopologySpread'), 2);
  const custom = resolveConfiguration({
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    percentageOfNodesToScore: 50,
    profiles: [
      { schedulerName: 'default-scheduler' },
      { schedulerName: 'packer', plugins: { score: { disabled: [{ name: 'NodeResourcesBalancedAllocation' }], enabled: [{ name: 'NodeResourcesFit', weight: 5 }] } }, pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } }] },
    ],
  });
  assert.equal(custom.percentageOfNodesToScore, 50);
  const packer = custom.profiles[1];
  assert.ok(!packer.enabled.get('score')!.includes('NodeResourcesBalancedAllocation'));
  assert.ok(packer.enabled.get('filter')!.includes('NodeResourcesFit'));
  assert.equal(packer.weights.get('NodeResourcesFit'), 5);
  assert.deepEqual(packer.args.get('NodeResourcesFit'), { scoringStrategy: { type: 'MostAllocated' } });
  const none = resolveConfiguration({ profiles: [{ plugins: { multiPoint: { disabled: [{ name: '*' }] }, filter: { enabled: [{ name: 'NodeName' }] } } }] });
  assert.deepEqual(none.profiles[0].enabled.get('filter'), ['NodeName']);
  assert.throws(() => resolveConfiguration({ apiVersion: 'kubescheduler.config.k8s.io/v1beta3' }), ConfigurationError);
  assert.throws(() => resolveConfiguration({ percentageOfNodesToScore: 101 }), /not in valid range \[0-100\]/);
  assert.throws(() => resolveConfiguration({ profiles: [{ schedulerName: 'x' }, { schedulerName: 'x' }] }), /Duplicate value: "x"/);
});
