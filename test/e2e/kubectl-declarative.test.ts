/** The declarative workflow through the real kubectl: apply (client- and server-side), patch, diff, edit, replace, explain. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod } from 'node:fs/promises';
import { startServer, writeTemp, type TestServer } from './harness.js';

let server: TestServer;

before(async () => {
  server = await startServer(['--ephemeral']);
  await server.ok(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: decl}\n' });
});
after(async () => {
  await server?.stop();
});

function deployment(options: { replicas?: number; image?: string; ports?: number[]; extraLabel?: string }): string {
  const ports = (options.ports ?? [80, 443]).map((p) => `        - containerPort: ${p}`).join('\n');
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: decl
  labels:
    app: web${options.extraLabel ? `\n    extra: ${options.extraLabel}` : ''}
spec:
  replicas: ${options.replicas ?? 2}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: ${options.image ?? 'nginx:1.26'}
        ports:
${ports}
`;
}

const get = (path: string) => server.ok(['get', 'deployment', 'web', '-n', 'decl', '-o', `jsonpath=${path}`]);

describe('kubectl apply, patch, diff, edit, replace and explain', () => {
  test('apply creates, re-apply is unchanged, a change is configured', async () => {
    const file = await writeTemp(server.dataDir, 'web.yaml', deployment({}));
    assert.match(await server.ok(['apply', '-f', file]), /deployment.apps\/web created/);
    assert.match(await server.ok(['apply', '-f', file]), /deployment.apps\/web unchanged/);
    const changed = await writeTemp(server.dataDir, 'web.yaml', deployment({ image: 'nginx:1.27' }));
    assert.match(await server.ok(['apply', '-f', changed]), /deployment.apps\/web configured/);
    assert.equal(await get('{.spec.template.spec.containers[0].image}'), 'nginx:1.27');
    assert.match(await get('{.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}'), /nginx:1\.27/);
  });

  test('three-way merge keeps fields set by others and removes a dropped container port', async () => {
    await server.ok(['label', 'deployment', 'web', '-n', 'decl', 'owner=ops']);
    await server.ok(['patch', 'deployment', 'web', '-n', 'decl', '--type=strategic', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","env":[{"name":"MODE","value":"prod"}]}]}}}}']);
    const file = await writeTemp(server.dataDir, 'web.yaml', deployment({ image: 'nginx:1.27', ports: [80], replicas: 3 }));
    assert.match(await server.ok(['apply', '-f', file]), /configured/);
    assert.equal(await get('{.metadata.labels.owner}'), 'ops', 'label set by someone else survives');
    assert.equal(await get('{.spec.template.spec.containers[0].env[0].value}'), 'prod', 'env added by patch survives');
    assert.equal(await get('{.spec.template.spec.containers[0].ports[*].containerPort}'), '80', 'port 443 removed');
    assert.equal(await get('{.spec.replicas}'), '3');
  });

  test('diff shows exactly the change (server dry-run)', async () => {
    const file = await writeTemp(server.dataDir, 'web-diff.yaml', deployment({ image: 'nginx:1.28', ports: [80], replicas: 3 }));
    const result = await server.kubectl(['diff', '-f', file]);
    assert.equal(result.code, 1, `diff exits 1 when there are differences: ${result.stderr}`);
    const changes = result.stdout.split('\n').filter((l) => /^[-+]\s/.test(l));
    // As against upstream: the spec change, and the generation it bumps.
    const generation = Number(await get('{.metadata.generation}'));
    assert.deepEqual(changes.map((l) => l.replace(/\s+/g, ' ').trim()), [`- generation: ${generation}`, `+ generation: ${generation + 1}`, '- image: nginx:1.27', '+ image: nginx:1.28']);
    assert.equal(await get('{.spec.template.spec.containers[0].image}'), 'nginx:1.27', 'diff changed nothing');
  });

  test('patch: strategic with $patch: delete, JSON merge, JSON patch, no-op', async () => {
    await server.ok(['patch', 'deployment', 'web', '-n', 'decl', '--type=strategic', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}']);
    assert.equal(await get('{.spec.template.spec.containers[*].name}'), 'sidecar nginx');
    await server.ok(['patch', 'deployment', 'web', '-n', 'decl', '--type=strategic', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}']);
    assert.equal(await get('{.spec.template.spec.containers[*].name}'), 'nginx');
    await server.ok(['patch', 'deployment', 'web', '-n', 'decl', '--type=merge', '-p', '{"metadata":{"labels":{"owner":null,"team":"a"}}}']);
    assert.equal(await get('{.metadata.labels.team}'), 'a');
    assert.equal(await get('{.metadata.labels.owner}'), '');
    await server.ok(['patch', 'deployment', 'web', '-n', 'decl', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":5},{"op":"test","path":"/spec/replicas","value":5}]']);
    assert.equal(await get('{.spec.replicas}'), '5');
    const failed = await server.kubectl(['patch', 'deployment', 'web', '-n', 'decl', '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":1}]']);
    assert.notEqual(failed.code, 0);
    assert.match(await server.ok(['patch', 'deployment', 'web', '-n', 'decl', '--type=merge', '-p', '{"spec":{"replicas":5}}']), /patched \(no change\)/);
    const stale = await server.kubectl(['patch', 'deployment', 'web', '-n', 'decl', '--type=merge', '-p', '{"metadata":{"resourceVersion":"1"},"spec":{"replicas":6}}']);
    assert.match(stale.stderr, /Conflict|the object has been modified/);
  });

  test('edit with a scripted editor', async () => {
    const editor = await writeTemp(server.dataDir, 'editor.sh', '#!/bin/sh\nsed -i "s/replicas: 5/replicas: 7/" "$1"\n');
    await chmod(editor, 0o755);
    const out = await server.ok(['edit', 'deployment', 'web', '-n', 'decl'], { env: { EDITOR: editor, KUBE_EDITOR: editor } } as never);
    assert.match(out, /deployment.apps\/web edited/);
    assert.equal(await get('{.spec.replicas}'), '7');
  });

  test('replace and replace --force', async () => {
    const yaml = await server.ok(['get', 'deployment', 'web', '-n', 'decl', '-o', 'yaml']);
    const file = await writeTemp(server.dataDir, 'replace.yaml', yaml.replace(/replicas: 7/, 'replicas: 4'));
    assert.match(await server.ok(['replace', '-f', file]), /deployment.apps\/web replaced/);
    assert.equal(await get('{.spec.replicas}'), '4');
    const uid = await get('{.metadata.uid}');
    const forced = await writeTemp(server.dataDir, 'forced.yaml', deployment({ replicas: 1 }));
    assert.match(await server.ok(['replace', '--force', '-f', forced]), /replaced/);
    assert.notEqual(await get('{.metadata.uid}'), uid, 'replace --force deletes and recreates');
  });

  test('server-side apply: conflict between managers, then --force-conflicts', async () => {
    const manifest = `apiVersion: v1
kind: ConfigMap
metadata: {name: ssa, namespace: decl}
data: {color: blue, size: large}
`;
    const file = await writeTemp(server.dataDir, 'ssa.yaml', manifest);
    assert.match(await server.ok(['apply', '--server-side', '-f', file]), /configmap\/ssa serverside-applied/);
    const other = await writeTemp(server.dataDir, 'ssa-other.yaml', manifest.replace('color: blue, size: large', 'color: red'));
    const conflict = await server.kubectl(['apply', '--server-side', '--field-manager=other', '-f', other]);
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.data\.color/);
    assert.match(await server.ok(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', other]), /serverside-applied/);
    const cm = JSON.parse(await server.ok(['get', 'configmap', 'ssa', '-n', 'decl', '-o', 'json', '--show-managed-fields']));
    assert.equal(cm.data.color, 'red');
    const managers = cm.metadata.managedFields.map((m: { manager: string; operation: string }) => `${m.manager}/${m.operation}`).sort();
    assert.deepEqual(managers, ['kubectl/Apply', 'other/Apply']);
    // The first manager drops "size": it owned it alone, so it goes.
    const dropped = await writeTemp(server.dataDir, 'ssa.yaml', manifest.replace(', size: large', ''));
    await server.ok(['apply', '--server-side', '--force-conflicts', '-f', dropped]);
    assert.equal(await server.ok(['get', 'configmap', 'ssa', '-n', 'decl', '-o', 'jsonpath={.data.size}']), '');
  });

  test('client-side apply migrates to server-side apply without conflicts', async () => {
    const manifest = (replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: migrate, namespace: decl}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: migrate}}
  template:
    metadata: {labels: {app: migrate}}
    spec:
      containers: [{name: c, image: busybox}]
`;
    await server.ok(['apply', '-f', '-'], { input: manifest(1) });
    const out = await server.ok(['apply', '--server-side', '-f', '-'], { input: manifest(2) });
    assert.match(out, /deployment.apps\/migrate serverside-applied/);
    const deployment = JSON.parse(await server.ok(['get', 'deployment', 'migrate', '-n', 'decl', '-o', 'json', '--show-managed-fields']));
    assert.equal(deployment.spec.replicas, 2);
    const appliers = deployment.metadata.managedFields.filter((m: { operation: string }) => m.operation === 'Apply').map((m: { manager: string }) => m.manager);
    // kubectl itself also applies the last-applied annotation, as manager kubectl-last-applied.
    assert.deepEqual(appliers.sort(), ['kubectl', 'kubectl-last-applied']);
    const replicasOwners = deployment.metadata.managedFields.filter((m: { fieldsV1: { 'f:spec'?: Record<string, unknown> } }) => m.fieldsV1['f:spec']?.['f:replicas']).map((m: { manager: string }) => m.manager);
    assert.deepEqual(replicasOwners, ['kubectl'], 'the server-side applier now owns what client-side apply set');
  });

  test('apply --prune with a label selector removes what the manifest no longer has', async () => {
    const doc = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: decl, labels: {set: pruned}}\ndata: {k: v}\n`;
    const both = await writeTemp(server.dataDir, 'prune.yaml', `${doc('p1')}---\n${doc('p2')}`);
    await server.ok(['apply', '-f', both]);
    const one = await writeTemp(server.dataDir, 'prune.yaml', doc('p1'));
    const out = await server.ok(['apply', '--prune', '-l', 'set=pruned', '-f', one]);
    assert.match(out, /configmap\/p2 pruned/);
    assert.equal((await server.ok(['get', 'configmaps', '-n', 'decl', '-l', 'set=pruned', '-o', 'name'])).trim(), 'configmap/p1');
  });

  test('create -f with an unknown field fails with upstream strict validation', async () => {
    const bad = await server.kubectl(['create', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad, namespace: decl}\ndata: {a: b}\nbogus: 1\n' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown field "bogus"/);
    const badPod = await server.kubectl(['create', '-f', '-'], { input: 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad, namespace: decl}\nspec:\n  containers:\n  - name: c\n    image: busybox\n    imagePullPolicyy: Always\n' });
    assert.match(badPod.stderr, /unknown field "spec\.containers\[0\]\.imagePullPolicyy"/);
  });

  test('explain at several depths', async () => {
    assert.match(await server.ok(['explain', 'pods']), /KIND:\s+Pod/);
    const containers = await server.ok(['explain', 'pod.spec.containers']);
    assert.match(containers, /FIELD:\s+containers/);
    assert.match(containers, /image\s+<string>/);
    const probe = await server.ok(['explain', 'deployment.spec.template.spec.containers.livenessProbe.httpGet.port']);
    assert.match(probe, /IntOrString|int-or-string/);
  });
});
