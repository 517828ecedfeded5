/** Watch semantics over HTTP: initial events, resume, bookmarks, selectors, timeouts. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rawClient, startServer, type TestServer } from './harness.js';

let server: TestServer;
let client: Awaited<ReturnType<typeof rawClient>>;

interface WatchEvent {
  type: string;
  object: { kind: string; metadata: { name?: string; resourceVersion: string; annotations?: Record<string, string> }; data?: Record<string, string> };
}

before(async () => {
  server = await startServer(['--ephemeral']);
  client = await rawClient(server.kubeconfig);
});
after(async () => {
  client?.close();
  await server?.stop();
});

const events = (body: string): WatchEvent[] => body.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as WatchEvent);

async function configMap(name: string, data: Record<string, string>, labels: Record<string, string> = {}) {
  const response = await client.request('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data }));
  assert.equal(response.status, 201, response.body);
  return response.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion;
}

test('resourceVersion=0 starts with the current state; a revision resumes after it', async () => {
  const first = await configMap('w-a', { v: '1' });
  await configMap('w-b', { v: '1' });
  const initial = events((await client.request('GET', '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=0&timeoutSeconds=1')).body);
  assert.deepEqual(initial.map((e) => `${e.type} ${e.object.metadata.name}`).filter((e) => e.includes(' w-')), ['ADDED w-a', 'ADDED w-b']);
  const resumed = events((await client.request('GET', `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${first}&timeoutSeconds=1`)).body);
  assert.deepEqual(resumed.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED w-b']);
});

test('sendInitialEvents ends with a bookmark marking the end of the initial events', async () => {
  const body = (await client.request('GET', '/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1')).body;
  const all = events(body);
  const bookmark = all.findIndex((e) => e.type === 'BOOKMARK');
  assert.ok(bookmark > 0, body);
  assert.equal(all[bookmark].object.metadata.annotations?.['k8s.io/initial-events-end'], 'true');
  assert.ok(all.slice(0, bookmark).every((e) => e.type === 'ADDED'));
  assert.equal(all[bookmark].object.kind, 'ConfigMap');
});

test('a label-selected watch sees objects enter and leave the selection', async () => {
  const start = await configMap('w-sel', { v: '1' }, { tier: 'a' });
  const watch = client.request('GET', `/api/v1/namespaces/default/configmaps?watch=true&labelSelector=tier%3Db&resourceVersion=${start}&timeoutSeconds=2`);
  await new Promise((r) => setTimeout(r, 200));
  const patch = (labels: Record<string, string>) =>
    client.request('PATCH', '/api/v1/namespaces/default/configmaps/w-sel', JSON.stringify({ metadata: { labels } }), { 'content-type': 'application/merge-patch+json' });
  assert.equal((await patch({ tier: 'b' })).status, 200);
  assert.equal((await patch({ tier: 'b', extra: 'x' })).status, 200);
  assert.equal((await patch({ tier: 'c' })).status, 200);
  const seen = events((await watch).body).map((e) => e.type);
  assert.deepEqual(seen, ['ADDED', 'MODIFIED', 'DELETED']);
});

test('a watch on one object by field selector, and timeoutSeconds ends the stream', async () => {
  const rv = await configMap('w-one', { v: '1' });
  await configMap('w-other', { v: '1' });
  const started = Date.now();
  const response = await client.request('GET', `/api/v1/namespaces/default/configmaps?watch=true&fieldSelector=metadata.name%3Dw-one&resourceVersion=0&timeoutSeconds=1`);
  assert.ok(Date.now() - started < 5000);
  assert.deepEqual(events(response.body).map((e) => e.object.metadata.name), ['w-one']);
  assert.equal(events(response.body)[0].object.metadata.resourceVersion, rv);
});

test('a malformed resourceVersion on a watch is a 400', async () => {
  const response = await client.request('GET', '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=abc');
  assert.equal(response.status, 400);
});

test('a list with an old resourceVersion (NotOlderThan) serves the latest state, never 410', async () => {
  const response = await client.request('GET', '/api/v1/namespaces/default/configmaps?resourceVersion=1');
  assert.equal(response.status, 200, response.body);
  const list = response.json<{ metadata: { resourceVersion: string } }>();
  assert.ok(Number(list.metadata.resourceVersion) > 1);
  const future = await client.request('GET', '/api/v1/namespaces/default/configmaps?resourceVersion=999999999');
  assert.equal(future.status, 504);
});

test("watchers of one shape share an event's bytes; each shape (type seen, JSON or Table, column headers) still gets its own", async () => {
  const start = await configMap('w-shared', { v: '1' }, { tier: 'x' });
  const table = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' };
  const base = `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${start}&timeoutSeconds=3`;
  const watch = (query: string, headers: Record<string, string> = {}) => client.request('GET', base + query, undefined, headers);
  const json = [watch(''), watch('')];
  const selected = watch('&labelSelector=tier%3Dy');
  const tables = [watch('', table), watch('', table)];
  await new Promise((r) => setTimeout(r, 300));
  const patch = (labels: Record<string, string>, v: string) =>
    client.request('PATCH', '/api/v1/namespaces/default/configmaps/w-shared', JSON.stringify({ metadata: { labels }, data: { v } }), { 'content-type': 'application/merge-patch+json' });
  const second = await patch({ tier: 'x' }, '2');
  assert.equal(second.status, 200);
  // A Table watcher whose first event is another Table watcher's second: it alone gets the column headers.
  const secondVersion = second.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion;
  const late = client.request('GET', `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${secondVersion}&timeoutSeconds=2`, undefined, table);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await patch({ tier: 'y' }, '3')).status, 200);

  const [a, b] = (await Promise.all(json)).map((r) => r.body);
  assert.equal(a, b);
  const lines = a.trim().split('\n');
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as WatchEvent).type), ['MODIFIED', 'MODIFIED']);
  // The selected watcher sees the second change as ADDED, with the object's very bytes.
  assert.equal((await selected).body.trim(), lines[1].replace('{"type":"MODIFIED"', '{"type":"ADDED"'));

  const [t1, t2] = (await Promise.all(tables)).map((r) => r.body.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { columnDefinitions?: unknown[]; rows: unknown[] } }));
  assert.deepEqual(t1, t2);
  assert.ok((t1[0].object.columnDefinitions ?? []).length > 0, 'the first Table event carries the columns');
  assert.equal((t1[1].object.columnDefinitions ?? []).length, 0, 'later ones do not');
  const lateEvents = (await late).body.trim().split('\n').map((l) => JSON.parse(l) as { object: { columnDefinitions?: unknown[]; rows: unknown[] } });
  assert.equal(lateEvents.length, 1);
  assert.ok((lateEvents[0].object.columnDefinitions ?? []).length > 0, 'the late watcher still gets the columns');
  assert.deepEqual(lateEvents[0].object.rows, t1[1].object.rows);
});
