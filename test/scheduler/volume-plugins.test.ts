/**
 * VolumeBinding and VolumeRestrictions against upstream's documented behaviour, with the PV binder
 * controller running over the real in-process registry: bound PVs' node affinity, unbound
 * Immediate claims, WaitForFirstConsumer with a static PV (the scheduler writes the claimRef, the
 * binder completes) and with provisioning (selected-node, a provisioner's PV), disk and
 * ReadWriteOncePod conflicts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/client/api-client.js';
import { PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, STORAGE_CLASSES } from '../../src/client/resource-types.js';
import { pvBinderController } from '../../src/controllers/pv-binder.js';
import { volumeBinding } from '../../src/scheduler/plugins/volume-binding.js';
import { volumeRestrictions } from '../../src/scheduler/plugins/volume-restrictions.js';
import { Snapshot } from '../../src/scheduler/snapshot.js';
import { CycleState, type Plugin, type Pod } from '../../src/scheduler/types.js';
import type { NodeInfo } from '../../src/scheduler/node-info.js';
import { eventually, runControllers, type RunningCluster } from '../controllers/fixture.js';
import { node, nodeInfo, pod } from './fixture.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const n1 = nodeInfo(node('n1', {}, { 'topology.kubernetes.io/zone': 'a' }));
const n2 = nodeInfo(node('n2', {}, { 'topology.kubernetes.io/zone': 'b' }));

function storageClass(name: string, mode: 'Immediate' | 'WaitForFirstConsumer', provisioner = 'kubernetes.io/no-provisioner', extra: Json = {}): Obj {
  return { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner, volumeBindingMode: mode, ...extra } as Obj;
}

function volume(name: string, className: string, hostname?: string, extra: Json = {}): Obj {
  const spec: Json = { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: className, hostPath: { path: `/data/${name}` }, ...extra };
  if (hostname) spec.nodeAffinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [hostname] }] }] } };
  return { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name }, spec } as Obj;
}

function claim(name: string, className: string, accessModes = ['ReadWriteOnce']): Obj {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' }, spec: { accessModes, storageClassName: className, resources: { requests: { storage: '1Gi' } } } } as Obj;
}

function withClaims(name: string, ...claims: string[]): Pod {
  return pod(name, { volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })) });
}

/** PreFilter then Filter on each node: per node, its reasons ([] = fits); or the PreFilter's reasons. */
function run(plugin: Plugin, state: CycleState, p: Pod, nodes: NodeInfo[], snapshot = new Snapshot()): { preFilter?: string[]; nodes: string[][] } {
  const pre = plugin.preFilter!(state, p, snapshot);
  if (pre && 'code' in pre) {
    if (pre.code === 'Skip') return { nodes: nodes.map(() => []) };
    return { preFilter: [...pre.reasons], nodes: [] };
  }
  return { nodes: nodes.map((info) => [...(plugin.filter!(state, p, info)?.reasons ?? [])]) };
}

