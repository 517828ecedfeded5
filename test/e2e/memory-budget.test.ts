/** --memory-budget: events are a ring inside a tenth of the budget; other writes stop at the budget. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, rawClient, startServer, type TestServer } from './harness.js';

let server: TestServer;
let client: Awaited<ReturnType<typeof rawClient>>;
const BUDGET = 400 * 1024;

before(async () => {
  server = await startServer(['--ephemeral', '--memory-budget', '400Ki']);
  client = await rawClient(server.kubeconfig);
});
after(async () => {
  client?.close();
  await server?.stop();
});

test('events never take more than their share: the oldest are evicted', async () => {
  const message = 'x'.repeat(900);
  for (let i = 0; i < 120; i++) {
    const event = { apiVersion: 'v1', kind: 'Event', metadata: { name: `e-${String(i).padStart(3, '0')}`, namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Test', message, type: 'Normal' };
    const response = await client.request('POST', '/api/v1/namespaces/default/events', JSON.stringify(event));
    assert.equal(response.status, 201, response.body);
  }
  await eventually(async () => {
    const list = (await client.request('GET', '/api/v1/namespaces/default/events')).json<{ items: Array<{ metadata: { name: string } }> }>();
    const bytes = list.items.length * 1200;
    assert.ok(list.items.length < 120, `old events were evicted (${list.items.length} left)`);
    assert.ok(bytes < BUDGET / 10 + 5000, 'events stay within a tenth of the budget');
    assert.ok(list.items.some((i) => i.metadata.name === 'e-119'), 'the newest event is kept');
    assert.ok(!list.items.some((i) => i.metadata.name === 'e-000'), 'the oldest event went first');
  });
  const metrics = await client.request('GET', '/metrics');
  assert.match(metrics.body, /nautilus_storage_bytes\{resource="events"\} \d+/);
});

test('writes beyond the budget are refused with 507 and a clear message', async () => {
  let refused;
  for (let i = 0; i < 100 && !refused; i++) {
    const response = await client.request('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `big-${i}` }, data: { blob: 'y'.repeat(20_000) } }));
    if (response.status !== 201) refused = response;
  }
  assert.ok(refused, 'the budget was reached');
  assert.equal(refused.status, 507);
  assert.match(refused.json().message as string, /over its memory budget/);
  assert.equal((await client.request('GET', '/readyz')).body, 'ok');
  assert.equal((await client.request('DELETE', '/api/v1/namespaces/default/configmaps/big-0')).status, 200, 'deletes still work at the budget');
});
