import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../../src/server/control-plane.js';
import { allKinds } from '../../src/registry/catalog.js';
import { HttpClient } from '../../src/client/http.js';
import { InformerFactory } from '../../src/client/informer-factory.js';
import { CONFIG_MAPS, NAMESPACES, PODS } from '../../src/client/resource-types.js';
import { ApiError } from '../../src/api/status.js';
import { pod, sleep } from './fixture.js';

describe('HttpClient against a real server', () => {
  let plane: ControlPlane;
  let dataDir: string;
  let client: HttpClient;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'nautilus-http-client-'));
    plane = await startControlPlane({ address: '127.0.0.1', port: 0, dataDir, kinds: allKinds, ephemeral: true });
    client = HttpClient.fromKubeconfig(plane.kubeconfigPath, { watchTimeoutSeconds: 1 });
  });
  after(async () => {
    client.close();
    await plane.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('speaks every verb, with server errors as ApiErrors', async () => {
    const created = await client.create(CONFIG_MAPS, 'default', { metadata: { name: 'cm' }, data: { a: '1' } });
    assert.equal(created.kind, 'ConfigMap');
    assert.equal((await client.get(CONFIG_MAPS, 'default', 'cm')).data.a, '1');
    const patched = await client.patch(CONFIG_MAPS, 'default', 'cm', 'merge', { data: { b: '2' } });
    assert.deepEqual(patched.data, { a: '1', b: '2' });
    const mutated = await client.mutate(CONFIG_MAPS, 'default', 'cm', (cm) => ({ ...cm, data: { c: '3' } }));
    assert.deepEqual(mutated.data, { c: '3' });
    const list = await client.list(CONFIG_MAPS, 'default', { fieldSelector: 'metadata.name=cm' });
    assert.equal(list.items.length, 1);
    assert.equal(list.items[0].kind, 'ConfigMap');
    assert.ok(Number(list.resourceVersion) > 0);
    await client.delete(CONFIG_MAPS, 'default', 'cm');
    await assert.rejects(client.get(CONFIG_MAPS, 'default', 'cm'), (error) => error instanceof ApiError && error.code === 404 && error.reason === 'NotFound');
    const resources = await client.discover();
    assert.ok(resources.some((r) => r.group === 'apps' && r.resource === 'deployments' && r.namespaced && r.verbs.includes('watch')));
    assert.ok(!resources.some((r) => r.resource.includes('/')));
  });

  it('feeds an informer that keeps up across watch renewals', async () => {
    const informers = new InformerFactory(client);
    const pods = informers.informer(PODS);
    const added: string[] = [];
    pods.addEventHandler({ onAdd: (p) => added.push(p.metadata.name!) });
    await informers.waitForSync();
    for (let i = 0; i < 3; i++) {
      await client.create(PODS, 'default', pod('default', `w${i}`));
      // Each watch lasts one second here: later pods arrive through renewed watches.
      await sleep(700);
    }
    const deadline = Date.now() + 10_000;
    while (pods.lister.list('default').length < 3 && Date.now() < deadline) await sleep(50);
    assert.deepEqual(pods.lister.list('default').map((p) => p.metadata.name).sort(), ['w0', 'w1', 'w2']);
    assert.deepEqual(added.sort(), ['w0', 'w1', 'w2']);
    informers.stop();
  });

  it('runs the namespace controller, which empties a deleted namespace and then finalizes it', async () => {
    await client.create(NAMESPACES, undefined, { metadata: { name: 'doomed' } });
    await client.create(CONFIG_MAPS, 'doomed', { metadata: { name: 'x' } });
    await client.create(PODS, 'doomed', pod('doomed', 'y'));
    await client.delete(NAMESPACES, undefined, 'doomed');
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await client.get(NAMESPACES, undefined, 'doomed');
      } catch (error) {
        if (error instanceof ApiError && error.code === 404) break;
        throw error;
      }
      assert.ok(Date.now() < deadline, 'namespace was not deleted');
      await sleep(50);
    }
  });
});
