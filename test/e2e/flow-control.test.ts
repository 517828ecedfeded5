/**
 * No noisy neighbour, on the real server: upstream's bootstrap FlowSchemas and priority levels
 * are served (kubectl get), requests carry the X-Kubernetes-PF-* UIDs of where they were
 * classified, a priority level's seats are held while a request runs (a body that has not
 * arrived holds one), beyond them a Reject level answers 429 with Retry-After at once and a
 * Queue level queues up to its limit; other levels and long-running watches are not held up.
 * With --enable-priority-and-fairness=false the plain max-inflight limits do the same by verb.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startServer, type TestServer } from './harness.js';
import { parsePrometheusText, sumOf } from './prometheus-text.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP/2 session with a bearer token; `open` starts a request whose body the caller ends. */
async function session(server: TestServer, token: string) {
  const ca = await readFile(join(server.dataDir, 'pki', 'ca.crt'));
  const h2: ClientHttp2Session = connect(server.url, { ca });
  h2.on('error', () => {});
  const answer = (stream: ClientHttp2Stream) =>
    new Promise<Answer>((resolve, reject) => {
      let status = 0;
      let headers: Answer['headers'] = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => {
        status = Number(h[':status']);
        headers = h as Answer['headers'];
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => resolve({ status, headers, body: Buffer.concat(chunks).toString('utf8') }));
      stream.on('error', reject);
    });
  return {
    open(method: string, path: string) {
      const stream = h2.request({ ':method': method, ':path': path, authorization: `Bearer ${token}`, 'content-type': 'application/json' }, { endStream: false });
      return { answer: answer(stream), finish: (body = '') => stream.end(body) };
    },
    request(method: string, path: string, body?: string) {
      const stream = h2.request({ ':method': method, ':path': path, authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, { endStream: body === undefined });
      if (body !== undefined) stream.end(body);
      return answer(stream);
    },
    /** Resolves with the status once a streamed response (a watch) has sent its headers. */
    watchStatus(path: string): Promise<number> {
      const stream = h2.request({ ':method': 'GET', ':path': path, authorization: `Bearer ${token}` });
      stream.on('error', () => {});
      return new Promise((resolve) => stream.on('response', (h) => resolve(Number(h[':status']))));
    },
    close: () => h2.close(),
  };
}

const configMap = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } });
const uid = async (server: TestServer, resource: string, name: string) => (await server.ok(['get', resource, name, '-o', 'jsonpath={.metadata.uid}'])).trim();

