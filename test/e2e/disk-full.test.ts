/**
 * A full disk under the data dir (etcd's NOSPACE alarm): the real server on a small tmpfs filled to
 * the brim keeps serving reads and a watch, answers writes 507, takes writes again once space is
 * freed, and after kill -9 every acknowledged write is there exactly once and no refused one.
 *
 * The tmpfs lives in a private mount namespace (`unshare -rm`: a user namespace, no root needed,
 * nothing mounted on the shared machine) held by a sleeping process; the server is started in it
 * with nsenter, and this test reaches the files through /proc/<holder>/root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, rawClient, startServer, type TestServer } from './harness.js';

const TMPFS_SIZE = '48m';

const namespacesWork = spawnSync('unshare', ['-rm', 'true']).status === 0;

interface Holder {
  process: ChildProcess;
  /** The tmpfs as this process sees it. */
  visible: string;
  launcher: string[];
}

async function holdTmpfs(mountPoint: string): Promise<Holder> {
  const child = spawn('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=$1 tmpfs "$2" && echo mounted && exec sleep 900', 'sh', TMPFS_SIZE, mountPoint], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      if (out.includes('mounted')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`could not mount a tmpfs in a mount namespace (exit ${code})`)));
  });
  const pid = child.pid!;
  return { process: child, visible: `/proc/${pid}/root${mountPoint}`, launcher: ['nsenter', '-t', String(pid), '-U', '-m', '--preserve-credentials', '--'] };
}

