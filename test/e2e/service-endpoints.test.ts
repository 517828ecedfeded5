/**
 * Services get their Endpoints and EndpointSlices, and pods on nodes are deleted gracefully,
 * through the real kubectl: Node objects created by the test, a stand-in kubelet that binds pods
 * to them (until the scheduler lands), reports them Running and Ready, and confirms deletions.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, rawClient, startServer, type TestServer } from './harness.js';
import { startFakeKubelet, type FakeKubelet } from './kubelet.js';

let server: TestServer;
let kubelet: FakeKubelet;
const NODES = ['node-1', 'node-2', 'node-3'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function getJson(args: string[]): Promise<Json> {
  return JSON.parse(await server.ok([...args, '-o', 'json']));
}

const nodeManifest = (name: string, zone: string) => `apiVersion: v1
kind: Node
metadata:
  name: ${name}
  labels: {kubernetes.io/hostname: ${name}, topology.kubernetes.io/zone: ${zone}}
---
`;

before(async () => {
  server = await startServer(['--ephemeral']);
  await server.ok(['create', '-f', '-'], { input: NODES.map((n, i) => nodeManifest(n, `zone-${i % 2}`)).join('') });
  await server.ok(['create', 'namespace', 'net']);
  kubelet = await startFakeKubelet(server.kubeconfig, 'net', 100, { schedule: NODES });
});
after(async () => {
  await kubelet?.stop();
  await server?.stop();
});

function addressCount(endpoints: Json): number {
  return (endpoints.subsets ?? []).reduce((n: number, s: Json) => n + (s.addresses?.length ?? 0), 0);
}

test('expose deployment: Endpoints and one EndpointSlice list the 6 pods; scaling to 2 follows', async () => {
  await server.ok(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=6', '--port=8080', '-n', 'net']);
  await server.ok(['expose', 'deployment', 'web', '--port', '80', '--target-port', '8080', '-n', 'net']);
  const service = await getJson(['get', 'service', 'web', '-n', 'net']);
  assert.match(service.spec.clusterIP, /^\d+\.\d+\.\d+\.\d+$/);

  const endpoints = await eventually(async () => {
    const e = await getJson(['get', 'endpoints', 'web', '-n', 'net']);
    assert.equal(addressCount(e), 6);
    return e;
  }, 60_000);
  const addresses: Json[] = endpoints.subsets[0].addresses;
  assert.equal(new Set(addresses.map((a) => a.ip)).size, 6, 'six distinct pod IPs');
  assert.deepEqual([...new Set(addresses.map((a) => a.nodeName))].sort(), NODES, 'spread over the three nodes');
  assert.deepEqual(endpoints.subsets[0].ports, [{ port: 8080, protocol: 'TCP' }]);
  assert.match(await server.ok(['get', 'endpoints', 'web', '-n', 'net']), /10\.244\.\d+\.\d+:8080,10\.244\.\d+\.\d+:8080,10\.244\.\d+\.\d+:8080 \+ 3 more\.\.\./);

  const slices = await eventually(async () => {
    const list = (await getJson(['get', 'endpointslices', '-n', 'net', '-l', 'kubernetes.io/service-name=web'])).items;
    assert.equal(list.length, 1);
    assert.equal(list[0].endpoints.length, 6);
    return list;
  });
  assert.equal(slices[0].metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
  assert.equal(slices[0].metadata.ownerReferences[0].uid, service.metadata.uid);
  assert.ok(slices[0].endpoints.every((e: Json) => e.conditions.ready === true && /^zone-[01]$/.test(e.zone)));
  assert.match(await server.ok(['get', 'endpointslices', '-n', 'net']), /web-\w{5}\s+IPv4\s+8080\s+10\.244\./);

  await server.ok(['scale', 'deployment', 'web', '--replicas=2', '-n', 'net']);
  await eventually(async () => {
    assert.equal(addressCount(await getJson(['get', 'endpoints', 'web', '-n', 'net'])), 2);
    const [slice] = (await getJson(['get', 'endpointslices', '-n', 'net', '-l', 'kubernetes.io/service-name=web'])).items;
    assert.equal(slice.endpoints.filter((e: Json) => e.conditions.ready).length, 2);
  }, 60_000);
  // The scaled-down pods went through graceful deletion and the kubelet's confirmation.
  await eventually(async () => assert.equal((await getJson(['get', 'pods', '-n', 'net', '-l', 'app=web'])).items.length, 2), 60_000);
});

test('kubectl delete pod on a node: Terminating with a grace period until the kubelet confirms; --grace-period=0 --force at once', async () => {
  await server.ok(['run', 'solo', '--image=busybox', '-n', 'net', '--overrides', JSON.stringify({ spec: { nodeName: 'node-1', terminationGracePeriodSeconds: 120 } })]);
  await eventually(async () => assert.equal((await getJson(['get', 'pod', 'solo', '-n', 'net'])).status.phase, 'Running'));

  // Without the kubelet, the pod waits with its deletion timestamp and grace period.
  kubelet.pause();
  await server.ok(['delete', 'pod', 'solo', '-n', 'net', '--wait=false']);
  const terminating = await getJson(['get', 'pod', 'solo', '-n', 'net']);
  assert.equal(terminating.metadata.deletionGracePeriodSeconds, 120);
  assert.ok(Date.parse(terminating.metadata.deletionTimestamp) > Date.now() + 60_000, 'deletionTimestamp is now + grace');
  assert.match(await server.ok(['get', 'pod', 'solo', '-n', 'net']), /solo\s+1\/1\s+Terminating/);
  kubelet.resume();
  // kubectl delete waits for the pod to be gone; the kubelet's 0-grace delete ends it.
  await server.ok(['wait', '--for=delete', 'pod/solo', '-n', 'net', '--timeout=60s']);

  await server.ok(['run', 'forced', '--image=busybox', '-n', 'net', '--overrides', JSON.stringify({ spec: { nodeName: 'node-2' } })]);
  kubelet.pause();
  const forced = await server.kubectl(['delete', 'pod', 'forced', '-n', 'net', '--grace-period=0', '--force']);
  kubelet.resume();
  assert.equal(forced.code, 0, forced.stderr);
  assert.match((await server.kubectl(['get', 'pod', 'forced', '-n', 'net'])).stderr, /NotFound/);

  // A pod no node runs goes at once.
  await server.ok(['run', 'unbound', '--image=busybox', '-n', 'net', '--overrides', JSON.stringify({ spec: { schedulerName: 'nobody' } })]);
  kubelet.pause();
  await server.ok(['delete', 'pod', 'unbound', '-n', 'net', '--wait=false']);
  kubelet.resume();
  assert.match((await server.kubectl(['get', 'pod', 'unbound', '-n', 'net'])).stderr, /NotFound/);
});

test('the Python client sees the EndpointSlice and the Endpoints as typed objects', async () => {
  const raw = await rawClient(server.kubeconfig);
  try {
    const response = await raw.request('GET', '/apis/discovery.k8s.io/v1/namespaces/net/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb');
    assert.equal(response.status, 200);
  } finally {
    raw.close();
  }
  const script = `
import kubernetes, sys
kubernetes.config.load_kube_config(sys.argv[1])
d = kubernetes.client.DiscoveryV1Api()
s = d.list_namespaced_endpoint_slice('net', label_selector='kubernetes.io/service-name=web').items
c = kubernetes.client.CoreV1Api()
e = c.read_namespaced_endpoints('web', 'net')
print(len(s), sum(len(x.endpoints or []) for x in s), sum(len(x.addresses or []) for x in e.subsets))
`;
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) =>
    execFile('/usr/bin/python3', ['-c', script, server.kubeconfig], { timeout: 60_000 }, (error, stdout, stderr) => (error ? reject(new Error(stderr || String(error))) : resolve(stdout))),
  );
  assert.equal(out.trim(), '1 2 2');
});
