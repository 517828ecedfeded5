/** `nautilus snapshot save/restore`: a sealed backup restores into a new data dir with the same key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rawClient, startServer } from './harness.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const nautilus = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });

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

    await mkdir(target, { recursive: true });
    await copyFile(join(source, 'data.key'), join(target, 'data.key'));
    const restored = nautilus(['snapshot', 'restore', backup, '--data-dir', target]);
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

test('snapshot save and restore are refused while a server runs on the data dir, naming its PID', { timeout: 90_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'nautilus-backup-live-'));
  const dataDir = join(root, 'live');
  try {
    const server = await startServer([], dataDir);
    await server.ok(['create', 'configmap', 'live']);
    for (const action of ['save', 'restore']) {
      const refused = nautilus(['snapshot', action, join(root, 'x.snap'), '--data-dir', dataDir]);
      assert.equal(refused.status, 1, refused.stderr);
      assert.match(refused.stderr, new RegExp(`in use by another Nautilus process \\(PID ${server.process.pid}\\).*needs a stopped server`));
    }
    // The server was not disturbed.
    await server.ok(['create', 'configmap', 'still-live']);
    await server.stop('SIGTERM');
    const saved = nautilus(['snapshot', 'save', join(root, 'after.snap'), '--data-dir', dataDir]);
    assert.equal(saved.status, 0, saved.stderr);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