/** Writes zeros until the file system refuses another byte. */
async function fillToTheBrim(file: string): Promise<number> {
  const handle = await open(file, 'w');
  let written = 0;
  try {
    for (const size of [1 << 20, 1 << 12, 1]) {
      const chunk = Buffer.alloc(size);
      for (let i = 0; i < 100_000; i++) {
        try {
          const { bytesWritten } = await handle.write(chunk, 0, size, written);
          written += bytesWritten;
          if (bytesWritten < size) break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    await handle.close();
  }
  return written;
}

const configMap = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { name } });

test('a full disk refuses writes with 507, keeps reads and watches, and recovers with every acknowledged write', { skip: !namespacesWork && 'user and mount namespaces (unshare -rm) are not available', timeout: 180_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'nautilus-disk-full-'));
  const mountPoint = join(root, 'disk');
  await mkdir(mountPoint);
  const holder = await holdTmpfs(mountPoint);
  const serverDataDir = join(mountPoint, 'data');
  const dataDir = join(holder.visible, 'data');
  const filler = join(holder.visible, 'filler');
  const start = () => startServer([], serverDataDir, { launcher: holder.launcher, visibleDataDir: dataDir });
  let server: TestServer | undefined;
  /** name → resourceVersion of every acknowledged create. */
  const acknowledged = new Map<string, string>();
  const refused = new Set<string>();
  try {
    server = await start();
    const kubectl = (args: string[]) => server!.kubectl(args, { env: { HOME: root } });
    for (let i = 0; i < 5; i++) {
      const created = await kubectl(['create', 'configmap', `before-${i}`, '-o', 'jsonpath={.metadata.resourceVersion}']);
      assert.equal(created.code, 0, created.stderr);
      acknowledged.set(`before-${i}`, created.stdout);
    }
    const client = await rawClient(server.kubeconfig);
    const list = (await client.request('GET', '/api/v1/namespaces/default/configmaps')).json<{ metadata: { resourceVersion: string } }>();
    const watched: Array<{ type: string; name: string }> = [];
    const watch = client.stream(`/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${list.metadata.resourceVersion}`, (line) => {
      const event = JSON.parse(line) as { type: string; object: { metadata: { name: string } } };
      watched.push({ type: event.type, name: event.object.metadata.name });
    });
    let watchEnded = false;
    void watch.done.then(() => (watchEnded = true));

    // Fill the tmpfs, then write until the log finds no room (the last page may hold a few records).
    await fillToTheBrim(filler);
    assert.equal(statfsSync(filler).bavail, 0, 'the tmpfs is full');
    let status = 0;
    let message = '';
    for (let i = 0; i < 500 && status !== 507; i++) {
      const name = `while-full-${i}`;
      const response = await client.request('POST', '/api/v1/namespaces/default/configmaps', configMap(name));
      status = response.status;
      if (status === 201) acknowledged.set(name, response.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion);
      else {
        refused.add(name);
        assert.equal(status, 507, response.body);
        const statusObject = response.json<{ kind: string; code: number; reason: string; message: string }>();
        assert.equal(statusObject.kind, 'Status');
        assert.equal(statusObject.code, 507);
        assert.equal(statusObject.reason, 'InsufficientStorage');
        message = statusObject.message;
      }
    }
    assert.equal(status, 507, 'a write on the full disk answers 507');
    assert.match(message, /database space exceeded: the disk of the data dir .* is full .*(ENOSPC|no space left)/i);

    // While full: kubectl writes are refused with the cause, reads work, the watch stays open.
    const write = await kubectl(['create', 'configmap', 'refused-by-kubectl']);
    refused.add('refused-by-kubectl');
    assert.notEqual(write.code, 0);
    assert.match(write.stderr, /database space exceeded/);
    const read = await kubectl(['get', 'configmaps', '-o', 'jsonpath={.items[*].metadata.name}']);
    assert.equal(read.code, 0, read.stderr);
    for (const name of acknowledged.keys()) assert.ok(read.stdout.split(' ').includes(name), `${name} is listed while the disk is full`);
    assert.equal((await kubectl(['get', 'namespace', 'default'])).code, 0);
    const ready = await client.request('GET', '/readyz?verbose');
    assert.equal(ready.status, 500);
    assert.match(ready.body, /\[-\]wal-nospace failed/);
    assert.equal((await client.request('GET', '/livez')).status, 200, 'a full disk is no reason to restart the server');
    const metrics = await client.request('GET', '/metrics');
    assert.match(metrics.body, /^nautilus_storage_no_space_alarm 1$/m);
    assert.equal(watchEnded, false, 'the watch is still open');
    assert.equal(server.process.exitCode, null, 'the server is still running');

    // Space is back: writes are taken again; the watch sees them.
    await rm(filler);
    await eventually(async () => {
      const created = await kubectl(['create', 'configmap', 'after-0', '-o', 'jsonpath={.metadata.resourceVersion}']);
      assert.equal(created.code, 0, created.stderr);
      acknowledged.set('after-0', created.stdout);
    }, 20_000);
    for (let i = 1; i < 5; i++) {
      const created = await kubectl(['create', 'configmap', `after-${i}`, '-o', 'jsonpath={.metadata.resourceVersion}']);
      assert.equal(created.code, 0, created.stderr);
      acknowledged.set(`after-${i}`, created.stdout);
    }
    await eventually(async () => assert.ok(watched.some((event) => event.type === 'ADDED' && event.name === 'after-4'), JSON.stringify(watched)));
    assert.equal(watchEnded, false);
    for (const name of refused) assert.ok(!watched.some((event) => event.name === name), `the watch never saw the refused ${name}`);
    await eventually(async () => assert.match((await client.request('GET', '/metrics')).body, /^nautilus_storage_no_space_alarm 0$/m));
    assert.equal((await client.request('GET', '/readyz')).status, 200);
    watch.close();
    client.close();

    // kill -9, restart: every acknowledged write exactly once, with its revision; no refused one.
    await server.stop('SIGKILL');
    server = await start();
    const after = await rawClient(server.kubeconfig);
    const items = (await after.request('GET', '/api/v1/namespaces/default/configmaps')).json<{ items: Array<{ metadata: { name: string; resourceVersion: string } }> }>().items;
    after.close();
    const names = items.map((item) => item.metadata.name);
    assert.equal(new Set(names).size, names.length, 'no object twice');
    for (const [name, revision] of acknowledged) {
      const item = items.find((candidate) => candidate.metadata.name === name);
      assert.ok(item, `acknowledged ${name} survived the restart`);
      assert.equal(item.metadata.resourceVersion, revision, `${name} kept its revision`);
    }
    for (const name of refused) assert.ok(!names.includes(name), `refused ${name} is not there`);
  } finally {
    await server?.stop('SIGKILL');
    holder.process.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  }
});
