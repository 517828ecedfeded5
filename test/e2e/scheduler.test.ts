/**
 * The scheduler through the real kubectl, with Node objects registered by the test (no node
 * agents): fit by resources, nodeSelector and tolerations, FailedScheduling with upstream's
 * aggregated message in `kubectl describe`, scheduling as soon as a fitting node appears, host
 * port conflicts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startServer, type TestServer } from './harness.js';

let server: TestServer;

before(async () => {
  server = await startServer(['--ephemeral']);
});
after(async () => {
  await server?.stop();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface NodeSpec {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: string }>;
  unschedulable?: boolean;
}

function nodeManifest(name: string, spec: NodeSpec = {}): string {
  const capacity = { cpu: spec.cpu ?? '4', memory: spec.memory ?? '8Gi', pods: String(spec.pods ?? 110) };
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(spec.labels ?? {}) } },
    spec: { taints: spec.taints, unschedulable: spec.unschedulable },
    status: {
      capacity,
      allocatable: capacity,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
    },
  });
}

async function addNode(name: string, spec: NodeSpec = {}): Promise<void> {
  await server.ok(['create', '-f', '-'], { input: nodeManifest(name, spec) });
}

function podManifest(name: string, namespace: string, spec: Json = {}, labels: Record<string, string> = {}): string {
  const { cpu, memory, ...rest } = spec;
  const requests: Record<string, string> = {};
  if (cpu) requests.cpu = cpu;
  if (memory) requests.memory = memory;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27', resources: { requests }, ...(rest.ports ? { ports: rest.ports } : {}) }], ...Object.fromEntries(Object.entries(rest).filter(([k]) => k !== 'ports')) },
  });
}

async function addPod(name: string, namespace: string, spec: Json = {}, labels: Record<string, string> = {}): Promise<void> {
  await server.ok(['create', '-f', '-'], { input: podManifest(name, namespace, spec, labels) });
}

async function getPod(name: string, namespace: string): Promise<Json> {
  return JSON.parse(await server.ok(['get', 'pod', name, '-n', namespace, '-o', 'json']));
}

async function nodeOf(name: string, namespace: string): Promise<string> {
  return eventually(async () => {
    const pod = await getPod(name, namespace);
    assert.ok(pod.spec.nodeName, `${namespace}/${name} is not bound yet`);
    return pod.spec.nodeName as string;
  }, 20_000);
}

/** Waits for the pod's FailedScheduling message (as the PodScheduled condition carries it). */
async function unschedulableMessage(name: string, namespace: string, expected: string | RegExp): Promise<string> {
  return eventually(async () => {
    const pod = await getPod(name, namespace);
    assert.equal(pod.spec.nodeName, undefined);
    const condition = (pod.status?.conditions ?? []).find((c: Json) => c.type === 'PodScheduled');
    assert.ok(condition, 'no PodScheduled condition yet');
    assert.equal(condition.status, 'False');
    assert.equal(condition.reason, 'Unschedulable');
    if (typeof expected === 'string') assert.equal(condition.message, expected);
    else assert.match(condition.message, expected);
    return condition.message as string;
  }, 20_000);
}

let nextNamespace = 0;
async function namespace(): Promise<string> {
  const name = `sched-${++nextNamespace}`;
  await server.ok(['create', 'namespace', name]);
  return name;
}

/** Each test works on its own nodes; earlier tests' nodes are deleted so the messages' counts are exact. */
async function clearNodes(): Promise<void> {
  await server.ok(['delete', 'nodes', '--all', '--wait=false']);
  await eventually(async () => assert.equal((await server.ok(['get', 'nodes', '-o', 'name'])).trim(), ''));
}

test('a 3-cpu pod lands on the only node with room; Scheduled event as upstream words it', async () => {
  await clearNodes();
  const ns = await namespace();
  await addNode('small-1', { cpu: '2' });
  await addNode('small-2', { cpu: '2' });
  await addNode('big', { cpu: '4' });
  await addPod('three-cpu', ns, { cpu: '3' });
  assert.equal(await nodeOf('three-cpu', ns), 'big');
  const pod = await getPod('three-cpu', ns);
  const scheduled = pod.status.conditions.find((c: Json) => c.type === 'PodScheduled');
  assert.equal(scheduled.status, 'True');
  const events = await eventually(async () => {
    const out = await server.ok(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=three-cpu,reason=Scheduled', '-o', 'json']);
    const items = JSON.parse(out).items;
    assert.equal(items.length, 1);
    return items;
  });
  assert.equal(events[0].message, `Successfully assigned ${ns}/three-cpu to big`);
  assert.equal(events[0].source.component, 'default-scheduler');
  assert.equal(events[0].type, 'Normal');
});

test('nodeSelector and tolerations are honoured', async () => {
  await clearNodes();
  const ns = await namespace();
  await addNode('plain');
  await addNode('ssd', { labels: { disk: 'ssd' } });
  await addNode('gpu', { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] });
  await addPod('wants-ssd', ns, { nodeSelector: { disk: 'ssd' } });
  assert.equal(await nodeOf('wants-ssd', ns), 'ssd');
  // Tolerating the taint and selecting by hostname: only gpu fits; without the toleration nothing does.
  await addPod('tolerates-gpu', ns, { nodeSelector: { 'kubernetes.io/hostname': 'gpu' }, tolerations: [{ key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }] });
  assert.equal(await nodeOf('tolerates-gpu', ns), 'gpu');
  await addPod('intolerant', ns, { nodeSelector: { 'kubernetes.io/hostname': 'gpu' } });
  await unschedulableMessage('intolerant', ns, "0/3 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..");
});

