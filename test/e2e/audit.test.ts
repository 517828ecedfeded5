/**
 * The audit log on the real server with the real kubectl: one audit.k8s.io/v1 Event line per
 * request and stage at the level the policy gives, omitted stages left out, impersonation and
 * the authorization decision recorded, the Audit-ID header naming the event, watches with
 * ResponseStarted — and no Secret content in the log (nor in the data directory), even where the
 * policy asks for RequestResponse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, rawClient, startServer } from './harness.js';

const SECRET_VALUE = 'TOP-SECRET-b4e1c0de';
const TOKEN = 'audit-bob-token-0123456789';

const POLICY = `
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    nonResourceURLs: ["/healthz*", "/readyz*", "/livez*"]
  - level: RequestResponse
    resources:
      - group: ""
        resources: [secrets, configmaps]
  - level: Metadata
    omitStages: [ResponseStarted]
    users: [nobody-watches]
  - level: Metadata
`;

type Event = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name));
}

test('audit log: levels, stages, impersonation, Audit-ID, and never a Secret', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-audit-'));
  const policyFile = join(dir, 'policy.yaml');
  const logFile = join(dir, 'audit.log');
  const tokens = join(dir, 'tokens.csv');
  await writeFile(policyFile, POLICY);
  await writeFile(tokens, `${TOKEN},bob,2001\n`);
  const server = await startServer(['--audit-log-path', logFile, '--audit-policy-file', policyFile, '--token-auth-file', tokens]);
  try {
    await server.ok(['create', 'secret', 'generic', 'db', `--from-literal=password=${SECRET_VALUE}`]);
    const shown = await server.ok(['get', 'secret', 'db', '-o', 'json']);
    assert.equal(Buffer.from(JSON.parse(shown).data.password, 'base64').toString(), SECRET_VALUE);
    await server.ok(['create', 'configmap', 'settings', '--from-literal=colour=visible-blue']);
    await server.ok(['get', 'pods']);
    await server.ok(['get', '--raw', '/healthz']);
    const impersonated = await server.kubectl(['get', 'pods', '--as=bob']);
    assert.notEqual(impersonated.code, 0);
    const client = await rawClient(server.kubeconfig);
    const answered = await client.request('GET', '/api/v1/namespaces');
    const auditId = answered.headers['audit-id'];
    assert.match(String(auditId), /^[0-9a-f-]{36}$/);
    const watch = client.stream('/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1', () => {});
    assert.equal(await watch.done, 200);
    client.close();
    const anonymous = await rawClient(server.kubeconfig, { anonymous: true });
    assert.equal((await anonymous.request('GET', '/api/v1/namespaces/default/secrets', undefined, { authorization: `Bearer ${TOKEN}` })).status, 403);
    anonymous.close();

    const events = await eventually(async () => {
      const lines = (await readFile(logFile, 'utf8')).trim().split('\n');
      const parsed = lines.map((line) => JSON.parse(line) as Event);
      assert.ok(parsed.some((event) => event.verb === 'watch' && event.stage === 'ResponseComplete'), 'the watch completed');
      assert.ok(parsed.some((event) => event.user.username === 'bob' && event.objectRef?.resource === 'secrets'));
      return parsed;
    });
    for (const event of events) {
      assert.equal(event.kind, 'Event');
      assert.equal(event.apiVersion, 'audit.k8s.io/v1');
      assert.notEqual(event.stage, 'RequestReceived', 'omitted by the policy');
      assert.match(event.requestReceivedTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.ok(!String(event.requestURI).startsWith('/healthz'), 'level None is not logged');
    }
    const find = (predicate: (event: Event) => boolean, what: string) => {
      const found = events.find(predicate);
      assert.ok(found, `no audit event for ${what}`);
      return found!;
    };

    const secretCreate = find((e) => e.verb === 'create' && e.objectRef?.resource === 'secrets', 'the secret create');
    assert.equal(secretCreate.level, 'Metadata', 'Secrets are never logged above Metadata');
    assert.deepEqual(secretCreate.objectRef, { resource: 'secrets', namespace: 'default', name: 'db', apiVersion: 'v1' });
    assert.equal(secretCreate.responseStatus.code, 201);
    assert.equal(secretCreate.requestObject, undefined);
    assert.equal(secretCreate.annotations['authorization.k8s.io/decision'], 'allow');
    const secretGet = find((e) => e.verb === 'get' && e.objectRef?.resource === 'secrets', 'the secret get');
    assert.equal(secretGet.level, 'Metadata');
    assert.equal(secretGet.responseObject, undefined);

    const configMapCreate = find((e) => e.verb === 'create' && e.objectRef?.resource === 'configmaps', 'the configmap create');
    assert.equal(configMapCreate.level, 'RequestResponse');
    assert.equal(configMapCreate.stage, 'ResponseComplete');
    assert.equal(configMapCreate.requestObject.data.colour, 'visible-blue');
    assert.equal(configMapCreate.responseObject.metadata.name, 'settings');
    assert.match(configMapCreate.userAgent, /^kubectl/);
    assert.deepEqual(configMapCreate.sourceIPs, ['127.0.0.1']);

    const podList = find((e) => e.verb === 'list' && e.objectRef?.resource === 'pods' && !e.impersonatedUser, 'kubectl get pods');
    assert.equal(podList.level, 'Metadata');
    assert.deepEqual(podList.responseStatus, { metadata: {}, code: 200 });
    assert.ok(podList.user.groups.includes('system:masters'));

    const asBob = find((e) => e.impersonatedUser?.username === 'bob', 'kubectl --as=bob');
    assert.equal(asBob.user.username, podList.user.username);
    assert.equal(asBob.responseStatus.code, 403);
    assert.equal(asBob.responseStatus.reason, 'Forbidden');
    assert.equal(asBob.annotations['authorization.k8s.io/decision'], 'forbid');
    const bobDirect = find((e) => e.user.username === 'bob' && e.objectRef?.resource === 'secrets', 'bob listing secrets');
    assert.equal(bobDirect.responseStatus.code, 403);

    assert.equal(events.filter((e) => e.auditID === auditId).length, 1, 'the Audit-ID header names the event');
    const watchEvents = events.filter((e) => e.verb === 'watch');
    assert.deepEqual(watchEvents.map((e) => e.stage), ['ResponseStarted', 'ResponseComplete']);
    assert.equal(new Set(watchEvents.map((e) => e.auditID)).size, 1);

    // Neither the log nor anything the server keeps holds the Secret, plain or base64.
    const forbidden = [SECRET_VALUE, Buffer.from(SECRET_VALUE).toString('base64')];
    const log = await readFile(logFile, 'utf8');
    for (const needle of forbidden) assert.ok(!log.includes(needle), 'the audit log holds Secret data');
    for (const file of await filesUnder(server.dataDir)) {
      const bytes = await readFile(file);
      for (const needle of forbidden) assert.ok(!bytes.includes(needle), `${file} holds Secret data`);
    }
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
