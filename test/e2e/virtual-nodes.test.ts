/**
 * `nautilus serve --virtual-nodes 3` with the real kubectl: nodes register Ready with their
 * leases, bound pods go Running with addresses from their node's pod CIDR, Jobs complete,
 * restartPolicy is honoured, and `kubectl delete pod` returns once the kubelet confirms.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, eventually, KUBECTL_NEWEST, type TestServer } from './harness.js';

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

test('kubectl logs reads the synthetic log: --tail, --timestamps, -c, -f until its timeout, --previous, and validation', async () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'talker' },
    spec: { nodeName: 'virtual-node-0', containers: [{ name: 'app', image: 'nginx' }, { name: 'side', image: 'busybox' }] },
  };
  await server.ok(['create', '-f', '-'], { input: JSON.stringify(pod) });
  await server.ok(['wait', '--for=condition=Ready', 'pod/talker', '--timeout=30s']);
  // One line per second from the container's start: wait for the third.
  await eventually(async () => assert.ok((await server.ok(['logs', 'talker', '-c', 'app'])).trim().split('\n').length >= 3), 20_000);
  const tail = (await server.ok(['logs', 'talker', '-c', 'app', '--tail=2'])).trim().split('\n');
  assert.equal(tail.length, 2);
  assert.match(tail[0], /^app\[0\] line \d+: default\/talker GET \S+ \d{3}$/);
  const [stamped] = (await server.ok(['logs', 'talker', '-c', 'side', '--tail=1', '--timestamps'])).trim().split('\n');
  assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z side\[0\] line \d+: /);
  // Which container must be said when there are two (kubectl picks the first and says so).
  const defaulted = await server.kubectl(['logs', 'talker', '--tail=1']);
  assert.equal(defaulted.code, 0);
  const wrong = await server.kubectl(['logs', 'talker', '-c', 'nope']);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /container nope is not valid for pod talker/);
  const previous = await server.kubectl(['logs', 'talker', '-c', 'app', '--previous']);
  assert.notEqual(previous.code, 0);
  assert.match(previous.stderr, /previous terminated container "app" in pod "talker" not found/);
  const invalid = await server.kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/talker/log?container=app&tailLines=-1']);
  assert.notEqual(invalid.code, 0);
  // -f keeps streaming new lines until kubectl is stopped (here by its own timeout).
  const followed = await server.kubectl(['logs', '-f', 'talker', '-c', 'app', '--tail=1'], { timeoutMs: 3500 });
  const lines = followed.stdout.trim().split('\n');
  assert.ok(lines.length >= 2, `follow delivered new lines: ${followed.stdout}`);
  const numbers = lines.map((line) => Number(/line (\d+):/.exec(line)![1]));
  assert.deepEqual(numbers, numbers.map((_, i) => numbers[0] + i), 'consecutive lines');
});

test('kubectl exec runs the built-in commands over WebSocket: output, exit codes, stdin, projected files and env', async () => {
  const manifest = `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {greeting: "hello from a configmap"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Pod
metadata: {name: shell, labels: {app: shell}}
spec:
  nodeName: virtual-node-1
  containers:
  - name: app
    image: busybox
    env:
    - {name: MODE, value: test}
    - {name: MY_POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: creds, key: password}}}
    volumeMounts:
    - {name: settings, mountPath: /etc/settings}
    - {name: creds, mountPath: /etc/creds}
    - {name: info, mountPath: /etc/podinfo}
  volumes:
  - {name: settings, configMap: {name: settings}}
  - {name: creds, secret: {secretName: creds}}
  - {name: info, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
`;
  await server.ok(['apply', '-f', '-'], { input: manifest });
  await server.ok(['wait', '--for=condition=Ready', 'pod/shell', '--timeout=30s']);
  assert.equal(await server.ok(['exec', 'shell', '--', 'echo', 'hi']), 'hi\n');
  const script = await server.kubectl(['exec', 'shell', '--', 'sh', '-c', 'echo $MODE $MY_POD $PASSWORD; cat /etc/settings/greeting; echo; cat /etc/creds/password; echo; cat /etc/podinfo/labels; echo; hostname; exit 3']);
  assert.equal(script.code, 3, script.stderr);
  assert.equal(script.stdout, 'test shell s3cret\nhello from a configmap\ns3cret\napp="shell"\nshell\n');
  assert.match(script.stderr, /command terminated with exit code 3/);
  const missing = await server.kubectl(['exec', 'shell', '--', 'cat', '/etc/passwd']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such file or directory/);
  const notFound = await server.kubectl(['exec', 'shell', '--', 'sh', '-c', 'frobnicate']);
  assert.equal(notFound.code, 127);
  assert.equal(await server.ok(['exec', '-i', 'shell', '--', 'cat'], { input: 'through stdin\n' }), 'through stdin\n');
  assert.equal(await server.ok(['exec', '-i', 'shell', '--', 'sh'], { input: 'echo one\necho two && false || echo three\n' }), 'one\ntwo\nthree\n');
  assert.match(await server.ok(['exec', 'shell', '--', 'ls', '/etc/settings']), /^greeting\n$/);
  // The newest kubectl too.
  assert.equal(await server.ok(['exec', 'shell', '--', 'echo', 'newest'], { binary: KUBECTL_NEWEST }), 'newest\n');
});

test('nodes/proxy, pods/proxy and services/proxy reach the kubelet and the in-agent HTTP service', async () => {
  await server.ok(['create', '-f', '-'], { input: podManifest('proxied', 'virtual-node-2') });
  await server.ok(['wait', '--for=condition=Ready', 'pod/proxied', '--timeout=30s']);
  assert.equal(await server.ok(['get', '--raw', '/api/v1/nodes/virtual-node-2/proxy/healthz']), 'ok');
  const summary = JSON.parse(await server.ok(['get', '--raw', '/api/v1/nodes/virtual-node-2/proxy/stats/summary']));
  assert.equal(summary.node.nodeName, 'virtual-node-2');
  assert.ok(summary.pods.some((p: { podRef: { name: string } }) => p.podRef.name === 'proxied'));
  const podsOnNode = JSON.parse(await server.ok(['get', '--raw', '/api/v1/nodes/virtual-node-2/proxy/pods']));
  assert.ok(podsOnNode.items.every((p: { spec: { nodeName: string } }) => p.spec.nodeName === 'virtual-node-2'));
  const hello = await server.ok(['get', '--raw', '/api/v1/namespaces/default/pods/proxied:80/proxy/some/path?x=1']);
  assert.match(hello, /^Hello from default\/proxied on virtual-node-2 \(port 80\)\nGET \/some\/path\?x=1\n/);
  // A selector-less Service with hand-written Endpoints pointing at the pod.
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'front' }, spec: { ports: [{ name: 'http', port: 8080, targetPort: 80 }] } };
  const pod = JSON.parse(await server.ok(['get', 'pod', 'proxied', '-o', 'json']));
  const endpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'front' },
    subsets: [{ addresses: [{ ip: pod.status.podIP, nodeName: 'virtual-node-2', targetRef: { kind: 'Pod', name: 'proxied', namespace: 'default', uid: pod.metadata.uid } }], ports: [{ name: 'http', port: 80 }] }],
  };
  await server.ok(['create', '-f', '-'], { input: JSON.stringify(service) });
  await server.ok(['create', '-f', '-'], { input: JSON.stringify(endpoints) });
  assert.match(await server.ok(['get', '--raw', '/api/v1/namespaces/default/services/front:http/proxy/']), /^Hello from default\/proxied on virtual-node-2 \(port 80\)\nGET \/\n/);
  const none = await server.kubectl(['get', '--raw', '/api/v1/namespaces/default/services/kubernetes/proxy/']);
  assert.notEqual(none.code, 0);
  const unknownNode = await server.kubectl(['get', '--raw', '/api/v1/nodes/no-such-node/proxy/healthz']);
  assert.match(unknownNode.stderr, /NotFound|not found/);
});

test('a Deployment spreads over the nodes; kubectl top nodes and top pods print the agents usage', async () => {
  await server.ok(['create', 'deployment', 'web', '--image=nginx', '--replicas=6']);
  await server.ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
  const pods = JSON.parse(await server.ok(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
  assert.equal(pods.length, 6);
  assert.ok(new Set(pods.map((p: { spec: { nodeName: string } }) => p.spec.nodeName)).size >= 2, 'the scheduler spread them');
  assert.equal(new Set(pods.map((p: { status: { podIP: string } }) => p.status.podIP)).size, 6);
  const top = await server.ok(['top', 'nodes', '--no-headers']);
  const rows = top.trim().split('\n');
  assert.equal(rows.length, 3, top);
  for (const row of rows) assert.match(row.trim(), /^virtual-node-\d\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%$/);
  const topPods = await server.ok(['top', 'pods', '-l', 'app=web', '--no-headers']);
  assert.equal(topPods.trim().split('\n').length, 6, topPods);
  for (const row of topPods.trim().split('\n')) assert.match(row.trim(), /^web-\S+\s+\d+m\s+\d+Mi$/);
  const containers = await server.ok(['top', 'pods', '-l', 'app=web', '--containers', '--no-headers']);
  assert.match(containers, /web-\S+\s+nginx\s+\d+m\s+\d+Mi/);
});

test('an HPA reads PodMetrics and scales a Deployment up when its pods run hot', async () => {
  await server.ok(['create', 'deployment', 'hot', '--image=nginx', '--replicas=1']);
  await server.ok(['patch', 'deployment', 'hot', '--type=merge', '-p', JSON.stringify({ spec: { template: { metadata: { annotations: { 'nautilus.dev/cpu-usage': '90m' } }, spec: { containers: [{ name: 'nginx', image: 'nginx', resources: { requests: { cpu: '100m' } } }] } } } })]);
  await server.ok(['autoscale', 'deployment', 'hot', '--min=1', '--max=3', '--cpu-percent=50']);
  await eventually(async () => {
    const hpa = JSON.parse(await server.ok(['get', 'hpa', 'hot', '-o', 'json']));
    assert.equal(hpa.status.desiredReplicas, 3, JSON.stringify(hpa.status));
  }, 90_000);
  await server.ok(['rollout', 'status', 'deployment/hot', '--timeout=60s']);
});

test('topology-mode Auto: EndpointSlice hints give each of the 3 zones its CPU share; too few endpoints remove them with an event', async () => {
  await server.ok(['create', 'deployment', 'hinted', '--image=nginx', '--replicas=6', '--port=80']);
  await server.ok(['expose', 'deployment', 'hinted', '--port=80']);
  await server.ok(['annotate', 'service', 'hinted', 'service.kubernetes.io/topology-mode=Auto']);
  const endpoints = async () => JSON.parse(await server.ok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=hinted', '-o', 'json'])).items.flatMap((s: { endpoints?: unknown[] }) => s.endpoints ?? []);
  await eventually(async () => {
    const list = await endpoints();
    assert.equal(list.filter((e: { conditions: { ready: boolean } }) => e.conditions.ready).length, 6);
    const byHint: Record<string, number> = {};
    for (const e of list) {
      assert.equal(e.hints?.forZones?.length, 1, JSON.stringify(e));
      byHint[e.hints.forZones[0].name] = (byHint[e.hints.forZones[0].name] ?? 0) + 1;
    }
    assert.deepEqual(byHint, { 'zone-a': 2, 'zone-b': 2, 'zone-c': 2 }, 'equal allocatable CPU: two endpoints for each zone');
  }, 30_000);
  const events = async () => JSON.parse(await server.ok(['get', 'events', '--field-selector', 'involvedObject.name=hinted,involvedObject.kind=Service', '-o', 'json'])).items.map((e: { reason: string; message: string }) => `${e.reason}: ${e.message}`);
  await eventually(async () => assert.ok((await events()).includes('TopologyAwareHintsEnabled: Topology Aware Hints has been enabled, addressType: IPv4')));

  await server.ok(['scale', 'deployment', 'hinted', '--replicas=2']);
  await eventually(async () => {
    const list = await endpoints();
    assert.equal(list.length, 2);
    assert.ok(list.every((e: { hints?: unknown }) => e.hints === undefined), JSON.stringify(list));
  }, 30_000);
  await eventually(async () => assert.ok((await events()).includes('TopologyAwareHintsDisabled: Insufficient number of endpoints (2 endpoints, 3 zones), addressType: IPv4')));
});

test('trafficDistribution PreferClose: every ready endpoint is hinted for its own zone; unset, the hints go; another value is refused', async () => {
  await server.ok(['create', 'deployment', 'close', '--image=nginx', '--replicas=4', '--port=80']);
  await server.ok(['expose', 'deployment', 'close', '--port=80']);
  await server.ok(['patch', 'service', 'close', '--type=merge', '-p', '{"spec":{"trafficDistribution":"PreferClose"}}']);
  const endpoints = async () => JSON.parse(await server.ok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=close', '-o', 'json'])).items.flatMap((s: { endpoints?: unknown[] }) => s.endpoints ?? []);
  await eventually(async () => {
    const list = await endpoints();
    assert.equal(list.filter((e: { conditions: { ready: boolean } }) => e.conditions.ready).length, 4);
    for (const e of list) assert.deepEqual(e.hints, { forZones: [{ name: e.zone }] }, JSON.stringify(e));
  }, 30_000);

  await server.ok(['patch', 'service', 'close', '--type=json', '-p', '[{"op":"remove","path":"/spec/trafficDistribution"}]']);
  await eventually(async () => {
    const list = await endpoints();
    assert.equal(list.length, 4);
    assert.ok(list.every((e: { hints?: unknown }) => e.hints === undefined), JSON.stringify(list));
  }, 30_000);

  const refused = await server.kubectl(['patch', 'service', 'close', '--type=merge', '-p', '{"spec":{"trafficDistribution":"PreferFar"}}']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /spec\.trafficDistribution: Unsupported value: "PreferFar": supported values: "PreferClose"/);
});
