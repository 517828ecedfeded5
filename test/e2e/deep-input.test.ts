/**
 * Every deep input gets the same clear 400, fast: server-side apply (JSON or YAML, flow or block),
 * create and update in YAML and JSON, and every patch type, for a 100,000-deep document.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rawClient, startServer, type TestServer } from './harness.js';

let server: TestServer;
let client: Awaited<ReturnType<typeof rawClient>>;

before(async () => {
  server = await startServer(['--ephemeral']);
  client = await rawClient(server.kubeconfig);
  await server.ok(['create', 'configmap', 'deep']);
});
after(async () => {
  client?.close();
  await server?.stop();
});

const DEPTH = 100_000;
const MESSAGE = 'the request body is nested too deeply: the maximum depth is 1000';
const jsonDeep = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep","labels":' + '{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH) + '}}';
const yamlFlow = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\n  labels: ' + '['.repeat(DEPTH) + ']'.repeat(DEPTH) + '\n';
const yamlCompact = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  x:\n  ' + '- '.repeat(DEPTH) + 'x\n';
const yamlBlock = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\n  labels:\n' + Array.from({ length: 1500 }, (_, i) => ' '.repeat(i + 4) + 'b:').join('\n') + ' 1\n';

const cases: Array<[string, string, string, string]> = [
  ['PATCH', '/api/v1/namespaces/default/configmaps/deep?fieldManager=t', 'application/apply-patch+yaml', jsonDeep],
  ['PATCH', '/api/v1/namespaces/default/configmaps/deep?fieldManager=t', 'application/apply-patch+yaml', yamlFlow],
  ['PATCH', '/api/v1/namespaces/default/configmaps/deep?fieldManager=t', 'application/apply-patch+yaml', yamlCompact],
  ['PATCH', '/api/v1/namespaces/default/configmaps/deep?fieldManager=t', 'application/apply-patch+yaml', yamlBlock],
  ['POST', '/api/v1/namespaces/default/configmaps', 'application/yaml', yamlFlow],
  ['PUT', '/api/v1/namespaces/default/configmaps/deep', 'application/yaml', yamlCompact],
  ['POST', '/api/v1/namespaces/default/configmaps', 'application/json', jsonDeep],
  ['PATCH', '/api/v1/namespaces/default/configmaps/deep', 'application/strategic-merge-patch+json', jsonDeep],
  ['PATCH', '/api/v1/namespaces/default/configmaps/deep', 'application/merge-patch+json', jsonDeep],
  ['PATCH', '/api/v1/namespaces/default/configmaps/deep', 'application/json-patch+json', `[{"op":"add","path":"/data","value":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}}]`],
];

test('a 100,000-deep body answers the same "nested too deeply" 400 on every path', async () => {
  for (const [method, path, contentType, body] of cases) {
    const response = await client.request(method, path, body, { 'content-type': contentType });
    assert.equal(response.status, 400, `${method} ${contentType}: ${response.body.slice(0, 200)}`);
    const status = response.json();
    assert.equal(status.reason, 'BadRequest');
    assert.equal(status.message, MESSAGE, `${method} ${contentType}`);
  }
  assert.equal((await client.request('GET', '/readyz')).body, 'ok');
});

test('ordinary YAML, with block scalars and quoted text full of brackets, still applies', async () => {
  const manifest = [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: ordinary',
    '  annotations:',
    `    note: "${'['.repeat(2000)}"`,
    `    other: '${'{'.repeat(2000)}'`,
    'data:',
    '  script: |',
    `    ${'('.repeat(10)}${'['.repeat(2000)}`,
    `    ${'{'.repeat(2000)}`,
    '  # a comment with [[[[ brackets',
    '  list: "[1, 2]"',
    '',
  ].join('\n');
  const response = await client.request('PATCH', '/api/v1/namespaces/default/configmaps/ordinary?fieldManager=t', manifest, { 'content-type': 'application/apply-patch+yaml' });
  assert.equal(response.status, 201, response.body.slice(0, 300));
});
