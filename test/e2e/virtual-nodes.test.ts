/**
 * `nautilus serve --virtual-nodes 3` with the real kubectl: nodes register Ready with their
 * leases, bound pods go Running with addresses from their node's pod CIDR, Jobs complete,
 * restartPolicy is honoured, and `kubectl delete pod` returns once the kubelet confirms.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, eventually, type TestServer } from './harness.js';

let server: TestServer;
before(async () => {
  server = await startServer(['--ephemeral', '--virtual-nodes', '3']);
});
after(async () => {
  await server?.stop();
});

const podManifest = (name: string, node: string, extra: { annotations?: Record<string, string>; restartPolicy?: string } = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations: extra.annotations ?? {} },
    spec: { nodeName: node, restartPolicy: extra.restartPolicy ?? 'Always', containers: [{ name: 'app', image: 'nginx:1.27' }] },
  });

async function podJson(name: string): Promise<Record<string, any>> {
  return JSON.parse(await server.ok(['get', 'pod', name, '-o', 'json']));
}

test('three virtual nodes register Ready, with leases renewed by their kubelets', async () => {
  await eventually(async () => {
    const out = await server.ok(['get', 'nodes', '--no-headers']);
    assert.equal(out.trim().split('\n').filter((line) => /\sReady\s/.test(line)).length, 3, out);
  }, 20_000);
  const nodes = JSON.parse(await server.ok(['get', 'nodes', '-o', 'json', '--show-managed-fields'])).items;
  for (const node of nodes) {
    assert.match(node.metadata.name, /^virtual-node-\d$/);
    assert.equal(node.metadata.labels['kubernetes.io/hostname'], node.metadata.name);
    assert.match(node.metadata.labels['topology.kubernetes.io/zone'], /^zone-[abc]$/);
    assert.match(node.spec.podCIDR, /^10\.64\.\d+\.0\/24$/);
    assert.equal(node.status.addresses.find((a: { type: string }) => a.type === 'InternalIP').address, '127.0.0.1');
    assert.ok(node.status.daemonEndpoints.kubeletEndpoint.Port > 0);
    for (const field of ['machineID', 'systemUUID', 'bootID', 'kernelVersion', 'osImage', 'containerRuntimeVersion', 'kubeletVersion', 'kubeProxyVersion', 'operatingSystem', 'architecture']) {
      assert.ok(node.status.nodeInfo[field], `nodeInfo.${field} is filled`);
    }
    assert.equal(node.status.capacity.pods, '110');
    assert.ok(node.status.allocatable.cpu);
    assert.deepEqual(node.status.conditions.map((c: { type: string }) => c.type).sort(), ['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready']);
    // The kubelet wrote it: its field manager is on the status.
    assert.ok(node.metadata.managedFields.some((entry: { manager: string }) => entry.manager === 'kubelet'));
  }
  const leases = JSON.parse(await server.ok(['get', 'leases', '-n', 'kube-node-lease', '-o', 'json'])).items;
  assert.equal(leases.length, 3);
  for (const lease of leases) {
    assert.equal(lease.spec.holderIdentity, lease.metadata.name);
    assert.equal(lease.spec.leaseDurationSeconds, 40);
    assert.match(lease.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(lease.metadata.ownerReferences[0].kind, 'Node');
  }
});

test('pods bound to virtual nodes go Running and Ready with IPs from their node pod CIDR', async () => {
  const nodes = JSON.parse(await server.ok(['get', 'nodes', '-o', 'json'])).items as Array<{ metadata: { name: string }; spec: { podCIDR: string } }>;
  const cidrOf = new Map(nodes.map((n) => [n.metadata.name, n.spec.podCIDR]));
  for (let i = 0; i < 6; i++) await server.ok(['create', '-f', '-'], { input: podManifest(`web-${i}`, `virtual-node-${i % 3}`) });
  await server.ok(['wait', '--for=condition=Ready', 'pod', ...Array.from({ length: 6 }, (_, i) => `web-${i}`), '--timeout=30s']);
  const pods = JSON.parse(await server.ok(['get', 'pods', '-o', 'json'])).items;
  const ips = new Set<string>();
  for (const pod of pods.filter((p: { metadata: { name: string } }) => p.metadata.name.startsWith('web-'))) {
    assert.equal(pod.status.phase, 'Running');
    const prefix = cidrOf.get(pod.spec.nodeName)!.replace(/\.0\/24$/, '.');
    assert.ok(pod.status.podIP.startsWith(prefix), `${pod.status.podIP} in ${cidrOf.get(pod.spec.nodeName)}`);
    assert.equal(pod.status.hostIP, '127.0.0.1');
    ips.add(pod.status.podIP);
    const container = pod.status.containerStatuses[0];
    assert.equal(container.ready, true);
    assert.equal(container.started, true);
    assert.equal(container.image, 'docker.io/library/nginx:1.27');
    assert.match(container.imageID, /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    assert.match(container.containerID, /^containerd:\/\/[0-9a-f]{64}$/);
    assert.ok(container.state.running.startedAt);
  }
  assert.equal(ips.size, 6, 'every pod has its own address');
  const wide = await server.ok(['get', 'pods', '-o', 'wide', '--no-headers']);
  assert.match(wide, /web-0\s+1\/1\s+Running\s+0\s+\S+\s+10\.64\.\d+\.\d+\s+virtual-node-0/);
});

test('a Job whose pods finish reaches Complete with no help from the test', async () => {
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'finish' },
    spec: {
      completions: 3,
      parallelism: 2,
      template: {
        metadata: { annotations: { 'nautilus.dev/run-seconds': '1' } },
        spec: { nodeName: 'virtual-node-2', restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox' }] },
      },
    },
  };
  await server.ok(['create', '-f', '-'], { input: JSON.stringify(job) });
  await server.ok(['wait', '--for=condition=Complete', 'job/finish', '--timeout=60s']);
  const pods = JSON.parse(await server.ok(['get', 'pods', '-l', 'job-name=finish', '-o', 'json'])).items;
  assert.ok(pods.filter((p: { status: { phase: string } }) => p.status.phase === 'Succeeded').length >= 3);
  const terminated = pods[0].status.containerStatuses[0].state.terminated;
  assert.equal(terminated.exitCode, 0);
  assert.equal(terminated.reason, 'Completed');
});

test('restartPolicy: Always restarts an exiting container, Never leaves the pod Failed with its exit code', async () => {
  await server.ok(['create', '-f', '-'], { input: podManifest('crashy', 'virtual-node-0', { annotations: { 'nautilus.dev/run-seconds': '1', 'nautilus.dev/exit-code': '3' } }) });
  await server.ok(['create', '-f', '-'], { input: podManifest('once', 'virtual-node-1', { restartPolicy: 'Never', annotations: { 'nautilus.dev/run-seconds': '1', 'nautilus.dev/exit-code': '3' } }) });
  await eventually(async () => {
    const pod = await podJson('crashy');
    assert.ok(pod.status.containerStatuses[0].restartCount >= 1, JSON.stringify(pod.status));
    assert.equal(pod.status.phase, 'Running');
    assert.equal(pod.status.containerStatuses[0].lastState.terminated.exitCode, 3);
  }, 20_000);
  await eventually(async () => {
    const pod = await podJson('once');
    assert.equal(pod.status.phase, 'Failed');
    assert.equal(pod.status.containerStatuses[0].state.terminated.exitCode, 3);
    assert.equal(pod.status.containerStatuses[0].state.terminated.reason, 'Error');
    assert.equal(pod.status.containerStatuses[0].restartCount, 0);
  }, 20_000);
  const line = await server.ok(['get', 'pod', 'once', '--no-headers']);
  assert.match(line, /^once\s+0\/1\s+Error\s+0/);
});

test('a readiness probe delays Ready; kubectl delete pod returns and the pod is gone', async () => {
  const pod = JSON.parse(podManifest('slow-ready', 'virtual-node-1'));
  pod.spec.containers[0].readinessProbe = { httpGet: { path: '/', port: 80 }, initialDelaySeconds: 2 };
  await server.ok(['create', '-f', '-'], { input: JSON.stringify(pod) });
  await eventually(async () => {
    const current = await podJson('slow-ready');
    assert.equal(current.status.phase, 'Running');
  }, 20_000);
  const early = await podJson('slow-ready');
  const readyCondition = () => early.status.conditions.find((c: { type: string }) => c.type === 'Ready');
  if (readyCondition().status === 'False') assert.equal(readyCondition().reason, 'ContainersNotReady');
  await server.ok(['wait', '--for=condition=Ready', 'pod/slow-ready', '--timeout=30s']);
  await server.ok(['delete', 'pod', 'slow-ready', '--timeout=30s']);
  const gone = await server.kubectl(['get', 'pod', 'slow-ready']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /NotFound/);
});
