/**
 * kubectl cordon, uncordon and drain against PodDisruptionBudgets, through the real kubectl and
 * scheduler, with Node objects created by the test and a stand-in kubelet that reports pods
 * Running and Ready and confirms their graceful deletion.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startServer, type TestServer } from './harness.js';
import { startFakeKubelet, type FakeKubelet } from './kubelet.js';

let server: TestServer;
let kubelet: FakeKubelet;
const NODES = ['node-a', 'node-b', 'node-c'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function getJson(args: string[]): Promise<Json> {
  return JSON.parse(await server.ok([...args, '-o', 'json']));
}

function nodeManifest(name: string): string {
  const capacity = { cpu: '4', memory: '8Gi', pods: '110' };
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { capacity, allocatable: capacity, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }] },
  });
}

async function runningPods(): Promise<Json[]> {
  return (await getJson(['get', 'pods', '-n', 'drain', '-l', 'app=web'])).items.filter((p: Json) => !p.metadata.deletionTimestamp && p.status.phase === 'Running');
}

before(async () => {
  server = await startServer(['--ephemeral']);
  for (const node of NODES) await server.ok(['create', '-f', '-'], { input: nodeManifest(node) });
  await server.ok(['create', 'namespace', 'drain']);
  kubelet = await startFakeKubelet(server.kubeconfig, 'drain', 100);
});
after(async () => {
  await kubelet?.stop();
  await server?.stop();
});

test('cordon and uncordon: SchedulingDisabled, and the scheduler avoids the node', async () => {
  assert.match(await server.ok(['cordon', 'node-c']), /node\/node-c cordoned/);
  assert.match(await server.ok(['get', 'nodes']), /node-c\s+Ready,SchedulingDisabled/);
  await server.ok(['run', 'probe', '--image=busybox', '-n', 'drain']);
  const pod = await eventually(async () => {
    const p = await getJson(['get', 'pod', 'probe', '-n', 'drain']);
    assert.ok(p.spec.nodeName);
    return p;
  });
  assert.notEqual(pod.spec.nodeName, 'node-c');
  await server.ok(['delete', 'pod', 'probe', '-n', 'drain']);
  assert.match(await server.ok(['uncordon', 'node-c']), /node\/node-c uncordoned/);
  assert.doesNotMatch(await server.ok(['get', 'node', 'node-c']), /SchedulingDisabled/);
});

test('drain evicts through the PodDisruptionBudget: refused with 429 while it allows nothing, then the pods move', async () => {
  await server.ok(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=4', '-n', 'drain']);
  await eventually(async () => assert.equal((await runningPods()).length, 4), 60_000);
  await server.ok(['create', 'pdb', 'web', '--selector=app=web', '--min-available=4', '-n', 'drain']);
  await eventually(async () => {
    const pdb = await getJson(['get', 'pdb', 'web', '-n', 'drain']);
    assert.deepEqual([pdb.status.currentHealthy, pdb.status.desiredHealthy, pdb.status.expectedPods, pdb.status.disruptionsAllowed], [4, 4, 4, 0]);
    assert.equal(pdb.status.conditions.find((c: Json) => c.type === 'DisruptionAllowed').reason, 'InsufficientPods');
  });
  assert.match(await server.ok(['get', 'pdb', '-n', 'drain']), /web\s+4\s+N\/A\s+0\s+/);

  const target = (await runningPods())[0].spec.nodeName as string;
  const refused = await server.kubectl(['drain', target, '--timeout=8s'], { timeoutMs: 60_000 });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stdout + refused.stderr, /Cannot evict pod as it would violate the pod's disruption budget\./);
  assert.match(await server.ok(['get', 'node', target]), /SchedulingDisabled/);
  assert.equal((await runningPods()).length, 4, 'no pod was evicted');

  await server.ok(['patch', 'pdb', 'web', '-n', 'drain', '--type=merge', '-p', '{"spec":{"minAvailable":3}}']);
  await eventually(async () => assert.equal((await getJson(['get', 'pdb', 'web', '-n', 'drain'])).status.disruptionsAllowed, 1));
  const drained = await server.kubectl(['drain', target, '--timeout=120s'], { timeoutMs: 180_000 });
  assert.equal(drained.code, 0, drained.stderr);
  assert.match(drained.stdout, /evicting pod drain\/web-/);
  assert.match(drained.stdout, new RegExp(`node/${target} drained`));
  await eventually(async () => {
    const pods = await runningPods();
    assert.equal(pods.length, 4);
    assert.ok(pods.every((p) => p.spec.nodeName !== target), 'the pods came back on the other nodes');
  }, 60_000);
  await server.ok(['uncordon', target]);
});
