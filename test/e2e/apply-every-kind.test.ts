/**
 * Objects round-trip as upstream's typed decoding does: applying an unchanged manifest holding
 * one object of every built-in kind the server lets a client apply (derived from discovery) is
 * `unchanged` on the second client-side apply and no write on the second server-side apply,
 * with the real kubectl 1.32 and 1.27.
 *
 * kubectl's client-side apply prints `unchanged` exactly when its three-way strategic merge
 * patch (last-applied → manifest, live → manifest) is `{}`: it then sends nothing. So the server
 * must keep every value the manifest wrote as written and must not add values inside lists
 * that are replaced whole, and the published patch strategies must be upstream's (webhooks
 * merge by name, for example; the server's defaults inside them would otherwise differ).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { KUBECTL, KUBECTL_OLDEST, startServer, writeTemp, type TestServer } from './harness.js';
import { everyKindManifest } from './fixtures/every-kind.js';

let server: TestServer;

before(async () => {
  server = await startServer(['--ephemeral']);
});
after(async () => {
  await server?.stop();
});

interface DiscoveredResource {
  name: string;
  kind: string;
  verbs: string[];
}

/** group/kind of every served resource a client can create, read and patch (so apply). */
async function appliableKinds(): Promise<Set<string>> {
  const kinds = new Set<string>();
  const add = (group: string, resources: DiscoveredResource[]) => {
    for (const r of resources) {
      if (r.name.includes('/')) continue;
      if (['create', 'get', 'patch'].every((verb) => r.verbs.includes(verb))) kinds.add(`${group}/${r.kind}`);
    }
  };
  add('', JSON.parse(await server.ok(['get', '--raw', '/api/v1'])).resources);
  const groups = JSON.parse(await server.ok(['get', '--raw', '/apis'])).groups as { name: string; versions: { groupVersion: string }[] }[];
  for (const group of groups) {
    for (const { groupVersion } of group.versions) add(group.name, JSON.parse(await server.ok(['get', '--raw', `/apis/${groupVersion}`])).resources);
  }
  return kinds;
}

function manifestKinds(manifest: string): Set<string> {
  return new Set(parseAllDocuments(manifest).map((doc) => {
    const { apiVersion, kind } = doc.toJS() as { apiVersion: string; kind: string };
    return `${apiVersion.includes('/') ? apiVersion.split('/')[0] : ''}/${kind}`;
  }));
}

const documentCount = (manifest: string) => parseAllDocuments(manifest).length;
const lines = (output: string) => output.split('\n').filter((line) => line.trim() !== '');

interface Written {
  resourceVersion: string;
  /** What the apply itself wrote: its managedFields entry (time and fields) and the generation. */
  byApply: string;
}

/** apiVersion/kind/name → what was last written, for every object of the manifest. */
async function written(file: string, manager: string): Promise<Map<string, Written>> {
  const { items } = JSON.parse(await server.ok(['get', '-f', file, '-o', 'json'])) as {
    items: { apiVersion: string; kind: string; metadata: { name: string; resourceVersion: string; generation?: number; managedFields?: { manager: string; operation: string }[] } }[];
  };
  return new Map(items.map(({ apiVersion, kind, metadata }) => [`${apiVersion}/${kind}/${metadata.name}`, {
    resourceVersion: metadata.resourceVersion,
    byApply: JSON.stringify([metadata.generation, metadata.managedFields?.filter((f) => f.manager === manager && f.operation === 'Apply')]),
  }]));
}

test('the manifest holds one object of every kind discovery says a client can apply', async () => {
  const served = await appliableKinds();
  const inManifest = manifestKinds(everyKindManifest('x'));
  assert.deepEqual([...served].filter((kind) => !inManifest.has(kind)).sort(), [], 'served kinds missing from the manifest');
  assert.ok(served.size >= 45, `only ${served.size} appliable kinds discovered`);
});

