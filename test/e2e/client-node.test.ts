/** @kubernetes/client-node 1.x (HTTP/1.1 over TLS) against the real server. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { eventually, startServer, type TestServer } from './harness.js';

let server: TestServer;
let config: k8s.KubeConfig;

before(async () => {
  server = await startServer(['--ephemeral']);
  config = new k8s.KubeConfig();
  config.loadFromFile(server.kubeconfig);
});
after(async () => {
  await server?.stop();
});

test('list, create, patch, read and delete through the typed client', async () => {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const namespaces = await core.listNamespace();
  assert.ok(namespaces.items.some((ns) => ns.metadata?.name === 'kube-system'));
  const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'from-client-node', labels: { via: 'client-node' } }, data: { a: '1' } } });
  assert.match(created.metadata?.resourceVersion ?? '', /^\d+$/);
  await core.patchNamespacedConfigMap(
    { name: 'from-client-node', namespace: 'default', body: [{ op: 'replace', path: '/data/a', value: '2' }] },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
  );
  const read = await core.readNamespacedConfigMap({ name: 'from-client-node', namespace: 'default' });
  assert.equal(read.data?.a, '2');
  const apps = config.makeApiClient(k8s.AppsV1Api);
  const deployment = await apps.createNamespacedDeployment({
    namespace: 'default',
    body: { metadata: { name: 'cn' }, spec: { selector: { matchLabels: { app: 'cn' } }, template: { metadata: { labels: { app: 'cn' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } },
  });
  assert.equal(deployment.spec?.replicas, 1, 'defaults are applied');
  await core.deleteNamespacedConfigMap({ name: 'from-client-node', namespace: 'default' });
  await assert.rejects(core.readNamespacedConfigMap({ name: 'from-client-node', namespace: 'default' }), (error: { code?: number }) => error.code === 404);
});

test('watch and informer see changes', async () => {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const informer = k8s.makeInformer(config, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
  const seen: string[] = [];
  informer.on('add', (cm) => seen.push(`add ${cm.metadata?.name}`));
  informer.on('update', (cm) => seen.push(`update ${cm.metadata?.name}`));
  informer.on('delete', (cm) => seen.push(`delete ${cm.metadata?.name}`));
  await informer.start();
  try {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'informed' }, data: { v: '1' } } });
    await eventually(async () => assert.ok(seen.includes('add informed'), seen.join(',')));
    await core.replaceNamespacedConfigMap({ name: 'informed', namespace: 'default', body: { metadata: { name: 'informed' }, data: { v: '2' } } });
    await eventually(async () => assert.ok(seen.includes('update informed'), seen.join(',')));
    await core.deleteNamespacedConfigMap({ name: 'informed', namespace: 'default' });
    await eventually(async () => assert.ok(seen.includes('delete informed'), seen.join(',')));
  } finally {
    await informer.stop();
  }
});
