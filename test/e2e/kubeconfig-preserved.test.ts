/**
 * The kubeconfig is the user's: a restart brings the server URL and CA up to date and keeps the
 * namespace chosen with `kubectl config set-context --current --namespace`, other contexts and the
 * current context.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startServer } from './harness.js';

test('a restart keeps the chosen namespace and other contexts, and updates the server URL', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'nautilus-kubeconfig-'));
  try {
    const first = await startServer(['--ephemeral'], dataDir);
    await first.ok(['create', 'namespace', 'team']);
    await first.ok(['config', 'set-context', '--current', '--namespace=team']);
    await first.ok(['config', 'set-context', 'elsewhere', '--cluster=nautilus', '--user=nautilus-admin', '--namespace=kube-system']);
    await first.ok(['config', 'set', 'preferences.colors', 'true']);
    const firstUrl = first.url;
    await first.stop();

    const second = await startServer(['--ephemeral'], dataDir);
    try {
      const config = parse(await readFile(second.kubeconfig, 'utf8'));
      const cluster = config.clusters.find((c: { name: string }) => c.name === 'nautilus').cluster;
      assert.equal(cluster.server, second.url);
      if (second.url !== firstUrl) assert.notEqual(cluster.server, firstUrl);
      assert.equal(await second.ok(['config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].context.namespace}']), 'team');
      assert.deepEqual(config.contexts.map((c: { name: string }) => c.name).sort(), ['elsewhere', 'nautilus']);
      assert.equal(config.preferences.colors, true);
      // The namespace is used (state is ephemeral here, so "team" is made again).
      await second.ok(['create', 'namespace', 'team']);
      await second.ok(['create', 'configmap', 'mine']);
      assert.equal(await second.ok(['get', 'configmap', 'mine', '-n', 'team', '-o', 'jsonpath={.metadata.namespace}']), 'team');
      assert.equal((await stat(second.kubeconfig)).mode & 0o777, 0o600);
    } finally {
      await second.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
