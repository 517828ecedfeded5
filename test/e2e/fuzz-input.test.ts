/**
 * Malformed objects of every served kind, sent over HTTP: each answer is a Status with a client
 * error code (or a created object), never a 500, and the server stays up. Bounded: a fixed
 * sample per kind, drawn with a seeded generator so a failure reproduces.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { allKinds } from '../../src/registry/catalog.js';
import { rawClient, startServer, type TestServer } from './harness.js';

const PER_KIND = 40;
const MALFORMED: unknown[] = [null, 'x', 5, -1, 1.5, true, [], [null], [1], ['a'], {}, { a: null }, { a: [1] }];
const FIELDS = ['spec', 'data', 'status', 'metadata', 'subsets', 'rules', 'subjects', 'roleRef', 'involvedObject', 'template', 'type', 'value', 'spec.selector', 'spec.template', 'spec.template.spec', 'spec.template.spec.containers', 'spec.ports', 'spec.replicas', 'spec.containers', 'spec.jobTemplate', 'spec.schedule', 'metadata.labels', 'metadata.annotations', 'metadata.finalizers', 'metadata.ownerReferences', 'metadata.name'];

let server: TestServer;
let client: Awaited<ReturnType<typeof rawClient>>;

before(async () => {
  server = await startServer(['--ephemeral']);
  client = await rawClient(server.kubeconfig);
});
after(async () => {
  client?.close();
  await server?.stop();
});

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function setPath(object: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let current = object;
  for (const part of parts.slice(0, -1)) {
    if (typeof current[part] !== 'object' || current[part] === null || Array.isArray(current[part])) current[part] = {};
    current = current[part] as Record<string, unknown>;
  }
  current[parts[parts.length - 1]] = value;
}

test('malformed objects of every kind get 4xx Status answers, never a 500', { timeout: 120_000 }, async () => {
  const random = seeded(Number(process.env.FUZZ_SEED ?? 42));
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  let created = 0;
  for (const kind of allKinds) {
    const apiVersion = kind.group ? `${kind.group}/${kind.version}` : kind.version;
    const base = kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
    const path = kind.namespaced ? `${base}/namespaces/default/${kind.plural}` : `${base}/${kind.plural}`;
    for (let i = 0; i < PER_KIND; i++) {
      const body: Record<string, unknown> = { apiVersion, kind: kind.kind, metadata: { name: `fuzz-${i}`, ...(kind.namespaced ? { namespace: 'default' } : {}) } };
      const mutations = 1 + Math.floor(random() * 3);
      for (let m = 0; m < mutations; m++) setPath(body, pick(FIELDS), structuredClone(pick(MALFORMED)));
      const response = await client.request('POST', path, JSON.stringify(body));
      assert.ok(response.status < 500, `${kind.plural}: ${response.status} for ${JSON.stringify(body)}: ${response.body.slice(0, 300)}`);
      if (response.status === 201) created++;
      else assert.equal(response.json().kind, 'Status', `${kind.plural}: the answer is a Status`);
    }
  }
  assert.equal((await client.request('GET', '/readyz')).body, 'ok');
  assert.ok(created < allKinds.length * PER_KIND, 'most malformed objects are refused');
});

test('random bytes in any content type never take the server down', async () => {
  const random = seeded(7);
  const types = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
  for (let i = 0; i < 200; i++) {
    const length = Math.floor(random() * 400);
    const bytes = Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
    if (i % 3 === 0 && length > 4) bytes.write('k8s\u0000', 0, 'latin1');
    const type = types[i % types.length];
    const method = type.includes('patch') ? 'PATCH' : 'POST';
    const path = method === 'PATCH' ? '/api/v1/namespaces/default/configmaps/fuzz-target' : '/api/v1/namespaces/default/configmaps';
    const response = await client.request(method, `${path}${type.includes('apply') ? '?fieldManager=fuzz' : ''}`, bytes, { 'content-type': type });
    assert.ok(response.status >= 400 && response.status < 500, `${type}: ${response.status} ${response.body.slice(0, 200)}`);
  }
  assert.equal((await client.request('GET', '/readyz')).body, 'ok');
});
