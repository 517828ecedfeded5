/** createOpenApi: the served documents, content negotiation, hashes, ETags and caching headers. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createOpenApi } from '../../../src/api/openapi/index.js';
import { refName, type Schema } from '../../../src/api/openapi/definitions.js';
import { SERVED } from './fixtures.js';

const api = createOpenApi(SERVED);
const noQuery = new URLSearchParams();
const PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

type Json = Record<string, any>;

function get(path: string, headers: { accept?: string; ifNoneMatch?: string } = {}, query = noQuery) {
  const response = api.handle(path, query, headers);
  assert.ok(response, `${path} was not handled`);
  return response;
}

const json = (body: Buffer): Json => JSON.parse(body.toString('utf8'));
const sha512Upper = (body: Buffer) => createHash('sha512').update(body).digest('hex').toUpperCase();

test('paths outside /openapi are not handled', () => {
  assert.equal(api.handle('/api/v1/pods', noQuery, {}), undefined);
  assert.equal(api.handle('/openapi', noQuery, {}), undefined);
});

test('the v3 index lists each served group-version with the hash of its document', () => {
  const index = json(get('/openapi/v3').body);
  assert.deepEqual(Object.keys(index.paths).sort(), ['api/v1', 'apis/apps/v1', 'apis/rbac.authorization.k8s.io/v1']);
  for (const [key, entry] of Object.entries<{ serverRelativeURL: string }>(index.paths)) {
    const url = new URL(entry.serverRelativeURL, 'https://server');
    assert.equal(url.pathname, `/openapi/v3/${key}`);
    const hash = url.searchParams.get('hash')!;
    const document = get(url.pathname, { accept: 'application/json' }, url.searchParams);
    assert.equal(document.status, 200);
    assert.equal(hash, sha512Upper(document.body));
    assert.equal(document.headers.ETag, `"${hash}"`);
    assert.equal(document.headers['Cache-Control'], 'public, immutable');
    assert.ok(Date.parse(document.headers.Expires!) > Date.now() + 300 * 24 * 3600 * 1000);
  }
});

test('a group-version document repeats the same bytes, answers 304 to its ETag, and redirects a stale hash', () => {
  const first = get('/openapi/v3/apis/apps/v1');
  const second = get('/openapi/v3/apis/apps/v1');
  assert.equal(first.body, second.body, 'the serialized document is reused');
  assert.equal(first.headers['Cache-Control'], undefined, 'only hashed URLs are immutable');
  const etag = first.headers.ETag!;
  const notModified = get('/openapi/v3/apis/apps/v1', { ifNoneMatch: etag });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.body.length, 0);
  assert.equal(get('/openapi/v3/apis/apps/v1', { ifNoneMatch: `"other", W/${etag}` }).status, 304);
  assert.equal(get('/openapi/v3/apis/apps/v1', { ifNoneMatch: '"other"' }).status, 200);
  const stale = get('/openapi/v3/apis/apps/v1', {}, new URLSearchParams({ hash: 'ABC' }));
  assert.equal(stale.status, 301);
  assert.equal(stale.headers.Location, `/openapi/v3/apis/apps/v1?hash=${etag.slice(1, -1)}`);
});

test('the v3 index itself has an ETag and answers 304', () => {
  const index = get('/openapi/v3');
  assert.equal(index.headers.ETag, `"${sha512Upper(index.body)}"`);
  assert.equal(get('/openapi/v3', { ifNoneMatch: index.headers.ETag }).status, 304);
});

test('unknown group-versions and unservable media types get Status errors', () => {
  const missing = get('/openapi/v3/apis/batch/v1');
  assert.equal(missing.status, 404);
  assert.equal(json(missing.body).reason, 'NotFound');
  assert.equal(get('/openapi/v3/apis/apps/v1', { accept: 'application/com.github.proto-openapi.spec.v3@v1.0+protobuf' }).status, 406);
  assert.equal(get('/openapi/v2', { accept: 'text/html' }).status, 406);
  assert.equal(get('/openapi/v2', { accept: 'application/json;q=0, text/plain' }).status, 406);
});

test('a group-version document holds its operations with upstream extensions and parameters', () => {
  const doc = json(get('/openapi/v3/apis/apps/v1').body);
  assert.equal(doc.openapi, '3.0.0');
  const item = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
  assert.ok(item, 'item path missing');
  assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: 'apps', version: 'v1', kind: 'Deployment' });
  assert.equal(item.patch['x-kubernetes-action'], 'patch');
  assert.equal(item.patch.operationId, 'patchAppsV1NamespacedDeployment');
  assert.deepEqual(Object.keys(item.patch.requestBody.content).sort(), [
    'application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json',
    'application/strategic-merge-patch+json']);
  assert.deepEqual(item.parameters.map((p: Json) => p.name), ['name', 'namespace', 'pretty']);
  // Without the option, kubectl must see no fieldValidation parameter and validate client-side.
  assert.ok(!item.patch.parameters.some((p: Json) => p.name === 'fieldValidation'));
  const collection = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments'];
  assert.equal(collection.get['x-kubernetes-action'], 'list');
  assert.ok(collection.get.parameters.some((p: Json) => p.name === 'watch' && p.in === 'query'));
  assert.equal(collection.get.responses['200'].content['application/json'].schema.$ref,
    '#/components/schemas/io.k8s.api.apps.v1.DeploymentList');
  assert.equal(collection.post['x-kubernetes-action'], 'post');
  assert.equal(doc.paths['/apis/apps/v1/deployments'].get.operationId, 'listAppsV1DeploymentForAllNamespaces');
  const scale = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'];
  assert.deepEqual(scale.get['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  assert.ok(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status'].put);
});

test('v3 components are closed under $ref, keep GVKs, and describe ref properties with allOf', () => {
  const doc = json(get('/openapi/v3/api/v1').body);
  const schemas: Record<string, Schema> = doc.components.schemas;
  const dangling: string[] = [];
  const visit = (schema: any) => {
    if (schema === null || typeof schema !== 'object') return;
    if (typeof schema.$ref === 'string') {
      assert.match(schema.$ref, /^#\/components\/schemas\//);
      if (!schemas[schema.$ref.slice('#/components/schemas/'.length)]) dangling.push(schema.$ref);
    }
    for (const value of Object.values(schema)) visit(value);
  };
  visit(doc);
  assert.deepEqual(dangling, []);
  assert.deepEqual(schemas['io.k8s.api.core.v1.Pod']?.['x-kubernetes-group-version-kind'], [{ group: '', version: 'v1', kind: 'Pod' }]);
  const containers = schemas['io.k8s.api.core.v1.PodSpec']!.properties!.containers!;
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.match(containers.description!, /List of containers/);
  const creation = schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']!.properties!.creationTimestamp!;
  assert.deepEqual(creation.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time' }]);
  assert.ok(creation.description);
  assert.equal(schemas['io.k8s.api.apps.v1.Deployment'], undefined, 'other group-versions stay out');
  const pods = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/log'];
  assert.equal(pods.get.responses['200'].content['text/plain'].schema.type, 'string');
  assert.equal(doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/eviction'].post['x-kubernetes-group-version-kind'].kind, 'Eviction');
  assert.ok(doc.paths['/api/v1/namespaces/{name}'], 'cluster-scoped item path');
  assert.equal(doc.paths['/api/v1/namespaces/{namespace}/namespaces'], undefined);
});

test('v2 JSON covers exactly the served kinds and what they reference', () => {
  const response = get('/openapi/v2', { accept: 'application/json' });
  assert.equal(response.headers['Content-Type'], 'application/json');
  const doc = json(response.body);
  assert.equal(doc.swagger, '2.0');
  const names = Object.keys(doc.definitions);
  assert.ok(names.includes('io.k8s.api.core.v1.Pod'));
  assert.ok(names.includes('io.k8s.api.rbac.v1.ClusterRoleList'));
  assert.ok(names.includes('io.k8s.api.policy.v1.Eviction'), 'subresource kinds are included');
  assert.ok(!names.some((n) => n.startsWith('io.k8s.api.batch.')), 'unserved groups stay out');
  for (const name of names) {
    const text = JSON.stringify(doc.definitions[name]);
    for (const match of text.matchAll(/"\$ref":"([^"]+)"/g)) assert.ok(doc.definitions[refName(match[1]!)], `${name} -> ${match[1]}`);
  }
  const deleteOptions = doc.definitions['io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions']['x-kubernetes-group-version-kind'];
  assert.deepEqual(deleteOptions.map((g: Json) => `${g.group}/${g.version}`),
    ['/v1', 'apps/v1', 'rbac.authorization.k8s.io/v1']);
  assert.deepEqual(api.definitions(), doc.definitions);
  assert.equal(doc.paths['/api/v1/namespaces/{namespace}/pods'].post['x-kubernetes-group-version-kind'].kind, 'Pod');
});

test('v2 protobuf is served to kubectl with the parseable content type, and JSON is the default', () => {
  const protobuf = get('/openapi/v2', { accept: PROTOBUF });
  assert.equal(protobuf.status, 200);
  assert.equal(protobuf.headers['Content-Type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  assert.equal(protobuf.headers.ETag, `"${sha512Upper(protobuf.body)}"`);
  assert.equal(get('/openapi/v2', { accept: PROTOBUF, ifNoneMatch: protobuf.headers.ETag }).status, 304);
  assert.equal(get('/openapi/v2', { accept: `${PROTOBUF}, application/json` }).headers['Content-Type'], protobuf.headers['Content-Type']);
  assert.equal(get('/openapi/v2').headers['Content-Type'], 'application/json');
  assert.equal(get('/openapi/v2', { accept: '*/*' }).headers['Content-Type'], 'application/json');
});

