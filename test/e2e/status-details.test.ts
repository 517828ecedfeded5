/**
 * Status objects carry upstream's details: kubectl debug reads a 404's details (it panicked when
 * they were missing), and a strategic merge patch of the wrong type answers in the unstructured
 * converter's words, which kubectl's own tests match on.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KUBECTL, KUBECTL_NEWEST, KUBECTL_OLDEST, rawClient, startServer, type TestServer } from './harness.js';

let server: TestServer;
let raw: Awaited<ReturnType<typeof rawClient>>;

before(async () => {
  server = await startServer(['--ephemeral']);
  raw = await rawClient(server.kubeconfig);
  await server.ok(['run', 'target', '--image=busybox']);
});
after(async () => {
  raw?.close();
  await server?.stop();
});

test('kubectl debug prints an error instead of panicking (1.27, 1.32, 1.33)', async () => {
  for (const binary of [KUBECTL_OLDEST, KUBECTL, KUBECTL_NEWEST]) {
    for (const pod of ['target', 'missing-pod']) {
      const result = await server.kubectl(['debug', pod, '--image=busybox'], { binary });
      assert.doesNotMatch(result.stderr, /panic|nil pointer/, `${binary} debug ${pod}: ${result.stderr}`);
      assert.match(result.stderr, /error|Error/, `${binary} debug ${pod}`);
    }
  }
});

test('404s and 403s carry a details object, as upstream constructs them', async () => {
  const noRoute = await raw.request('GET', '/api/v1/namespaces/default/pods/target/nosuchsubresource');
  assert.equal(noRoute.status, 404);
  assert.deepEqual(noRoute.json().details, {});
  const missing = await raw.request('GET', '/api/v1/namespaces/default/pods/nope');
  assert.deepEqual(missing.json().details, { name: 'nope', kind: 'pods' });
  const protectedNs = await raw.request('DELETE', '/api/v1/namespaces/kube-system');
  assert.equal(protectedNs.status, 403);
  assert.deepEqual(protectedNs.json().details, { name: 'kube-system', kind: 'namespaces' });
});

test('a strategic merge patch setting metadata.labels to a string answers "cannot restore map from string"', async () => {
  const result = await server.kubectl(['patch', 'pod', 'target', '-p', '{"metadata":{"labels":"invalid"}}']);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /cannot restore map from string/);
  const response = await raw.request('PATCH', '/api/v1/namespaces/default/pods/target', '{"spec":{"containers":"x"}}', { 'content-type': 'application/strategic-merge-patch+json' });
  assert.equal(response.status, 422);
  const status = response.json<{ message: string; details: { causes: { field: string; message: string }[] } }>();
  assert.equal(status.message, ' "" is invalid: patch: Invalid value: "map[spec:map[containers:x]]": cannot restore slice from string');
  assert.deepEqual(status.details.causes.map((c) => c.field), ['patch']);
  // A merge patch is decoded as JSON, as upstream: the JSON decoder's words.
  const merge = await raw.request('PATCH', '/api/v1/namespaces/default/pods/target', '{"metadata":{"labels":"x"}}', { 'content-type': 'application/merge-patch+json' });
  assert.equal(merge.status, 400);
  assert.match(merge.json<{ message: string }>().message, /cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type object/);
});