test('an oversized pod stays Pending with the aggregated FailedScheduling message in kubectl describe, and is scheduled once a node with room is added', async () => {
  await clearNodes();
  const ns = await namespace();
  await addNode('a', { cpu: '1' });
  await addNode('b', { cpu: '1' });
  await addNode('cordoned', { cpu: '8', unschedulable: true });
  await addPod('huge', ns, { cpu: '6' });
  const expected = '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..';
  await unschedulableMessage('huge', ns, expected);
  const described = await eventually(async () => {
    const text = await server.ok(['describe', 'pod', 'huge', '-n', ns]);
    assert.match(text, /FailedScheduling/);
    return text;
  });
  assert.ok(described.split('\n').some((line) => /Warning\s+FailedScheduling\s/.test(line) && line.includes('default-scheduler') && line.trimEnd().endsWith(expected)), described);
  assert.match(described, /Status:\s+Pending/);
  await addNode('roomy', { cpu: '8' });
  assert.equal(await nodeOf('huge', ns), 'roomy');
});

test('a host-port conflict keeps the second pod Pending', async () => {
  await clearNodes();
  const ns = await namespace();
  await addNode('only');
  const ports = [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }];
  await addPod('first', ns, { ports });
  assert.equal(await nodeOf('first', ns), 'only');
  await addPod('second', ns, { ports });
  // Both pods have priority 0: nothing to preempt.
  await unschedulableMessage('second', ns, "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..");
  // Deleting the first frees the port: the second is scheduled without any other change.
  await server.ok(['delete', 'pod', 'first', '-n', ns, '--grace-period=0', '--force']);
  assert.equal(await nodeOf('second', ns), 'only');
});

test('pods naming another schedulerName are left alone; scheduling gates hold a pod until removed', async () => {
  await clearNodes();
  const ns = await namespace();
  await addNode('n1');
  await addPod('other-scheduler', ns, { schedulerName: 'my-scheduler' });
  await addPod('gated', ns, { schedulingGates: [{ name: 'example.com/wait' }] });
  await addPod('normal', ns);
  assert.equal(await nodeOf('normal', ns), 'n1');
  for (const name of ['other-scheduler', 'gated']) {
    const pod = await getPod(name, ns);
    assert.equal(pod.spec.nodeName, undefined, name);
    assert.equal((pod.status?.conditions ?? []).find((c: Json) => c.type === 'PodScheduled'), undefined, `${name} was not attempted`);
  }
  await server.ok(['patch', 'pod', 'gated', '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/spec/schedulingGates"}]']);
  assert.equal(await nodeOf('gated', ns), 'n1');
});

test('a high-priority pod preempts a low-priority one: Preempted event on the victim, then bound in its place', async () => {
  await clearNodes();
  const ns = await namespace();
  await addNode('tight', { cpu: '2' });
  for (const [name, value] of [['sched-low', 10], ['sched-high', 1000]] as const) {
    await server.ok(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value }) });
  }
  // spec.priority as the Priority admission plugin resolves it from the class (equal values are accepted either way).
  await addPod('victim', ns, { cpu: '2', priorityClassName: 'sched-low', priority: 10 });
  assert.equal(await nodeOf('victim', ns), 'tight');
  const victimUid = (await getPod('victim', ns)).metadata.uid;
  await addPod('preemptor', ns, { cpu: '2', priorityClassName: 'sched-high', priority: 1000 });
  const preemptorUid = (await getPod('preemptor', ns)).metadata.uid;
  const preempted = await eventually(async () => {
    const items = JSON.parse(await server.ok(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=victim,reason=Preempted', '-o', 'json'])).items;
    assert.equal(items.length, 1);
    return items[0];
  }, 20_000);
  assert.equal(preempted.message, `Preempted by pod ${preemptorUid} on node tight`);
  assert.equal(preempted.involvedObject.uid, victimUid);
  // Without a kubelet a graceful deletion would wait: confirm it as the kubelet would.
  await server.kubectl(['delete', 'pod', 'victim', '-n', ns, '--grace-period=0', '--force']);
  assert.equal(await nodeOf('preemptor', ns), 'tight');
});

test('required pod anti-affinity separates pods; the one with nowhere left stays Pending with upstream reasons', async () => {
  await clearNodes();
  const ns = await namespace();
  await addNode('h1');
  await addNode('h2');
  const anti = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
  await addPod('db-1', ns, anti, { app: 'db' });
  const first = await nodeOf('db-1', ns);
  await addPod('db-2', ns, anti, { app: 'db' });
  const second = await nodeOf('db-2', ns);
  assert.notEqual(first, second);
  await addPod('db-3', ns, anti, { app: 'db' });
  await unschedulableMessage('db-3', ns, "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..");
  // Symmetry: a pod without terms of its own may not join a node whose pod's anti-affinity rejects it.
  await addPod('plain-db', ns, { nodeSelector: { 'kubernetes.io/hostname': first } }, { app: 'db' });
  await unschedulableMessage('plain-db', ns, /^0\/2 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector, 1 node\(s\) didn't satisfy existing pods anti-affinity rules\./);
});

test('topology spread with maxSkew 1 balances pods across zones', async () => {
  await clearNodes();
  const ns = await namespace();
  for (const zone of ['a', 'b', 'c']) {
    await addNode(`${zone}-1`, { labels: { 'topology.kubernetes.io/zone': zone } });
    await addNode(`${zone}-2`, { labels: { 'topology.kubernetes.io/zone': zone } });
  }
  const spread = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }] };
  const zones: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (let i = 0; i < 7; i++) {
    await addPod(`web-${i}`, ns, spread, { app: 'web' });
    const node = await nodeOf(`web-${i}`, ns);
    zones[node[0]]++;
    const counts = Object.values(zones);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `skew after web-${i}: ${JSON.stringify(zones)}`);
  }
  assert.deepEqual(Object.values(zones).sort(), [2, 2, 3]);
});
