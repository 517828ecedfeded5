/**
 * Volume-aware scheduling through the real kubectl, with Node objects registered by the test: a
 * WaitForFirstConsumer claim is bound to the local PV of the node the scheduler picks; a pod with
 * an unbound Immediate claim stays Pending with upstream's message until a PV appears, the PV
 * binder binds it, and the pod follows the PV's node affinity; with no PV for a delayed claim the
 * pod stays Pending with upstream's "didn't find available persistent volumes" message.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startServer, type TestServer } from './harness.js';

let server: TestServer;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

before(async () => {
  server = await startServer(['--ephemeral']);
  for (const name of ['vol-a', 'vol-b']) {
    const capacity = { cpu: '4', memory: '8Gi', pods: '110' };
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await create({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name } },
      status: { capacity, allocatable: capacity, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now }] },
    });
  }
  await create({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' });
});
after(async () => {
  await server?.stop();
});

async function create(object: Json): Promise<void> {
  await server.ok(['create', '-f', '-'], { input: JSON.stringify(object) });
}

function localVolume(name: string, className: string, node: string): Json {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: {
      capacity: { storage: '5Gi' },
      accessModes: ['ReadWriteOnce'],
      storageClassName: className,
      local: { path: `/mnt/disks/${name}` },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
    },
  };
}

function claim(name: string, className: string): Json {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: className, resources: { requests: { storage: '1Gi' } } } };
}

function podUsing(name: string, claimName: string): Json {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }] } };
}

async function get(kind: string, name: string): Promise<Json> {
  return JSON.parse(await server.ok(['get', kind, name, '-o', 'json']));
}

async function nodeOf(pod: string): Promise<string> {
  return eventually(async () => {
    const p = await get('pod', pod);
    assert.ok(p.spec.nodeName, `${pod} is not bound yet`);
    return p.spec.nodeName as string;
  }, 30_000);
}

async function pendingWith(pod: string, message: string): Promise<void> {
  await eventually(async () => {
    const p = await get('pod', pod);
    assert.equal(p.spec.nodeName, undefined);
    const condition = (p.status?.conditions ?? []).find((c: Json) => c.type === 'PodScheduled');
    assert.equal(condition?.reason, 'Unschedulable');
    assert.equal(condition.message, message);
  }, 20_000);
  const described = await server.ok(['describe', 'pod', pod]);
  assert.match(described, /FailedScheduling/);
}

test('WaitForFirstConsumer: the pod goes to the node holding a matching local PV, and the claim is bound to it', async () => {
  await create(localVolume('local-b', 'local', 'vol-b'));
  await create(claim('data', 'local'));
  await eventually(async () => {
    const events = await server.ok(['get', 'events', '--field-selector', 'involvedObject.name=data', '-o', 'json']);
    assert.ok(JSON.parse(events).items.some((e: Json) => e.reason === 'WaitForFirstConsumer'), 'the binder waits for a consumer');
  });
  assert.equal((await get('pvc', 'data')).status.phase, 'Pending');
  await create(podUsing('consumer', 'data'));
  assert.equal(await nodeOf('consumer'), 'vol-b');
  // The binding leaves managedFields alone (upstream's BindingREST writes storage directly).
  const managers = JSON.parse(await server.ok(['get', 'pod', 'consumer', '-o', 'json', '--show-managed-fields'])).metadata.managedFields;
  assert.deepEqual(managers.filter((m: Json) => !m.subresource).map((m: Json) => m.manager), ['kubectl-create']);
  const bound = await get('pvc', 'data');
  assert.equal(bound.spec.volumeName, 'local-b');
  await eventually(async () => assert.equal((await get('pvc', 'data')).status.phase, 'Bound'));
  const pv = await get('pv', 'local-b');
  assert.equal(pv.spec.claimRef.name, 'data');
  assert.equal(pv.status.phase, 'Bound');
  assert.match(await server.ok(['get', 'pvc', 'data']), /data\s+Bound\s+local-b\s+5Gi\s+RWO\s+local/);
});

test('an unbound Immediate claim keeps the pod Pending with upstream wording; a PV appearing is bound and the pod follows its node affinity', async () => {
  await create(claim('manual', 'manual'));
  await create(podUsing('waits', 'manual'));
  await pendingWith('waits', '0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..');
  await create(localVolume('manual-a', 'manual', 'vol-a'));
  assert.equal(await nodeOf('waits'), 'vol-a');
  assert.equal((await get('pvc', 'manual')).spec.volumeName, 'manual-a');
});

test('a delayed claim with no PV on any node and nothing to provision keeps the pod Pending', async () => {
  await create(claim('nothing', 'local'));
  await create(podUsing('starved', 'nothing'));
  await pendingWith('starved', "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..");
  // A local PV on vol-a: the pod is scheduled there and the claim bound.
  await create(localVolume('local-a', 'local', 'vol-a'));
  assert.equal(await nodeOf('starved'), 'vol-a');
  await eventually(async () => assert.equal((await get('pvc', 'nothing')).spec.volumeName, 'local-a'));
});
