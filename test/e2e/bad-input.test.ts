/** Bad input answers a Kubernetes Status with the right code, and never harms the server. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rawClient, startServer, type TestServer } from './harness.js';

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

async function expectStatus(method: string, path: string, body: string | Buffer | undefined, code: number, reason: string, message: RegExp, headers: Record<string, string> = {}) {
  const response = await client.request(method, path, body, headers);
  assert.equal(response.status, code, `${method} ${path}: ${response.body.slice(0, 300)}`);
  const status = response.json();
  assert.equal(status.kind, 'Status');
  assert.equal(status.code, code);
  assert.equal(status.reason, reason);
  assert.match(String(status.message), message);
  return status;
}

const configMap = (name: string, namespace = 'default') => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace } });

test('malformed JSON and YAML are 400 BadRequest', async () => {
  await expectStatus('POST', '/api/v1/namespaces/default/configmaps', '{"apiVersion": "v1", "kind": ', 400, 'BadRequest', /error decoding request body/);
  await expectStatus('POST', '/api/v1/namespaces/default/configmaps', 'kind: [unclosed', 400, 'BadRequest', /error converting YAML to JSON/, { 'content-type': 'application/yaml' });
  await expectStatus('POST', '/api/v1/namespaces/default/configmaps', '[1,2,3]', 400, 'BadRequest', /must be a JSON object/);
  await expectStatus('POST', '/api/v1/namespaces/default/configmaps', '', 400, 'BadRequest', /body is empty/);
});

test('a body of the wrong kind or namespace for the URL is refused', async () => {
  await expectStatus('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }), 400, 'BadRequest', /kind in the data \(Secret\) does not match the expected kind \(ConfigMap\)/);
  await expectStatus('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'x' } }), 400, 'BadRequest', /API version in the data \(apps\/v1\) does not match the expected API version \(v1\)/);
  await expectStatus('POST', '/api/v1/namespaces/default/configmaps', configMap('x', 'kube-system'), 400, 'BadRequest', /namespace of the provided object does not match the namespace sent on the request/);
  await expectStatus('PUT', '/api/v1/namespaces/default/configmaps/other', configMap('x'), 400, 'BadRequest', /name of the object \(x\) does not match the name on the URL \(other\)/);
});

test('unknown resources and paths are 404, unsupported media types 415, wrong methods 405', async () => {
  await expectStatus('GET', '/api/v1/namespaces/default/widgets', undefined, 404, 'NotFound', /could not find the requested resource/);
  await expectStatus('GET', '/apis/nothing.example.com/v1/things', undefined, 404, 'NotFound', /could not find the requested resource/);
  await expectStatus('GET', '/api/v1/namespaces/default/configmaps/missing', undefined, 404, 'NotFound', /configmaps "missing" not found/);
  await expectStatus('POST', '/api/v1/namespaces/default/configmaps', configMap('x'), 415, 'UnsupportedMediaType', /unknown format/, { 'content-type': 'text/plain' });
  await expectStatus('POST', '/version', '{}', 405, 'MethodNotAllowed', /does not allow this method/);
});

test('a body over 3 MiB is 413 and nothing is stored', async () => {
  const huge = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'huge', namespace: 'default' }, data: { blob: 'x'.repeat(3 * 1024 * 1024 + 10) } });
  await expectStatus('POST', '/api/v1/namespaces/default/configmaps', huge, 413, 'RequestEntityTooLarge', /Request entity too large: limit is 3145728/);
  await expectStatus('GET', '/api/v1/namespaces/default/configmaps/huge', undefined, 404, 'NotFound', /not found/);
});

test('deeply nested documents are refused without crashing the server', async () => {
  const depth = 100_000;
  const nested = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  const body = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep","namespace":"default"},"extra":${nested}}`;
  const response = await client.request('POST', '/api/v1/namespaces/default/configmaps', body);
  assert.equal(response.status, 400, response.body.slice(0, 200));
  assert.match(response.json().message as string, /nested too deeply|maximum call stack|depth/i);
  const yamlNested = 'a:\n' + Array.from({ length: 2000 }, (_, i) => ' '.repeat(i + 1) + 'b:').join('\n') + ' 1\n';
  const yamlResponse = await client.request('POST', '/api/v1/namespaces/default/configmaps', yamlNested, { 'content-type': 'application/yaml' });
  assert.equal(yamlResponse.status, 400);
  assert.equal((await client.request('GET', '/readyz')).body, 'ok');
});

test('validation failures are 422 Invalid with field causes; conflicts are 409', async () => {
  const status = await expectStatus('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'default' } }), 422, 'Invalid', /ConfigMap "" is invalid: metadata.name: Required value/);
  assert.deepEqual((status.details as { causes: unknown[] }).causes[0], { reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' });
  const created = await client.request('POST', '/api/v1/namespaces/default/configmaps', configMap('cas'));
  assert.equal(created.status, 201);
  const rv = created.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion;
  const update = (data: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cas', namespace: 'default', resourceVersion: rv }, data: { k: data } });
  assert.equal((await client.request('PUT', '/api/v1/namespaces/default/configmaps/cas', update('1'))).status, 200);
  await expectStatus('PUT', '/api/v1/namespaces/default/configmaps/cas', update('2'), 409, 'Conflict', /Operation cannot be fulfilled on configmaps "cas": the object has been modified; please apply your changes to the latest version and try again/);
  await expectStatus('POST', '/api/v1/namespaces/default/configmaps', configMap('cas'), 409, 'AlreadyExists', /configmaps "cas" already exists/);
});

test('requests without credentials are anonymous: refused resources (403), public health and version; a bad token is 401', async () => {
  const anonymous = await rawClient(server.kubeconfig, { anonymous: true });
  try {
    const denied = await anonymous.request('GET', '/api/v1/namespaces');
    assert.equal(denied.status, 403);
    assert.equal(denied.json().reason, 'Forbidden');
    assert.equal(denied.json().message, 'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope');
    assert.equal((await anonymous.request('GET', '/readyz')).body, 'ok');
    assert.equal((await anonymous.request('GET', '/version')).json().major, '1');
    const badToken = await anonymous.request('GET', '/version', undefined, { authorization: 'Bearer not-a-token' });
    assert.equal(badToken.status, 401);
    assert.equal(badToken.json().reason, 'Unauthorized');
  } finally {
    anonymous.close();
  }
});

test('list parameters: bad values are 400, a compacted continue token is 410, too large a revision 504', async () => {
  await expectStatus('GET', '/api/v1/configmaps?limit=abc', undefined, 400, 'BadRequest', /invalid limit/);
  await expectStatus('GET', '/api/v1/configmaps?continue=not-a-token', undefined, 400, 'BadRequest', /continue key is not valid/);
  await expectStatus('GET', '/api/v1/configmaps?labelSelector=a%20b%20c', undefined, 400, 'BadRequest', /unable to parse requirement/);
  await expectStatus('GET', '/api/v1/configmaps?resourceVersion=99999999&resourceVersionMatch=Exact', undefined, 504, 'Timeout', /Too large resource version/);
  await expectStatus('GET', '/api/v1/configmaps?resourceVersionMatch=Sometimes&resourceVersion=1', undefined, 400, 'BadRequest', /resourceVersionMatch: Unsupported value/);
});

test('dryRun=All validates and answers without storing', async () => {
  const response = await client.request('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', configMap('dry'));
  assert.equal(response.status, 201);
  assert.equal(response.json<{ metadata: { name: string } }>().metadata.name, 'dry');
  await expectStatus('GET', '/api/v1/namespaces/default/configmaps/dry', undefined, 404, 'NotFound', /not found/);
});

test('values of the wrong type are refused as upstream decoding does', async () => {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'typed' }, status: { nodeInfo: { kernelVersion: 6.1 } } };
  await expectStatus('POST', '/api/v1/nodes', JSON.stringify(node), 400, 'BadRequest', /Node in version "v1" cannot be handled as a Node: json: cannot unmarshal number into Go struct field NodeSystemInfo\.status\.nodeInfo\.kernelVersion of type string/);
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'typed', namespace: 'default' }, spec: { replicas: '3' } };
  await expectStatus('POST', '/apis/apps/v1/namespaces/default/deployments', JSON.stringify(deployment), 400, 'BadRequest', /cannot unmarshal string into Go struct field DeploymentSpec\.spec\.replicas of type int32/);
  // Quantities and int-or-string fields take numbers and strings alike.
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'typed', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }], resources: { limits: { cpu: 1, memory: '1Gi' } }, readinessProbe: { httpGet: { port: 'http' } } }] } };
  assert.equal((await client.request('POST', '/api/v1/namespaces/default/pods', JSON.stringify(pod))).status, 201);
});

test('fieldValidation: Warn drops unknown fields with a Warning header, Ignore drops them silently, Strict refuses', async () => {
  const body = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { a: 'b' }, bogus: 1 });
  const warned = await client.request('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Warn', body('fv-warn'));
  assert.equal(warned.status, 201);
  assert.match(String(warned.headers.warning), /299 - "unknown field \\"bogus\\""/);
  assert.equal('bogus' in warned.json(), false, 'the unknown field is not stored');
  const ignored = await client.request('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Ignore', body('fv-ignore'));
  assert.equal(ignored.status, 201);
  assert.equal(ignored.headers.warning, undefined);
  assert.equal('bogus' in ignored.json(), false);
  await expectStatus('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', body('fv-strict'), 400, 'BadRequest', /ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"/);
});