describe('VolumeBinding with the PV binder', () => {
  let cluster: RunningCluster;
  let plugin: Plugin;
  before(async () => {
    cluster = await runControllers([pvBinderController]);
    plugin = volumeBinding({ bindTimeoutSeconds: 30 }, cluster.client, cluster.informers);
    cluster.informers.start();
    await cluster.informers.waitForSync();
    for (const sc of [storageClass('immediate', 'Immediate'), storageClass('local', 'WaitForFirstConsumer'), storageClass('csi', 'WaitForFirstConsumer', 'csi.example.com', { allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['a'] }] }] })]) {
      await cluster.client.create(STORAGE_CLASSES, undefined, sc);
    }
  });
  after(async () => {
    await cluster?.stop();
  });

  const claimNow = (name: string) => cluster.client.get(PERSISTENT_VOLUME_CLAIMS, 'default', name);
  const synced = (name: string, check: (c: Obj | undefined) => boolean) =>
    eventually(() => assert.ok(check(cluster.informers.informer(PERSISTENT_VOLUME_CLAIMS).lister.get('default', name)), `${name} not as expected in the informer yet`));

  it('a pod without claims skips the plugin', () => {
    assert.deepEqual(plugin.preFilter!(new CycleState(), pod('plain'), new Snapshot()), { code: 'Skip', reasons: [] });
  });

  it('a claim that does not exist, or an unbound Immediate one, rejects the pod at PreFilter with upstream wording', async () => {
    assert.deepEqual(run(plugin, new CycleState(), withClaims('p', 'missing'), [n1]).preFilter, ['persistentvolumeclaim "missing" not found']);
    await cluster.client.create(PERSISTENT_VOLUME_CLAIMS, 'default', claim('lonely', 'immediate'));
    await synced('lonely', (c) => c !== undefined);
    assert.deepEqual(run(plugin, new CycleState(), withClaims('p', 'lonely'), [n1]).preFilter, ['pod has unbound immediate PersistentVolumeClaims']);
  });

  it('the binder binds an Immediate claim to the smallest fitting PV; its node affinity then restricts the pod', async () => {
    await cluster.client.create(PERSISTENT_VOLUMES, undefined, volume('big-on-n2', 'immediate', 'n2', { capacity: { storage: '100Gi' } }));
    await cluster.client.create(PERSISTENT_VOLUMES, undefined, volume('small-on-n1', 'immediate', 'n1'));
    await cluster.client.create(PERSISTENT_VOLUME_CLAIMS, 'default', claim('data', 'immediate'));
    const bound = await eventually(async () => {
      const c = await claimNow('data');
      assert.equal(c.status?.phase, 'Bound');
      return c;
    });
    // "lonely" (created earlier, 1Gi) may have taken one of them; "data" got a 10Gi or the 100Gi one.
    const pv = await cluster.client.get(PERSISTENT_VOLUMES, undefined, bound.spec.volumeName);
    assert.equal(pv.status.phase, 'Bound');
    assert.equal(pv.spec.claimRef.name, 'data');
    assert.equal(pv.spec.claimRef.uid, bound.metadata.uid);
    assert.equal(bound.metadata.annotations!['pv.kubernetes.io/bind-completed'], 'yes');
    assert.equal(bound.metadata.annotations!['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.deepEqual(bound.status.capacity, pv.spec.capacity);
    await synced('data', (c) => !!c?.spec.volumeName);
    const onN1 = bound.spec.volumeName === 'small-on-n1';
    const result = run(plugin, new CycleState(), withClaims('p', 'data'), [n1, n2]);
    assert.deepEqual(result.nodes, onN1 ? [[], ['node(s) had volume node affinity conflict']] : [['node(s) had volume node affinity conflict'], []]);
  });

  it('WaitForFirstConsumer: the claim waits; Filter finds the PV per node; PreBind writes the claimRef and the binder completes', async () => {
    await cluster.client.create(PERSISTENT_VOLUMES, undefined, volume('local-n2', 'local', 'n2'));
    await cluster.client.create(PERSISTENT_VOLUME_CLAIMS, 'default', claim('wait', 'local'));
    await cluster.client.create(PERSISTENT_VOLUME_CLAIMS, 'default', claim('wait-too', 'local'));
    await synced('wait-too', (c) => c !== undefined);
    await eventually(() => assert.equal(cluster.informers.informer(PERSISTENT_VOLUMES).lister.get(undefined, 'local-n2')?.status?.phase, 'Available'));
    assert.equal((await claimNow('wait')).spec.volumeName, undefined, 'not bound before a pod is scheduled');

    const p = withClaims('consumer', 'wait');
    const state = new CycleState();
    assert.deepEqual(run(plugin, state, p, [n1, n2]).nodes, [["node(s) didn't find available persistent volumes to bind"], []]);
    assert.equal(plugin.reserve!(state, p, 'n2'), undefined);
    // The only local PV is assumed for "wait": another claim of the class finds none until it is released.
    assert.deepEqual(run(plugin, new CycleState(), withClaims('other', 'wait-too'), [n2]).nodes, [["node(s) didn't find available persistent volumes to bind"]]);
    assert.equal(await plugin.preBind!(state, p, 'n2'), undefined);
    const bound = await claimNow('wait');
    assert.equal(bound.spec.volumeName, 'local-n2');
    // The status is the binder's last write, after the annotations PreBind waits for.
    await eventually(async () => assert.equal((await claimNow('wait')).status.phase, 'Bound'));
    const pv = await cluster.client.get(PERSISTENT_VOLUMES, undefined, 'local-n2');
    assert.equal(pv.spec.claimRef.name, 'wait');
    assert.equal(pv.metadata.annotations!['pv.kubernetes.io/bound-by-controller'], 'yes');
  });

  it('WaitForFirstConsumer with a provisioner: allowedTopologies limit the nodes; PreBind sets selected-node and waits for the provisioned PV', async () => {
    await cluster.client.create(PERSISTENT_VOLUME_CLAIMS, 'default', claim('dynamic', 'csi'));
    await synced('dynamic', (c) => c !== undefined);
    const p = withClaims('consumer-2', 'dynamic');
    const state = new CycleState();
    assert.deepEqual(run(plugin, state, p, [n1, n2]).nodes, [[], ["node(s) didn't find available persistent volumes to bind"]]);
    assert.equal(plugin.reserve!(state, p, 'n1'), undefined);
    const waiting = plugin.preBind!(state, p, 'n1');
    const selected = await eventually(async () => {
      const c = await claimNow('dynamic');
      assert.equal(c.metadata.annotations?.['volume.kubernetes.io/selected-node'], 'n1');
      assert.equal(c.metadata.annotations?.['volume.kubernetes.io/storage-provisioner'], 'csi.example.com', 'the binder names the provisioner');
      return c;
    });
    // The test is the external provisioner: a PV pre-bound to the claim, which the binder completes.
    await cluster.client.create(PERSISTENT_VOLUMES, undefined, volume('pvc-dynamic', 'csi', 'n1', { claimRef: { namespace: 'default', name: 'dynamic', uid: selected.metadata.uid } }));
    assert.equal(await waiting, undefined);
    assert.equal((await claimNow('dynamic')).spec.volumeName, 'pvc-dynamic');
  });

  it('a PV whose claim is deleted is Released', async () => {
    await cluster.client.delete(PERSISTENT_VOLUME_CLAIMS, 'default', 'wait');
    await eventually(async () => assert.equal((await cluster.client.get(PERSISTENT_VOLUMES, undefined, 'local-n2')).status.phase, 'Released'));
  });
});