let dir: string;
let tokens: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nautilus-apf-'));
  tokens = join(dir, 'tokens.csv');
  await writeFile(tokens, 'alice-token,alice,1001\nbob-token,bob,1002\ncarol-token,carol,1003\n');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('API Priority and Fairness: bootstrap objects, classification headers, Reject and Queue levels, exempt watches', async () => {
  // One seat in all (1 + 0): every Limited level gets one seat.
  const server = await startServer(['--ephemeral', '--token-auth-file', tokens, '--max-requests-inflight', '1', '--max-mutating-requests-inflight', '0']);
  try {
    const schemas = await server.ok(['get', 'flowschemas', '-o', 'name']);
    for (const name of ['exempt', 'probes', 'system-leader-election', 'endpoint-controller', 'workload-leader-election', 'system-node-high', 'system-nodes', 'kube-controller-manager', 'kube-scheduler', 'kube-system-service-accounts', 'service-accounts', 'global-default', 'catch-all']) {
      assert.match(schemas, new RegExp(`^flowschema.flowcontrol.apiserver.k8s.io/${name}$`, 'm'));
    }
    const levels = await server.ok(['get', 'prioritylevelconfigurations']);
    assert.match(levels, /^NAME\s+TYPE\s+NOMINALCONCURRENCYSHARES\s+QUEUES\s+HANDSIZE\s+QUEUELENGTHLIMIT\s+AGE$/m);
    assert.match(levels, /^global-default\s+Limited\s+20\s+128\s+6\s+50\s/m);
    assert.match(levels, /^exempt\s+Exempt\s+<none>\s+<none>\s+<none>\s+<none>\s/m);
    for (const user of ['alice', 'bob', 'carol']) await server.ok(['create', 'rolebinding', `${user}-edit`, '--clusterrole=edit', `--user=${user}`, '-n', 'default']);

    const alice = await session(server, 'alice-token');
    const bob = await session(server, 'bob-token');
    const carol = await session(server, 'carol-token');
    const plain = await alice.request('GET', '/api/v1/namespaces/default/configmaps');
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['x-kubernetes-pf-flowschema-uid'], await uid(server, 'flowschema', 'global-default'));
    assert.equal(plain.headers['x-kubernetes-pf-prioritylevel-uid'], await uid(server, 'prioritylevelconfiguration', 'global-default'));

    // alice → a level that rejects beyond its one seat; carol → one that queues one request.
    await server.ok(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'PriorityLevelConfiguration', metadata: { name: 'tiny-reject' }, spec: { type: 'Limited', limited: { nominalConcurrencyShares: 1, limitResponse: { type: 'Reject' } } } },
          { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'PriorityLevelConfiguration', metadata: { name: 'tiny-queue' }, spec: { type: 'Limited', limited: { nominalConcurrencyShares: 1, limitResponse: { type: 'Queue', queuing: { queues: 1, handSize: 1, queueLengthLimit: 1 } } } } },
          { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema', metadata: { name: 'alice' }, spec: { priorityLevelConfiguration: { name: 'tiny-reject' }, matchingPrecedence: 500, distinguisherMethod: { type: 'ByUser' }, rules: [{ subjects: [{ kind: 'User', user: { name: 'alice' } }], resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'] }] }] } },
          { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema', metadata: { name: 'carol' }, spec: { priorityLevelConfiguration: { name: 'tiny-queue' }, matchingPrecedence: 500, distinguisherMethod: { type: 'ByUser' }, rules: [{ subjects: [{ kind: 'User', user: { name: 'carol' } }], resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'] }] }] } },
        ],
      }),
    });
    const aliceSchema = await uid(server, 'flowschema', 'alice');
    const carolSchema = await uid(server, 'flowschema', 'carol');
    await eventually(async () => assert.equal((await alice.request('GET', '/api/v1/namespaces/default/configmaps')).headers['x-kubernetes-pf-flowschema-uid'], aliceSchema));
    await eventually(async () => assert.equal((await carol.request('GET', '/api/v1/namespaces/default/configmaps')).headers['x-kubernetes-pf-flowschema-uid'], carolSchema));

    // A create whose body has not arrived holds alice's only seat; requests on one session arrive in order.
    const held = alice.open('POST', '/api/v1/namespaces/default/configmaps');
    const refused = await alice.request('GET', '/api/v1/namespaces/default/configmaps');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.body, 'Too many requests, please try again later.\n');
    assert.equal(refused.headers['x-kubernetes-pf-flowschema-uid'], aliceSchema);
    // Long-running requests hold no seat; other levels are untouched.
    assert.equal(await alice.watchStatus('/api/v1/namespaces/default/configmaps?watch=true'), 200);
    assert.equal((await bob.request('GET', '/api/v1/namespaces/default/configmaps')).status, 200);
    held.finish(configMap('held'));
    assert.equal((await held.answer).status, 201);
    assert.equal((await alice.request('GET', '/api/v1/namespaces/default/configmaps/held')).status, 200);

    // carol: one running, one waiting in the single queue, the next refused; the waiter runs after.
    const running = carol.open('POST', '/api/v1/namespaces/default/configmaps');
    const waiting = carol.request('GET', '/api/v1/namespaces/default/configmaps');
    const overflow = await carol.request('GET', '/api/v1/namespaces/default/configmaps');
    assert.equal(overflow.status, 429);
    // Upstream's apiserver_flowcontrol_* metrics say the same (the scrape itself is exempt).
    const flowMetrics = parsePrometheusText(await server.ok(['get', '--raw', '/metrics']));
    const carolLevel = { priority_level: 'tiny-queue', flow_schema: 'carol' };
    const aliceLevel = { priority_level: 'tiny-reject', flow_schema: 'alice' };
    assert.equal(sumOf(flowMetrics, 'apiserver_flowcontrol_current_inqueue_requests', carolLevel), 1);
    assert.equal(sumOf(flowMetrics, 'apiserver_flowcontrol_current_executing_requests', carolLevel), 1);
    assert.equal(sumOf(flowMetrics, 'apiserver_flowcontrol_rejected_requests_total', { ...carolLevel, reason: 'queue-full' }), 1);
    assert.equal(sumOf(flowMetrics, 'apiserver_flowcontrol_rejected_requests_total', { ...aliceLevel, reason: 'concurrency-limit' }), 1);
    assert.ok(sumOf(flowMetrics, 'apiserver_flowcontrol_dispatched_requests_total', aliceLevel) >= 3);
    assert.equal(sumOf(flowMetrics, 'apiserver_flowcontrol_request_wait_duration_seconds', { ...carolLevel, execute: 'false' }, 'apiserver_flowcontrol_request_wait_duration_seconds_count'), 1);
    running.finish(configMap('carols'));
    assert.equal((await running.answer).status, 201);
    const served = await waiting;
    assert.equal(served.status, 200);
    assert.match(served.body, /"carols"/);
    for (const client of [alice, bob, carol]) client.close();
  } finally {
    await server.stop();
  }
});

