/**
 * `nautilus snapshot save/restore`: a sealed backup, taken from a stopped server's data dir or
 * online from a running server while writes go on, restores into a new data dir (the data key
 * carried with --key-from) that a server starts from with the objects up to the backup's revision.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rawClient, startServer, type TestServer } from './harness.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const nautilus = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
/** As `nautilus` but without blocking this process (the test's writers keep writing meanwhile). */
const nautilusAsync = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolvePromise) => {
    execFile(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) =>
      resolvePromise({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

test('snapshot save, then restore into a new data dir', { timeout: 90_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'nautilus-backup-'));
  const source = join(root, 'source');
  const target = join(root, 'target');
  const backup = join(root, 'backup.snap');
  try {
    const server = await startServer([], source);
    const client = await rawClient(server.kubeconfig);
    for (let i = 0; i < 30; i++) {
      const created = await client.request('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `b-${i}` }, data: { i: String(i) } }));
      assert.equal(created.status, 201);
    }
    assert.equal((await client.request('DELETE', '/api/v1/namespaces/default/configmaps/b-7')).status, 200);
    client.close();
    await server.stop('SIGTERM');

    const saved = nautilus(['snapshot', 'save', backup, '--data-dir', source]);
    assert.equal(saved.status, 0, saved.stderr);
    assert.match(saved.stdout, /Snapshot saved to .*: \d+ objects at revision \d+/);
    const sealed = await readFile(backup);
    assert.equal(sealed.includes(Buffer.from('b-12')), false, 'the backup is sealed: no plaintext names');

    const wrongKey = nautilus(['snapshot', 'restore', backup, '--data-dir', join(root, 'other')]);
    assert.notEqual(wrongKey.status, 0, 'a data dir with another data key cannot open the backup');

    assert.match(wrongKey.stderr, /give --key-from/);
    const restored = nautilus(['snapshot', 'restore', backup, '--data-dir', target, '--key-from', source]);
    assert.equal(restored.status, 0, restored.stderr);

    const again = await startServer([], target);
    const after = await rawClient(again.kubeconfig);
    const list = (await after.request('GET', '/api/v1/namespaces/default/configmaps')).json<{ items: Array<{ metadata: { name: string } }> }>();
    const names = list.items.map((i) => i.metadata.name).filter((n) => n.startsWith('b-'));
    assert.equal(names.length, 29);
    assert.ok(!names.includes('b-7'));
    after.close();
    await again.stop('SIGKILL');

    const refused = nautilus(['snapshot', 'restore', backup, '--data-dir', target]);
    assert.notEqual(refused.status, 0, 'restore refuses a data dir that already holds state');
    await writeFile(backup, Buffer.concat([sealed.subarray(0, 100), Buffer.from([sealed[100] ^ 1]), sealed.subarray(101)]));
    const tampered = nautilus(['snapshot', 'restore', backup, '--data-dir', join(root, 'third')]);
    assert.notEqual(tampered.status, 0);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('snapshot save works online while writes go on; the restored data dir starts with every object up to its revision', { timeout: 150_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'nautilus-backup-live-'));
  const dataDir = join(root, 'live');
  const target = join(root, 'restored');
  const backup = join(root, 'online.snap');
  const servers: TestServer[] = [];
  try {
    const server = await startServer([], dataDir);
    servers.push(server);
    const client = await rawClient(server.kubeconfig);
    /** name → resourceVersion of each acknowledged create. */
    const acknowledged = new Map<string, number>();
    let stop = false;
    let sent = 0;
    const writer = async () => {
      while (!stop && sent < 600) {
        const name = `w-${sent++}`;
        const response = await client
          .request('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { name } }))
          .catch(() => undefined);
        if (!response) return;
        if (response.status === 201) acknowledged.set(name, Number(response.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion));
      }
    };
    const writers = [writer(), writer(), writer()];
    const stopWriters = async () => {
      stop = true;
      await Promise.all(writers);
    };
    servers.push({ stop: stopWriters } as unknown as TestServer);
    while (acknowledged.size < 30 && sent < 600) await new Promise((r) => setTimeout(r, 20));

    // While the writers run: save online (the data dir is locked by the server, so over its API).
    const saved = await nautilusAsync(['snapshot', 'save', backup, '--data-dir', dataDir]);
    const ackedDuringSave = acknowledged.size;
    while (acknowledged.size < ackedDuringSave + 20 && sent < 600) await new Promise((r) => setTimeout(r, 20));
    await stopWriters();
    assert.equal(saved.code, 0, saved.stderr);
    const match = saved.stdout.match(/Snapshot saved to .*: (\d+) objects at revision (\d+) \(online, from https:/);
    assert.ok(match, saved.stdout);
    const revision = Number(match[2]);
    assert.ok([...acknowledged.values()].some((rv) => rv > revision), 'writes went on after the backup');
    assert.ok([...acknowledged.values()].some((rv) => rv <= revision), 'the backup holds writes');

    // Only cluster-admin may take one.
    const anonymous = await rawClient(server.kubeconfig, { anonymous: true });
    assert.equal((await anonymous.request('GET', '/snapshot')).status, 403);
    anonymous.close();
    client.close();

    // Restore while the source still runs (only its key file is read), then serve from it.
    const restored = nautilus(['snapshot', 'restore', backup, '--data-dir', target, '--key-from', dataDir]);
    assert.equal(restored.status, 0, restored.stderr);
    assert.match(restored.stdout, new RegExp(`at revision ${revision}`));
    await server.stop('SIGTERM');
    const again = await startServer([], target);
    servers.push(again);
    const listed = await again.ok(['get', 'configmaps', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion}{"\\n"}{end}']);
    const present = new Map(listed.trim().split('\n').map((line) => line.split('=') as [string, string]));
    for (const [name, rv] of acknowledged) {
      if (rv <= revision) assert.equal(present.get(name), String(rv), `${name} (revision ${rv}) is in the backup at ${revision}`);
      else assert.equal(present.has(name), false, `${name} (revision ${rv}) is after the backup at ${revision}`);
    }
    for (const name of present.keys()) if (name.startsWith('w-')) assert.ok(acknowledged.has(name), `${name} was acknowledged`);
    await again.ok(['create', 'configmap', 'after-restore']);
  } finally {
    // On a failure too: a server left running would keep the test process alive.
    for (const server of servers.reverse()) await server.stop('SIGKILL');
    await rm(root, { recursive: true, force: true });
  }
});

test('snapshot restore is refused while a server runs on the data dir, naming its PID', { timeout: 90_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'nautilus-backup-busy-'));
  const dataDir = join(root, 'live');
  try {
    const server = await startServer([], dataDir);
    const refused = nautilus(['snapshot', 'restore', join(root, 'x.snap'), '--data-dir', dataDir]);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`in use by another Nautilus process \\(PID ${server.process.pid}\\).*needs a stopped server`));
    await server.ok(['create', 'configmap', 'still-live']);
    await server.stop('SIGTERM');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