describe('VolumeRestrictions', () => {
  const claims = new Map<string, Obj>([['default/solo', claim('solo', 'x', ['ReadWriteOncePod'])], ['default/shared', claim('shared', 'x', ['ReadWriteMany'])]]);
  const lister = { get: (ns: string | undefined, name: string) => claims.get(`${ns}/${name}`), list: () => [...claims.values()] } as never;
  const plugin = volumeRestrictions(lister);
  const gce = (pdName: string, readOnly = false) => ({ name: 'd', gcePersistentDisk: { pdName, readOnly } });

  it('the same GCE PD conflicts unless both mount it read-only; EBS, iSCSI and RBD as upstream', () => {
    const onNode = nodeInfo(node('n'), [pod('existing', { volumes: [gce('disk-1', true), { name: 'e', awsElasticBlockStore: { volumeID: 'vol-1' } }, { name: 'i', iscsi: { iqn: 'iqn.a', targetPortal: 't', lun: 0 } }, { name: 'r', rbd: { monitors: ['m1', 'm2'], image: 'img' } }] })]);
    const check = (volumes: Json[]) => run(plugin, new CycleState(), pod('p', { volumes }), [onNode]).nodes[0];
    assert.deepEqual(check([gce('disk-1', true)]), []);
    assert.deepEqual(check([gce('disk-1')]), ['node(s) had no available disk']);
    assert.deepEqual(check([gce('disk-2')]), []);
    assert.deepEqual(check([{ name: 'e', awsElasticBlockStore: { volumeID: 'vol-1', readOnly: true } }]), ['node(s) had no available disk'], 'EBS conflicts even read-only');
    assert.deepEqual(check([{ name: 'i', iscsi: { iqn: 'iqn.a', targetPortal: 't', lun: 0 } }]), ['node(s) had no available disk']);
    assert.deepEqual(check([{ name: 'r', rbd: { monitors: ['m2'], image: 'img' } }]), ['node(s) had no available disk'], 'one shared monitor, same default pool and image');
    assert.deepEqual(check([{ name: 'r', rbd: { monitors: ['m2'], image: 'img', pool: 'other' } }]), []);
  });

  it('a ReadWriteOncePod claim already in use anywhere makes every node Unschedulable; AddPod/RemovePod follow preemption', () => {
    const snapshot = new Snapshot();
    assert.deepEqual(run(plugin, new CycleState(), withClaims('p', 'solo'), [n1], snapshot).nodes, [[]]);
    snapshot.usedPVCs = new Map([['default/solo', 1], ['default/shared', 2]]);
    const state = new CycleState();
    assert.deepEqual(run(plugin, state, withClaims('p', 'solo'), [n1, n2], snapshot).nodes, Array(2).fill(['node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode']));
    const status = plugin.filter!(state, withClaims('p', 'solo'), n1)!;
    assert.equal(status.code, 'Unschedulable', 'preemption may help');
    const user = nodeInfo(node('n1'), [withClaims('user', 'solo')]).pods[0];
    plugin.removePod!(state, withClaims('p', 'solo'), user, n1);
    assert.equal(plugin.filter!(state, withClaims('p', 'solo'), n1), undefined, 'without the pod using it, the claim is free');
    assert.deepEqual(run(plugin, new CycleState(), withClaims('p', 'shared'), [n1], snapshot).nodes, [[]], 'ReadWriteMany is shared');
    assert.deepEqual(run(plugin, new CycleState(), withClaims('p', 'nope'), [n1], snapshot).preFilter, ['persistentvolumeclaim "nope" not found']);
  });
});
