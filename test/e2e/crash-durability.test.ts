/**
 * Durability under SIGKILL: a client writes continuously and records every acknowledged write;
 * the server is killed at random moments; after each restart every acknowledged write is there
 * with its revision, and nothing is there that was never sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawClient, startServer, type TestServer } from './harness.js';

const CYCLES = 5;
const CONCURRENT_WRITERS = 8;

interface Sent {
  value: string;
  /** resourceVersion from the acknowledgement, when one arrived. */
  acknowledgedRevision?: string;
}

test('acknowledged writes survive kill -9, nothing unsent appears', { timeout: 120_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'nautilus-crash-'));
  const sent = new Map<string, Sent>();
  let sequence = 0;
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const server: TestServer = await startServer([], dataDir);
      const client = await rawClient(server.kubeconfig);
      try {
        await verify(client, sent, cycle);
        if (cycle === 0) {
          const ns = await client.request('POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'crash' } }));
          assert.equal(ns.status, 201);
        }
        let stop = false;
        const writer = async () => {
          while (!stop) {
            const name = `cm-${sequence++}`;
            const value = `${cycle}-${name}-${Math.random().toString(36).slice(2)}`;
            const record: Sent = { value };
            sent.set(name, record);
            try {
              const response = await client.request('POST', '/api/v1/namespaces/crash/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { value } }));
              if (response.status === 201) record.acknowledgedRevision = response.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion;
            } catch {
              return; // the connection died with the server
            }
          }
        };
        const writers = Array.from({ length: CONCURRENT_WRITERS }, writer);
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 1200));
        await server.stop('SIGKILL');
        stop = true;
        await Promise.all(writers);
      } finally {
        client.close();
      }
    }
    const last = await startServer([], dataDir);
    const client = await rawClient(last.kubeconfig);
    try {
      const acknowledged = await verify(client, sent, CYCLES);
      assert.ok(acknowledged > 50, `the test acknowledged enough writes to mean something (${acknowledged})`);
    } finally {
      client.close();
      await last.stop('SIGKILL');
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

async function verify(client: Awaited<ReturnType<typeof rawClient>>, sent: Map<string, Sent>, cycle: number): Promise<number> {
  if (sent.size === 0) return 0;
  const list = await client.request('GET', '/api/v1/namespaces/crash/configmaps');
  assert.equal(list.status, 200, list.body);
  const items = list.json<{ items: Array<{ metadata: { name: string; resourceVersion: string }; data: { value: string } }> }>().items;
  const present = new Map(items.map((item) => [item.metadata.name, item]));
  let acknowledged = 0;
  for (const [name, record] of sent) {
    const item = present.get(name);
    if (record.acknowledgedRevision !== undefined) {
      acknowledged++;
      assert.ok(item, `cycle ${cycle}: acknowledged ${name} (rv ${record.acknowledgedRevision}) is missing after kill -9`);
      assert.equal(item.metadata.resourceVersion, record.acknowledgedRevision, `cycle ${cycle}: ${name} kept its revision`);
    }
    if (item) assert.equal(item.data.value, record.value, `cycle ${cycle}: ${name} has the value that was sent`);
  }
  // The root CA publisher puts kube-root-ca.crt into every namespace; the rest is the test's own.
  for (const name of present.keys()) if (name !== 'kube-root-ca.crt') assert.ok(sent.has(name), `cycle ${cycle}: ${name} was never sent`);
  return acknowledged;
}

test('a tampered log refuses to start with a clear message; --recover-to-checkpoint starts', { timeout: 60_000 }, async () => {
  const { readdir, readFile, writeFile } = await import('node:fs/promises');
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const dataDir = await mkdtemp(join(tmpdir(), 'nautilus-tamper-'));
  try {
    const server = await startServer([], dataDir);
    const client = await rawClient(server.kubeconfig);
    for (let i = 0; i < 20; i++) {
      const response = await client.request('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `t-${i}` }, data: { i: String(i) } }));
      assert.equal(response.status, 201);
    }
    client.close();
    await server.stop('SIGKILL');

    const segments = (await readdir(join(dataDir, 'wal'))).filter((f) => f.endsWith('.seg')).sort();
    const newest = join(dataDir, 'wal', segments[segments.length - 1]);
    const bytes = await readFile(newest);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    await writeFile(newest, bytes);

    const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const refused = spawnSync(process.execPath, [main, 'serve', '--port', '0', '--data-dir', dataDir], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /refusing to start: the stored state failed its integrity check: .+/);
    assert.match(refused.stderr, /--recover-to-checkpoint/);

    const recovered = await startServer(['--recover-to-checkpoint'], dataDir);
    const after = await rawClient(recovered.kubeconfig);
    assert.equal((await after.request('GET', '/readyz')).body, 'ok');
    const namespaces = await after.request('GET', '/api/v1/namespaces/default');
    assert.equal(namespaces.status, 200, 'state up to the last checkpoint is served');
    after.close();
    await recovered.stop('SIGKILL');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('watch resume points and continue tokens stay valid across a restart', { timeout: 60_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'nautilus-resume-'));
  try {
    const first = await startServer([], dataDir);
    let client = await rawClient(first.kubeconfig);
    const create = async (name: string) => {
      const response = await client.request('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: name } }));
      assert.equal(response.status, 201);
      return response.json<{ metadata: { resourceVersion: string; uid: string } }>().metadata;
    };
    const a = await create('resume-a');
    const mark = a.resourceVersion;
    const b = await create('resume-b');
    await create('resume-c');
    const page = (await client.request('GET', '/api/v1/namespaces/default/configmaps?limit=1&labelSelector=')).json<{ metadata: { continue: string; resourceVersion: string } }>();
    assert.ok(page.metadata.continue, 'the first page has a continue token');
    client.close();
    await first.stop('SIGTERM');

    const second = await startServer([], dataDir);
    client = await rawClient(second.kubeconfig);
    try {
      const again = (await client.request('GET', '/api/v1/namespaces/default/configmaps/resume-b')).json<{ metadata: { resourceVersion: string; uid: string } }>();
      assert.deepEqual(again.metadata.uid, b.uid, 'uids survive');
      assert.equal(again.metadata.resourceVersion, b.resourceVersion, 'revisions survive');
      const rest = await client.request('GET', `/api/v1/namespaces/default/configmaps?limit=100&continue=${encodeURIComponent(page.metadata.continue)}`);
      assert.equal(rest.status, 200, rest.body);
      assert.equal(rest.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion, page.metadata.resourceVersion, 'the continued list is read at the first page revision');
      const watch = await client.request('GET', `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${mark}&timeoutSeconds=1`);
      const events = watch.body.trim().split('\n').map((line) => JSON.parse(line) as { type: string; object: { metadata: { name: string } } });
      assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED resume-b', 'ADDED resume-c']);
    } finally {
      client.close();
      await second.stop('SIGKILL');
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
