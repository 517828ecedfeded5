/**
 * Query parameters parse as upstream's parameter codec: a boolean is false only for `0` or
 * `false` (any case), so the Python client's `watch=True` watches; a watch lasts until its
 * timeoutSeconds, whatever `?timeout=` says (upstream ignores it for long-running requests).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, rawClient, startServer, type TestServer } from './harness.js';
import { runPython, SKIP_WITHOUT_PYTHON } from './python-client.js';

let server: TestServer;
let raw: Awaited<ReturnType<typeof rawClient>>;

before(async () => {
  server = await startServer(['--ephemeral']);
  raw = await rawClient(server.kubeconfig);
});
after(async () => {
  raw?.close();
  await server?.stop();
});

test('the Python client watch.stream sees ADDED, MODIFIED and DELETED', { skip: SKIP_WITHOUT_PYTHON }, async () => {
  const script = `
import json, threading
from kubernetes import client, config, watch
config.load_kube_config()
v1 = client.CoreV1Api()
rv = v1.list_namespaced_config_map('default').metadata.resource_version
seen = []
def follow():
    w = watch.Watch()
    for event in w.stream(v1.list_namespaced_config_map, 'default', resource_version=rv, timeout_seconds=30):
        if event['object'].metadata.name != 'py-watched':
            continue
        seen.append(event['type'])
        if event['type'] == 'DELETED':
            w.stop()
t = threading.Thread(target=follow)
t.start()
v1.create_namespaced_config_map('default', {'metadata': {'name': 'py-watched'}, 'data': {'a': '1'}})
v1.patch_namespaced_config_map('py-watched', 'default', {'data': {'a': '2'}})
v1.delete_namespaced_config_map('py-watched', 'default')
t.join()
print(json.dumps(seen))
`;
  assert.deepEqual(JSON.parse(await runPython(script, server.kubeconfig)), ['ADDED', 'MODIFIED', 'DELETED']);
});

test('every true form of watch watches, and only 0 / false forms list', async () => {
  for (const value of ['true', 'True', 'TRUE', '1', 't', 'T']) {
    const lines: string[] = [];
    const stream = raw.stream(`/api/v1/namespaces/default/configmaps?watch=${value}&timeoutSeconds=1`, (line) => lines.push(line));
    assert.equal(await stream.done, 200, value);
    assert.ok(lines.every((line) => 'type' in JSON.parse(line)), `watch=${value} answered ${lines.join('')}`);
  }
  for (const value of ['false', 'False', 'FALSE', '0']) {
    const response = await raw.request('GET', `/api/v1/namespaces/default/configmaps?watch=${value}`);
    assert.equal(response.json().kind, 'ConfigMapList', `watch=${value}`);
  }
});

test('sendInitialEvents=True and allowWatchBookmarks=True give the initial events and their end bookmark', async () => {
  await server.ok(['create', 'configmap', 'initial']);
  const lines: string[] = [];
  const stream = raw.stream('/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=True&allowWatchBookmarks=True&resourceVersionMatch=NotOlderThan&timeoutSeconds=20', (line) => lines.push(line));
  await eventually(async () => {
    const events = lines.map((line) => JSON.parse(line));
    assert.ok(events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'initial'));
    assert.ok(events.some((e) => e.type === 'BOOKMARK' && e.object.metadata.annotations?.['k8s.io/initial-events-end'] === 'true'));
  }, 15_000);
  stream.close();
});

test('force=True takes over conflicting fields in server-side apply', async () => {
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'forced' }, data: { k: 'one' } });
  const apply = (manager: string, force: string, data: string) =>
    raw.request('PATCH', `/api/v1/namespaces/default/configmaps/forced?fieldManager=${manager}${force}`, body.replace('"one"', JSON.stringify(data)), { 'content-type': 'application/apply-patch+yaml' });
  assert.equal((await apply('first', '', 'one')).status, 201);
  assert.equal((await apply('second', '', 'two')).status, 409);
  const forced = await apply('second', '&force=True', 'two');
  assert.equal(forced.status, 200, forced.body);
});

test('a watch outlives ?timeout= (ignored for long-running requests) and ends at timeoutSeconds', async () => {
  const lines: string[] = [];
  const stream = raw.stream('/api/v1/namespaces/default/configmaps?watch=true&timeout=1s&timeoutSeconds=30', (line) => lines.push(line));
  const opened = Date.now();
  // Past the ?timeout= the watch must still deliver; the wait is only a lower bound.
  await new Promise((r) => setTimeout(r, Math.max(0, 2000 - (Date.now() - opened))));
  await server.ok(['create', 'configmap', 'after-timeout']);
  await eventually(async () => assert.ok(lines.some((line) => JSON.parse(line).object?.metadata?.name === 'after-timeout')), 15_000);
  stream.close();
  const short = raw.stream('/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1', () => {});
  assert.equal(await short.done, 200);
});
