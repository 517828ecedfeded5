import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { NodeAuthorizer } from '../../src/auth/node-authorizer.js';
import { nodeUser } from '../../src/auth/system-users.js';
import type { AuthorizationAttributes } from '../../src/auth/authorization.js';
import { InformerFactory } from '../../src/client/informer-factory.js';
import { PERSISTENT_VOLUME_CLAIMS, PODS } from '../../src/client/resource-types.js';
import { inMemoryCluster, pod } from '../client/fixture.js';

let authorizer: NodeAuthorizer;
const n1 = nodeUser('n1');

function ask(attributes: Partial<AuthorizationAttributes>, user = n1) {
  return authorizer.authorize({ user, isResourceRequest: true, group: '', verb: 'get', ...attributes });
}

before(async () => {
  const { client } = await inMemoryCluster(['default', 'other', 'kube-node-lease']);
  await client.create(PODS, 'default', pod('default', 'web', {}, {
    nodeName: 'n1',
    serviceAccountName: 'robot',
    imagePullSecrets: [{ name: 'pull' }],
    volumes: [{ name: 'cfg', configMap: { name: 'settings' } }, { name: 'data', persistentVolumeClaim: { claimName: 'claim' } }, { name: 'proj', projected: { sources: [{ secret: { name: 'projected' } }] } }],
    containers: [{ name: 'c', image: 'nginx', env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'p' } } }] }],
  }));
  await client.create(PODS, 'default', pod('default', 'elsewhere', {}, { nodeName: 'n2', volumes: [{ name: 's', secret: { secretName: 'n2-only' } }] }));
  await client.create(PERSISTENT_VOLUME_CLAIMS, 'default', { metadata: { name: 'claim' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: 'pv-1' } });
  const informers = new InformerFactory(client);
  authorizer = new NodeAuthorizer(informers);
  await authorizer.start();
});

describe('the Node authorizer', () => {
  it('lets a node read what the pods bound to it reference, and nothing else', () => {
    for (const [resource, name] of [['secrets', 'pull'], ['secrets', 'env-secret'], ['secrets', 'projected'], ['configmaps', 'settings'], ['persistentvolumeclaims', 'claim']]) {
      assert.equal(ask({ resource, namespace: 'default', name }).allowed, true, `${resource}/${name}`);
    }
    assert.equal(ask({ resource: 'persistentvolumes', name: 'pv-1' }).allowed, true);
    const denied = ask({ resource: 'secrets', namespace: 'default', name: 'n2-only' });
    assert.equal(denied.allowed, false);
    assert.equal(denied.reason, "no relationship found between node 'n1' and this object");
    assert.equal(ask({ resource: 'secrets', namespace: 'other', name: 'pull' }).allowed, false);
    assert.equal(ask({ resource: 'secrets', namespace: 'default', name: 'pull' }, nodeUser('n2')).allowed, false);
    assert.equal(ask({ resource: 'secrets', verb: 'update', namespace: 'default', name: 'pull' }).reason, 'can only read resources of this type');
    assert.equal(ask({ resource: 'persistentvolumes', verb: 'list' }).reason, 'can only get individual resources of this type');
  });

  it('limits nodes to their own Node, pods bound to them, and their own Lease', () => {
    assert.equal(ask({ resource: 'nodes', name: 'n1' }).allowed, true);
    assert.equal(ask({ resource: 'nodes', name: 'n2' }).reason, "node 'n1' cannot read 'n2', only its own Node object");
    assert.equal(ask({ resource: 'nodes', verb: 'list' }).reason, "node 'n1' cannot read all nodes, only its own Node object");
    assert.equal(ask({ resource: 'nodes', verb: 'list', name: 'n1' }).allowed, true, 'a list selecting its own name');
    assert.equal(ask({ resource: 'nodes', verb: 'patch', subresource: 'status', name: 'n1' }).allowed, true);
    assert.equal(ask({ resource: 'pods', namespace: 'default', name: 'web' }).allowed, true);
    assert.equal(ask({ resource: 'pods', namespace: 'default', name: 'elsewhere' }).allowed, false);
    assert.equal(ask({ resource: 'pods', verb: 'list' }).reason, 'can only list/watch pods with spec.nodeName field selector');
    assert.equal(ask({ resource: 'pods', verb: 'watch', fieldSelector: 'spec.nodeName=n1' }).allowed, true);
    assert.equal(ask({ resource: 'pods', verb: 'watch', fieldSelector: 'spec.nodeName=n2' }).allowed, false);
    assert.equal(ask({ resource: 'pods', verb: 'update', subresource: 'status', namespace: 'default', name: 'web' }).allowed, true);
    const lease = { group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease' };
    assert.equal(ask({ ...lease, verb: 'update', name: 'n1' }).allowed, true);
    assert.equal(ask({ ...lease, verb: 'update', name: 'n2' }).reason, 'can only access node lease with the same name as the requesting node');
    assert.equal(ask({ ...lease, verb: 'get', namespace: 'default', name: 'n1' }).allowed, false);
  });

  it('allows tokens only for service accounts its pods run as; events and CSRs by the node rules', () => {
    assert.equal(ask({ resource: 'serviceaccounts', subresource: 'token', verb: 'create', namespace: 'default', name: 'robot' }).allowed, true);
    assert.equal(ask({ resource: 'serviceaccounts', subresource: 'token', verb: 'create', namespace: 'default', name: 'default' }).allowed, false);
    assert.equal(ask({ resource: 'serviceaccounts', verb: 'get', namespace: 'default', name: 'robot' }).allowed, false);
    assert.equal(ask({ resource: 'events', verb: 'create', namespace: 'default' }).allowed, true);
    assert.equal(ask({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create' }).allowed, true);
    assert.equal(ask({ resource: 'configmaps', verb: 'delete', namespace: 'default', name: 'settings' }).allowed, false);
    assert.equal(ask({ resource: 'namespaces', verb: 'delete', name: 'default' }).allowed, false);
  });

  it('has no opinion about anyone else', () => {
    const decision = ask({ resource: 'secrets', namespace: 'default', name: 'pull' }, { name: 'system:node:n1', groups: ['system:authenticated'] });
    assert.equal(decision.noOpinion, true);
    assert.equal(decision.reason, undefined);
  });
});
