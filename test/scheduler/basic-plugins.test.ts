/** Filter and score plugins against upstream's documented behaviour, on real NodeInfos. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState, type Plugin, type Pod } from '../../src/scheduler/types.js';
import type { NodeInfo } from '../../src/scheduler/node-info.js';
import { taintToleration } from '../../src/scheduler/plugins/taint-toleration.js';
import { nodeAffinity } from '../../src/scheduler/plugins/node-affinity.js';
import { nodePorts } from '../../src/scheduler/plugins/node-ports.js';
import { nodeResourcesFit } from '../../src/scheduler/plugins/node-resources-fit.js';
import { balancedAllocation } from '../../src/scheduler/plugins/balanced-allocation.js';
import { nodeUnschedulable } from '../../src/scheduler/plugins/node-unschedulable.js';
import { Diagnosis, FitError } from '../../src/scheduler/fit-error.js';
import { node, nodeInfo, pod } from './fixture.js';

/** Runs PreFilter (if any) then Filter; a reason list, or [] when the node fits. */
function filter(plugin: Plugin, p: Pod, info: NodeInfo): string[] {
  const state = new CycleState();
  const pre = plugin.preFilter?.(state, p, undefined as never);
  if (pre && 'code' in pre && pre.code === 'Skip') return [];
  const result = plugin.filter!(state, p, info);
  return result ? [...result.reasons] : [];
}

function scores(plugin: Plugin, p: Pod, infos: NodeInfo[]): number[] {
  const state = new CycleState();
  plugin.preScore?.(state, p, infos);
  const values = infos.map((info) => plugin.score!(state, p, info));
  plugin.normalizeScore?.(state, p, values);
  return values;
}

test('TaintToleration: NoSchedule and NoExecute taints must be tolerated, PreferNoSchedule only lowers the score', () => {
  const plugin = taintToleration();
  const tainted = nodeInfo(node('n', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }));
  assert.deepEqual(filter(plugin, pod('p'), tainted), ['node(s) had untolerated taint {dedicated: db}']);
  assert.deepEqual(filter(plugin, pod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }), tainted), []);
  assert.deepEqual(filter(plugin, pod('p', { tolerations: [{ operator: 'Exists' }] }), tainted), [], 'an empty key with Exists tolerates everything');
  assert.deepEqual(filter(plugin, pod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }] }), tainted).length, 1, 'another value does not tolerate');
  const noExecute = nodeInfo(node('n', { taints: [{ key: 'k', effect: 'NoExecute' }] }));
  assert.equal(filter(plugin, pod('p'), noExecute).length, 1);
  const prefer = nodeInfo(node('prefer', { taints: [{ key: 'a', effect: 'PreferNoSchedule' }, { key: 'b', effect: 'PreferNoSchedule' }] }));
  const preferOne = nodeInfo(node('prefer-one', { taints: [{ key: 'a', effect: 'PreferNoSchedule' }] }));
  const clean = nodeInfo(node('clean'));
  assert.deepEqual(filter(plugin, pod('p'), prefer), []);
  assert.deepEqual(scores(plugin, pod('p'), [prefer, preferOne, clean]), [0, 50, 100]);
});

test('NodeAffinity: nodeSelector, required terms ORed with ANDed expressions, operators; preferred weights scored', () => {
  const plugin = nodeAffinity();
  const ssd = nodeInfo(node('ssd', {}, { disk: 'ssd', gen: '5' }));
  const hdd = nodeInfo(node('hdd', {}, { disk: 'hdd', gen: '3' }));
  const reason = "node(s) didn't match Pod's node affinity/selector";
  assert.deepEqual(filter(plugin, pod('p', { nodeSelector: { disk: 'ssd' } }), hdd), [reason]);
  assert.deepEqual(filter(plugin, pod('p', { nodeSelector: { disk: 'ssd' } }), ssd), []);
  const required = (terms: unknown[]) => pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });
  const gt4 = required([{ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }]);
  assert.deepEqual(filter(plugin, gt4, ssd), []);
  assert.deepEqual(filter(plugin, gt4, hdd), [reason]);
  const either = required([{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['nvme'] }] }, { matchExpressions: [{ key: 'disk', operator: 'NotIn', values: ['ssd'] }, { key: 'gen', operator: 'Exists' }] }]);
  assert.deepEqual(filter(plugin, either, hdd), []);
  assert.deepEqual(filter(plugin, either, ssd), [reason]);
  const byName = required([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['hdd'] }] }]);
  const pre = plugin.preFilter!(new CycleState(), byName, undefined as never) as { result: { nodeNames: Set<string> } };
  assert.deepEqual([...pre.result.nodeNames], ['hdd']);
  const preferred = pod('p', { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 80, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }, { weight: 20, preference: { matchExpressions: [{ key: 'gen', operator: 'Lt', values: ['4'] }] } }] } } });
  assert.deepEqual(scores(plugin, preferred, [ssd, hdd]), [100, 25]);
});

