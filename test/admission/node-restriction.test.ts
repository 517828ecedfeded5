import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/api/status.js';
import { LEASES, NODES, NAMESPACES, PODS } from '../../src/client/resource-types.js';
import { admissionCluster, pod } from './fixture.js';

const NODE_USER = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
const forbidden = (message: string) => (e: unknown) => {
  assert.ok(e instanceof ApiError, String(e));
  assert.equal(e.code, 403);
  assert.equal(e.message, message);
  return true;
};

describe('NodeRestriction admission', () => {
  it('limits a kubelet to its own Node, its labels and never its taints', async () => {
    const cluster = await admissionCluster();
    const kubelet = cluster.client.as(NODE_USER, 'kubelet');
    await assert.rejects(kubelet.create(NODES, undefined, { metadata: { name: 'n2' } }), forbidden('nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"'));
    await assert.rejects(
      kubelet.create(NODES, undefined, { metadata: { name: 'n1', labels: { 'node-role.kubernetes.io/control-plane': '' } } }),
      forbidden('nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: node-role.kubernetes.io/control-plane'),
    );
    await kubelet.create(NODES, undefined, { metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', 'node.kubernetes.io/instance-type': 'v', team: 'a' } } });
    await assert.rejects(
      kubelet.mutate(NODES, undefined, 'n1', (n) => ({ ...n, spec: { taints: [{ key: 'x', effect: 'NoSchedule' }] } })),
      forbidden('nodes "n1" is forbidden: node "n1" is not allowed to modify taints'),
    );
    await assert.rejects(
      kubelet.mutate(NODES, undefined, 'n1', (n) => ({ ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, 'node-restriction.kubernetes.io/pool': 'x' } } })),
      forbidden('nodes "n1" is forbidden: node "n1" is not allowed to modify labels: node-restriction.kubernetes.io/pool'),
    );
    await kubelet.mutate(NODES, undefined, 'n1', (n) => ({ ...n, status: { phase: 'Running' } }), { subresource: 'status' });
    await cluster.stop();
  });

  it('lets a kubelet write only mirror pods, status and deletions of pods bound to it, and its own lease', async () => {
    const cluster = await admissionCluster({ namespaces: [{ name: 'default' }, { name: 'kube-node-lease' }] });
    const kubelet = cluster.client.as(NODE_USER, 'kubelet');
    await assert.rejects(kubelet.create(PODS, 'default', pod('default', 'p', { nodeName: 'n1' })), forbidden('pods "p" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods'));
    const mirror = (name: string, spec: Record<string, unknown>) => pod('default', name, spec, { annotations: { 'kubernetes.io/config.mirror': 'hash' } });
    await assert.rejects(kubelet.create(PODS, 'default', mirror('m', { nodeName: 'n2' })), forbidden('pods "m" is forbidden: node "n1" can only create pods with spec.nodeName set to itself'));
    await assert.rejects(
      kubelet.create(PODS, 'default', mirror('m', { nodeName: 'n1', volumes: [{ name: 's', secret: { secretName: 'x' } }] })),
      forbidden('pods "m" is forbidden: node "n1" can not create pods that reference secrets'),
    );
    await kubelet.create(PODS, 'default', mirror('m', { nodeName: 'n1' }));
    await cluster.client.create(PODS, 'default', pod('default', 'elsewhere', { nodeName: 'n2' }));
    await assert.rejects(
      kubelet.mutate(PODS, 'default', 'elsewhere', (p) => ({ ...p, status: { phase: 'Running' } }), { subresource: 'status' }),
      forbidden('pods "elsewhere" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself'),
    );
    await assert.rejects(kubelet.delete(PODS, 'default', 'elsewhere'), forbidden('pods "elsewhere" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself'));
    await kubelet.mutate(PODS, 'default', 'm', (p) => ({ ...p, status: { phase: 'Running' } }), { subresource: 'status' });
    const lease = (name: string) => ({ metadata: { name }, spec: { holderIdentity: name } });
    await assert.rejects(kubelet.create(LEASES, 'kube-node-lease', lease('n2')), forbidden('leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node'));
    await kubelet.create(LEASES, 'kube-node-lease', lease('n1'));
    assert.ok(await cluster.client.get(NAMESPACES, undefined, 'kube-node-lease'));
    await cluster.stop();
  });
});