test('--enable-priority-and-fairness=false: --max-mutating-requests-inflight refuses writes beyond it, reads and system:masters pass', async () => {
  const server = await startServer(['--ephemeral', '--token-auth-file', tokens, '--enable-priority-and-fairness=false', '--max-mutating-requests-inflight', '1']);
  try {
    await server.ok(['create', 'rolebinding', 'alice-edit', '--clusterrole=edit', '--user=alice', '-n', 'default']);
    const alice = await session(server, 'alice-token');
    const held = alice.open('POST', '/api/v1/namespaces/default/configmaps');
    const refused = await alice.request('POST', '/api/v1/namespaces/default/configmaps', configMap('second'));
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.body, 'Too many requests, please try again later.\n');
    assert.equal(refused.headers['x-kubernetes-pf-flowschema-uid'], undefined);
    assert.equal((await alice.request('GET', '/api/v1/namespaces/default/configmaps')).status, 200);
    await server.ok(['create', 'configmap', 'by-admin', '-n', 'default']);
    held.finish(configMap('first'));
    assert.equal((await held.answer).status, 201);
    assert.equal((await alice.request('POST', '/api/v1/namespaces/default/configmaps', configMap('third'))).status, 201);
    alice.close();
  } finally {
    await server.stop();
  }
});

test('a FlowSchema naming a missing priority level is Dangling (True, NotFound) until the level exists (False, Found)', async () => {
  const server = await startServer(['--ephemeral']);
  try {
    const condition = async (name: string) =>
      JSON.parse(await server.ok(['get', 'flowschema', name, '-o', 'json'])).status?.conditions?.find((c: { type: string }) => c.type === 'Dangling') as { status: string; reason: string; message: string } | undefined;
    await eventually(async () => assert.equal((await condition('global-default'))?.reason, 'Found'));
    await server.ok(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema', metadata: { name: 'orphan' }, spec: { priorityLevelConfiguration: { name: 'missing-level' }, matchingPrecedence: 600, rules: [{ subjects: [{ kind: 'User', user: { name: 'nobody' } }], resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'] }] }] } }),
    });
    await eventually(async () => assert.deepEqual(await condition('orphan').then((c) => c && { status: c.status, reason: c.reason, message: c.message }), {
      status: 'True', reason: 'NotFound', message: 'This FlowSchema references the PriorityLevelConfiguration object named "missing-level" but there is no such object',
    }));
    await server.ok(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'PriorityLevelConfiguration', metadata: { name: 'missing-level' }, spec: { type: 'Limited', limited: { nominalConcurrencyShares: 1, limitResponse: { type: 'Reject' } } } }),
    });
    await eventually(async () => assert.deepEqual(await condition('orphan').then((c) => c && { status: c.status, reason: c.reason }), { status: 'False', reason: 'Found' }));
  } finally {
    await server.stop();
  }
});