test('definitionNameFor resolves served kinds only', () => {
  assert.equal(api.definitionNameFor('apps', 'v1', 'Deployment'), 'io.k8s.api.apps.v1.Deployment');
  assert.equal(api.definitionNameFor('', 'v1', 'Pod'), 'io.k8s.api.core.v1.Pod');
  assert.equal(api.definitionNameFor('', 'v1', 'PodList'), 'io.k8s.api.core.v1.PodList');
  assert.equal(api.definitionNameFor('batch', 'v1', 'Job'), undefined);
  assert.equal(api.definitionNameFor('apps', 'v2', 'Deployment'), undefined);
});

test('advertising fieldValidation puts it on create, update and patch', () => {
  const strict = createOpenApi(SERVED, { advertiseFieldValidation: true });
  const doc = json(strict.handle('/openapi/v3/api/v1', noQuery, {})!.body);
  const item = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}'];
  for (const op of [item.patch, item.put, doc.paths['/api/v1/namespaces/{namespace}/pods'].post]) {
    assert.ok(op.parameters.some((p: Json) => p.name === 'fieldValidation' && p.in === 'query'), op.operationId);
  }
  assert.ok(!item.get.parameters.some((p: Json) => p.name === 'fieldValidation'));
});

test('a served kind without a known schema gets no paths rather than an error', () => {
  const withUnknown = createOpenApi([...SERVED, { group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets',
    namespaced: true, verbs: ['get'], subresources: [] }]);
  const index = json(withUnknown.handle('/openapi/v3', noQuery, {})!.body);
  const widgets = json(withUnknown.handle('/openapi/v3/apis/example.com/v1', noQuery, {})!.body);
  assert.ok(index.paths['apis/example.com/v1']);
  assert.deepEqual(widgets.paths, {});
});
