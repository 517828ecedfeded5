/**
 * Declarative updates behave as upstream: replacing or server-side applying the very manifest a
 * pod was created from is no change (what the server set at create stays), a List replaces each
 * item, a Deployment switches from RollingUpdate to Recreate by client-side apply (retainKeys),
 * and a real change to an immutable pod field is still refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, writeTemp, type TestServer } from './harness.js';

let server: TestServer;

before(async () => {
  server = await startServer(['--ephemeral']);
});
after(async () => {
  await server?.stop();
});

const pod = (name: string, labels: string, restartPolicy = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {${labels}}
spec:
${restartPolicy ? `  restartPolicy: ${restartPolicy}\n` : ''}  containers:
  - name: c
    image: busybox
`;

test('kubectl replace --save-config and apply --server-side of the manifest a pod was created from succeed', async () => {
  const file = await writeTemp(server.dataDir, 'pod.yaml', pod('same', 'app: a'));
  await server.ok(['create', '-f', file]);
  const serverSet = JSON.parse(await server.ok(['get', 'pod', 'same', '-o', 'json'])).spec;
  assert.match(await server.ok(['replace', '-f', file, '--save-config']), /pod\/same replaced/);
  assert.match(await server.ok(['apply', '--server-side', '-f', file]), /pod\/same serverside-applied/);
  assert.match(await server.ok(['apply', '-f', file]), /pod\/same (unchanged|configured)/);
  const after = JSON.parse(await server.ok(['get', 'pod', 'same', '-o', 'json'])).spec;
  for (const field of ['serviceAccountName', 'priority', 'preemptionPolicy', 'tolerations', 'enableServiceLinks']) {
    assert.deepEqual(after[field], serverSet[field], field);
  }
});

test('a replace that really changes an immutable pod field is still refused', async () => {
  await server.ok(['create', '-f', await writeTemp(server.dataDir, 'fixed.yaml', pod('fixed', 'app: a'))]);
  const changed = await writeTemp(server.dataDir, 'fixed-changed.yaml', pod('fixed', 'app: a', 'Never'));
  const result = await server.kubectl(['replace', '-f', changed]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /spec: Forbidden: pod updates may not change fields other than/);
});

test('kubectl replace -f of a List of pods changes their labels', async () => {
  await server.ok(['create', '-f', await writeTemp(server.dataDir, 'l1.yaml', pod('listed-1', 'v: "1"'))]);
  await server.ok(['create', '-f', await writeTemp(server.dataDir, 'l2.yaml', pod('listed-2', 'v: "1"'))]);
  const list = `apiVersion: v1
kind: List
items:
${[1, 2].map((i) => `- apiVersion: v1
  kind: Pod
  metadata: {name: listed-${i}, labels: {v: "2"}}
  spec: {containers: [{name: c, image: busybox}]}`).join('\n')}
`;
  await server.ok(['replace', '-f', await writeTemp(server.dataDir, 'list.yaml', list)]);
  for (const i of [1, 2]) assert.equal(await server.ok(['get', 'pod', `listed-${i}`, '-o', 'jsonpath={.metadata.labels.v}']), '2');
});

test('kubectl apply switches a Deployment from RollingUpdate to Recreate', async () => {
  const deployment = (strategy: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: switcher}
spec:
  selector: {matchLabels: {app: switcher}}
  strategy: ${strategy}
  template:
    metadata: {labels: {app: switcher}}
    spec: {containers: [{name: c, image: busybox}]}
`;
  await server.ok(['apply', '-f', await writeTemp(server.dataDir, 'rolling.yaml', deployment('{type: RollingUpdate, rollingUpdate: {maxSurge: 1}}'))]);
  await server.ok(['apply', '-f', await writeTemp(server.dataDir, 'recreate.yaml', deployment('{type: Recreate}'))]);
  const strategy = JSON.parse(await server.ok(['get', 'deployment', 'switcher', '-o', 'jsonpath={.spec.strategy}']));
  assert.deepEqual(strategy, { type: 'Recreate' });
  // The harder case: the rollingUpdate was the server's default, absent from last-applied; only
  // the published retainKeys patch strategy makes kubectl's patch drop it.
  const defaulted = (strategy: string) => deployment(strategy).replace(/switcher/g, 'defaulted');
  await server.ok(['apply', '-f', await writeTemp(server.dataDir, 'defaulted.yaml', defaulted('{}'))]);
  assert.equal(await server.ok(['get', 'deployment', 'defaulted', '-o', 'jsonpath={.spec.strategy.type}']), 'RollingUpdate');
  await server.ok(['apply', '-f', await writeTemp(server.dataDir, 'defaulted-recreate.yaml', defaulted('{type: Recreate}'))]);
  assert.deepEqual(JSON.parse(await server.ok(['get', 'deployment', 'defaulted', '-o', 'jsonpath={.spec.strategy}'])), { type: 'Recreate' });
  const openapi = JSON.parse(await server.ok(['get', '--raw', '/openapi/v2']));
  assert.equal(openapi.definitions['io.k8s.api.apps.v1.DeploymentSpec'].properties.strategy['x-kubernetes-patch-strategy'], 'retainKeys');
});
