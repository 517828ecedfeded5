/**
 * System objects are protected as upstream: the system namespaces cannot be deleted (403 from
 * NamespaceLifecycle), nothing new is created in a terminating namespace, and the `kubernetes`
 * Service and Endpoints come back when deleted (the bootstrap controller).
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

const SYSTEM = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];

test('deleting a system namespace answers 403 "this namespace may not be deleted"', async () => {
  for (const name of SYSTEM) {
    const result = await server.kubectl(['delete', 'namespace', name]);
    assert.notEqual(result.code, 0, `${name} was deleted`);
    assert.match(result.stderr, new RegExp(`namespaces "${name}" is forbidden: this namespace may not be deleted`));
  }
  const raw = await server.kubectl(['get', '--raw', '/api/v1/namespaces/kube-system']);
  assert.equal(JSON.parse(raw.stdout).metadata.deletionTimestamp, undefined);
});

test('kubectl delete ns --all deletes the user namespaces and leaves the system ones', async () => {
  await server.ok(['create', 'namespace', 'scratch']);
  const result = await server.kubectl(['delete', 'namespace', '--all', '--wait=false']);
  assert.match(result.stderr, /this namespace may not be deleted/);
  assert.match(result.stdout, /namespace "scratch" deleted/);
  const names = (await server.ok(['get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ');
  for (const name of SYSTEM) assert.ok(names.includes(name), `${name} is gone`);
  for (const name of SYSTEM) {
    const phase = await server.ok(['get', 'namespace', name, '-o', 'jsonpath={.status.phase}']);
    assert.equal(phase, 'Active');
  }
});

test('a terminating namespace refuses new objects; a missing one answers 404', async () => {
  await server.ok(['create', 'namespace', 'closing']);
  await server.ok(['create', 'configmap', 'held', '-n', 'closing']);
  await server.ok(['patch', 'configmap', 'held', '-n', 'closing', '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/hold"]}}']);
  await server.ok(['delete', 'namespace', 'closing', '--wait=false']);
  const refused = await server.kubectl(['create', 'configmap', 'late', '-n', 'closing']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /configmaps "late" is forbidden: unable to create new content in namespace closing because it is being terminated/);
  const missing = await server.kubectl(['create', 'configmap', 'x', '-n', 'no-such-namespace']);
  assert.match(missing.stderr, /namespaces "no-such-namespace" not found/);
  await server.ok(['patch', 'configmap', 'held', '-n', 'closing', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  await eventually(async () => {
    const gone = await server.kubectl(['get', 'namespace', 'closing']);
    assert.notEqual(gone.code, 0);
  }, 30_000);
});

test('the kubernetes Service and its Endpoints are recreated when deleted, and the Endpoints put back when changed', async () => {
  const before = JSON.parse(await server.ok(['get', 'endpoints', 'kubernetes', '-o', 'json']));
  await server.ok(['delete', 'service', 'kubernetes']);
  await server.ok(['delete', 'endpoints', 'kubernetes']);
  const service = await eventually(async () => JSON.parse(await server.ok(['get', 'service', 'kubernetes', '-o', 'json'])), 30_000);
  assert.equal(service.spec.clusterIP, '10.96.0.1');
  assert.equal(service.spec.ports[0].port, 443);
  const endpoints = await eventually(async () => JSON.parse(await server.ok(['get', 'endpoints', 'kubernetes', '-o', 'json'])), 30_000);
  assert.deepEqual(endpoints.subsets, before.subsets);
  await server.ok(['patch', 'endpoints', 'kubernetes', '--type=merge', '-p', '{"subsets":[{"addresses":[{"ip":"10.1.2.3"}],"ports":[{"name":"https","port":1,"protocol":"TCP"}]}]}']);
  await eventually(async () => {
    const now = JSON.parse(await server.ok(['get', 'endpoints', 'kubernetes', '-o', 'json']));
    assert.deepEqual(now.subsets, before.subsets);
  }, 30_000);
});