for (const [binary, suffix] of [[KUBECTL, 'a'], [KUBECTL_OLDEST, 'b']] as const) {
  test(`kubectl apply (${binary.split('/').pop()}) of the unchanged manifest reports unchanged for every object`, async () => {
    const manifest = everyKindManifest(suffix);
    const file = await writeTemp(server.dataDir, `every-${suffix}.yaml`, manifest);
    const first = lines(await server.ok(['apply', '-f', file], { binary }));
    assert.equal(first.length, documentCount(manifest));
    const second = lines(await server.ok(['apply', '-f', file], { binary }));
    assert.equal(second.length, documentCount(manifest));
    assert.deepEqual(second.filter((line) => !line.endsWith(' unchanged')), []);
  });
}

for (const [binary, suffix] of [[KUBECTL, 'c'], [KUBECTL_OLDEST, 'd']] as const) {
  test(`kubectl apply --server-side (${binary.split('/').pop()}) of the unchanged manifest writes nothing`, async () => {
    const file = await writeTemp(server.dataDir, `every-${suffix}.yaml`, everyKindManifest(suffix));
    await server.ok(['apply', '--server-side', '-f', file], { binary });
    const before = await written(file, 'kubectl');
    assert.equal(before.size, documentCount(everyKindManifest(suffix)));
    await server.ok(['apply', '--server-side', '-f', file], { binary });
    const after = await written(file, 'kubectl');
    // A controller may write an object meanwhile (the scheduler reports the pod unschedulable);
    // the second apply itself must change nothing: its managed fields entry and the generation stay.
    const changed = [...before].filter(([key, was]) => after.get(key)!.byApply !== was.byApply).map(([key]) => key);
    assert.deepEqual(changed, []);
    const rewritten = [...before].filter(([key, was]) => after.get(key)!.resourceVersion !== was.resourceVersion).map(([key]) => key);
    assert.ok(rewritten.length <= 2, `rewritten: ${rewritten.join(', ')}`);
  });
}

const roleBinding = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: subjects, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: nobody}
subjects:
- {kind: ServiceAccount, name: default, namespace: default, apiGroup: ""}
- {kind: User, name: alice}
- {kind: Group, name: devs, apiGroup: ""}
`;

test('a RoleBinding with empty and missing subject apiGroups decodes and defaults as upstream', async () => {
  const file = await writeTemp(server.dataDir, 'subjects.yaml', roleBinding);
  await server.ok(['apply', '-f', file]);
  const live = JSON.parse(await server.ok(['get', 'rolebinding', 'subjects', '-o', 'json']));
  // The empty string is dropped (omitempty); User and Group, with no group or an empty one
  // (zero to Go's defaulter), get rbac.authorization.k8s.io (SetDefaults_Subject).
  assert.deepEqual(live.subjects, [
    { kind: 'ServiceAccount', name: 'default', namespace: 'default' },
    { kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' },
    { kind: 'Group', name: 'devs', apiGroup: 'rbac.authorization.k8s.io' },
  ]);
  const rv = live.metadata.resourceVersion;
  // subjects is an atomic list, so the manifest's list differs from the decoded one: upstream's
  // kubectl sends it again and prints `configured`, and the server finds nothing to change.
  assert.match(await server.ok(['apply', '-f', file]), /rolebinding.rbac.authorization.k8s.io\/subjects configured/);
  assert.equal(await server.ok(['get', 'rolebinding', 'subjects', '-o', 'jsonpath={.metadata.resourceVersion}']), rv);
  // Server-side apply compares decoded objects: the second apply writes nothing.
  await server.ok(['apply', '--server-side', '--force-conflicts', '-f', file]);
  const applied = await server.ok(['get', 'rolebinding', 'subjects', '-o', 'jsonpath={.metadata.resourceVersion}']);
  await server.ok(['apply', '--server-side', '-f', file]);
  assert.equal(await server.ok(['get', 'rolebinding', 'subjects', '-o', 'jsonpath={.metadata.resourceVersion}']), applied);
});
