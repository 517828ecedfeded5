import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/api/status.js';
import { InProcessClient } from '../../src/client/in-process.js';
import { CONFIG_MAPS, DEPLOYMENTS, NODES, PODS, SECRETS } from '../../src/client/resource-types.js';
import type { Authorizer } from '../../src/auth/authorization.js';
import { inMemoryCluster, pod } from './fixture.js';

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    return error;
  }
  assert.fail('expected a rejection');
}

describe('InProcessClient', () => {
  it('hands out copies: changing what it returned or what was passed in never reaches the store', async () => {
    const { client, store } = await inMemoryCluster();
    const input = pod('default', 'p');
    const created = await client.create(PODS, 'default', input);
    input.metadata.labels = { changed: 'after' };
    created.metadata.labels = { changed: 'after' };
    const fetched = await client.get(PODS, 'default', 'p');
    fetched.spec.containers[0].image = 'evil';
    const stored = store.get('core/pods', 'default/p')! as unknown as { object: { metadata: { labels: unknown }; spec: { containers: Array<{ image: string }> } }; json: Buffer };
    assert.deepEqual(stored.object.metadata.labels, {});
    assert.equal(stored.object.spec.containers[0].image, 'nginx');
    assert.equal(JSON.parse(stored.json.toString()).spec.containers[0].image, 'nginx');
  });

  it('applies validation and defaults like the REST API, and answers with Status errors', async () => {
    const { client } = await inMemoryCluster();
    const invalid = await rejection(client.create(CONFIG_MAPS, 'default', { metadata: { name: 'Not_Valid' } }));
    assert.equal(invalid.code, 422);
    assert.equal(invalid.reason, 'Invalid');
    const missing = await rejection(client.get(PODS, 'default', 'nope'));
    assert.equal(missing.code, 404);
    assert.deepEqual(missing.details, { name: 'nope', kind: 'pods' });
    const created = await client.create(PODS, 'default', pod('default', 'd'));
    assert.equal(created.spec.restartPolicy, 'Always');
  });

  it('patches with the merge, strategic and JSON patch engines', async () => {
    const { client } = await inMemoryCluster();
    await client.create(DEPLOYMENTS, 'default', {
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'nginx:1' }, { name: 'b', image: 'redis' }] } } },
    });
    const strategic = await client.patch(DEPLOYMENTS, 'default', 'web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'a', image: 'nginx:2' }] } } } });
    assert.deepEqual(strategic.spec.template.spec.containers.map((c: { image: string }) => c.image), ['nginx:2', 'redis']);
    const merge = await client.patch(DEPLOYMENTS, 'default', 'web', 'merge', { spec: { replicas: 4 } });
    assert.equal(merge.spec.replicas, 4);
    const json = await client.patch(DEPLOYMENTS, 'default', 'web', 'json', [{ op: 'replace', path: '/spec/replicas', value: 2 }]);
    assert.equal(json.spec.replicas, 2);
    assert.equal(json.metadata.generation, 4);
  });

  it('mutate retries when another writer got there first', async () => {
    const { client } = await inMemoryCluster();
    await client.create(CONFIG_MAPS, 'default', { metadata: { name: 'counter' }, data: { n: '0' } });
    await Promise.all(
      Array.from({ length: 5 }, () =>
        client.mutate(CONFIG_MAPS, 'default', 'counter', async (cm) => {
          await new Promise((resolve) => setImmediate(resolve));
          return { ...cm, data: { n: String(Number(cm.data.n) + 1) } };
        }),
      ),
    );
    assert.equal((await client.get(CONFIG_MAPS, 'default', 'counter')).data.n, '5');
  });

  it('writes status only through the status subresource', async () => {
    const { client } = await inMemoryCluster();
    await client.create(NODES, undefined, { metadata: { name: 'n1' } });
    await client.update(NODES, undefined, 'n1', { metadata: { name: 'n1' }, spec: { unschedulable: true }, status: { phase: 'Running' } }, { subresource: 'status' });
    const node = await client.get(NODES, undefined, 'n1');
    assert.equal(node.status.phase, 'Running');
    assert.equal(node.spec.unschedulable, undefined);
  });

  it('asks the authorizer under its own identity and refuses with upstream\'s Forbidden wording', async () => {
    const { registry } = await inMemoryCluster();
    const asked: string[] = [];
    const onlyConfigMaps: Authorizer = {
      authorize: (a) => {
        asked.push(`${a.user.name} ${a.verb} ${a.resource}${a.subresource ? '/' + a.subresource : ''} ${a.namespace ?? '-'} ${a.name ?? '-'}`);
        return { allowed: a.resource === 'configmaps' };
      },
    };
    const client = new InProcessClient({ registry, user: { name: 'bob', groups: [] }, fieldManager: 'bob', authorizer: onlyConfigMaps });
    await client.create(CONFIG_MAPS, 'default', { metadata: { name: 'ok' } });
    const denied = await rejection(client.get(SECRETS, 'default', 'token'));
    assert.equal(denied.code, 403);
    assert.equal(denied.message, 'secrets "token" is forbidden: User "bob" cannot get resource "secrets" in API group "" in the namespace "default"');
    const cluster = await rejection(client.list(NODES, undefined));
    assert.equal(cluster.message, 'nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope');
    assert.deepEqual(asked, ['bob create configmaps default -', 'bob get secrets default token', 'bob list nodes - -']);
  });
});