test('NodeUnschedulable: a cordoned node takes only pods tolerating node.kubernetes.io/unschedulable', () => {
  const plugin = nodeUnschedulable();
  const cordoned = nodeInfo(node('c', { unschedulable: true }));
  assert.deepEqual(filter(plugin, pod('p'), cordoned), ['node(s) were unschedulable']);
  assert.deepEqual(filter(plugin, pod('p', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }), cordoned), []);
});

test('NodePorts: the same host port and protocol conflict; 0.0.0.0 conflicts with a specific address; other protocols do not', () => {
  const plugin = nodePorts();
  const withPort = (hostPort: number, protocol = 'TCP', hostIP?: string) => pod('p', { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80, hostPort, protocol, hostIP }] }] });
  const info = nodeInfo(node('n'), [withPort(8080, 'TCP', '10.0.0.1')]);
  const reason = "node(s) didn't have free ports for the requested pod ports";
  assert.deepEqual(filter(plugin, withPort(8080), info), [reason]);
  assert.deepEqual(filter(plugin, withPort(8080, 'TCP', '10.0.0.1'), info), [reason]);
  assert.deepEqual(filter(plugin, withPort(8080, 'TCP', '10.0.0.2'), info), []);
  assert.deepEqual(filter(plugin, withPort(8080, 'UDP'), info), []);
  assert.deepEqual(filter(plugin, withPort(9090), info), []);
});

test('NodeResourcesFit: requests with init containers and overhead against allocatable minus what is requested; every shortfall is a reason', () => {
  const plugin = nodeResourcesFit();
  const info = nodeInfo(node('n', { cpu: '2', memory: '4Gi', pods: 2, extra: { 'example.com/gpu': '1' } }), [pod('used', { cpu: '1', memory: '1Gi' })]);
  assert.deepEqual(filter(plugin, pod('p', { cpu: '1', memory: '3Gi' }), info), []);
  assert.deepEqual(filter(plugin, pod('p', { cpu: '1500m', memory: '3500Mi' }), info), ['Insufficient cpu', 'Insufficient memory']);
  const withInit = pod('p', { cpu: '500m', initContainers: [{ name: 'i', image: 'x', resources: { requests: { cpu: '1100m' } } }] });
  assert.deepEqual(filter(plugin, withInit, info), ['Insufficient cpu'], 'the init container needs 1100m of the 1000m left');
  const withOverhead = pod('p', { cpu: '900m', overhead: { cpu: '200m' } });
  assert.deepEqual(filter(plugin, withOverhead, info), ['Insufficient cpu']);
  const gpus = pod('p', { containers: [{ name: 'a', image: 'x', resources: { requests: { 'example.com/gpu': '2' } } }] });
  assert.deepEqual(filter(plugin, gpus, info), ['Insufficient example.com/gpu']);
  const full = nodeInfo(node('n', { pods: 1 }), [pod('only')]);
  assert.deepEqual(filter(plugin, pod('p'), full), ['Too many pods']);
});

test('NodeResourcesFit scoring: LeastAllocated prefers the emptier node, MostAllocated the fuller; BalancedAllocation the even one', () => {
  const empty = nodeInfo(node('empty', { cpu: '4', memory: '4Gi' }));
  const busy = nodeInfo(node('busy', { cpu: '4', memory: '4Gi' }), [pod('x', { cpu: '2', memory: '2Gi' })]);
  const p = pod('p', { cpu: '1', memory: '1Gi' });
  // (4-1)/4 → 75 on both resources; (4-3)/4 → 25.
  assert.deepEqual(scores(nodeResourcesFit(), p, [empty, busy]), [75, 25]);
  assert.deepEqual(scores(nodeResourcesFit({ scoringStrategy: { type: 'MostAllocated' } }), p, [empty, busy]), [25, 75]);
  const cpuHeavy = nodeInfo(node('cpu-heavy', { cpu: '4', memory: '4Gi' }), [pod('x', { cpu: '3', memory: '0' })]);
  // empty: cpu 1/4, memory 1/4 → deviation 0 → 100; cpu-heavy: 4/4 vs 1/4 → deviation 0.375 → 62.
  assert.deepEqual(scores(balancedAllocation(), p, [empty, cpuHeavy]), [100, 62]);
});

test('FitError: reasons counted per node and sorted, preemption appended as upstream formats it', () => {
  const diagnosis = new Diagnosis();
  diagnosis.record('a', { code: 'Unschedulable', reasons: ['Insufficient cpu'], plugin: 'NodeResourcesFit' });
  diagnosis.record('b', { code: 'Unschedulable', reasons: ['Insufficient cpu', 'Insufficient memory'], plugin: 'NodeResourcesFit' });
  diagnosis.record('c', { code: 'UnschedulableAndUnresolvable', reasons: ['node(s) had untolerated taint {k: v}'], plugin: 'TaintToleration' });
  diagnosis.postFilterMsg = 'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
  assert.equal(new FitError(3, diagnosis).message, '0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..');
  assert.deepEqual([...diagnosis.unschedulablePlugins].sort(), ['NodeResourcesFit', 'TaintToleration']);
});
