import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reconcileBootstrapPolicy } from '../../src/auth/rbac/reconcile.js';
import { inMemoryCluster } from '../client/fixture.js';

const RBAC = 'rbac.authorization.k8s.io';

describe('bootstrap policy reconciliation', () => {
  it('creates the policy once; a second start writes nothing', async () => {
    const { registry, store } = await inMemoryCluster(['default', 'kube-system', 'kube-public']);
    await reconcileBootstrapPolicy(registry);
    for (const name of ['cluster-admin', 'admin', 'edit', 'view', 'system:discovery', 'system:basic-user', 'system:public-info-viewer', 'system:node', 'system:node-proxier', 'system:kube-scheduler', 'system:kube-controller-manager', 'system:controller:deployment-controller', 'system:controller:root-ca-cert-publisher', 'system:service-account-issuer-discovery']) {
      assert.ok(registry.of(RBAC, 'clusterroles').tryGet(undefined, name), name);
    }
    const masters = registry.of(RBAC, 'clusterrolebindings').get(undefined, 'cluster-admin').object as unknown as { subjects: unknown[] };
    assert.deepEqual(masters.subjects, [{ kind: 'Group', apiGroup: RBAC, name: 'system:masters' }]);
    const controller = registry.of(RBAC, 'clusterrolebindings').get(undefined, 'system:controller:namespace-controller').object as unknown as { subjects: unknown[] };
    assert.deepEqual(controller.subjects, [{ kind: 'ServiceAccount', name: 'namespace-controller', namespace: 'kube-system' }]);
    assert.ok(registry.of(RBAC, 'roles').tryGet('kube-system', 'system::leader-locking-kube-scheduler'));
    const revision = store.revision;
    await reconcileBootstrapPolicy(registry);
    assert.equal(store.revision, revision);
  });

  it('adds back what is missing, keeps what a user added, and leaves autoupdate=false alone', async () => {
    const { registry } = await inMemoryCluster(['default', 'kube-system', 'kube-public']);
    await reconcileBootstrapPolicy(registry);
    const roles = registry.of(RBAC, 'clusterroles');
    const bindings = registry.of(RBAC, 'clusterrolebindings');
    await roles.guaranteedUpdate(undefined, 'system:discovery', (role) => ({ ...role, metadata: { ...role.metadata, labels: { mine: 'yes' } }, rules: [{ verbs: ['get'], nonResourceURLs: ['/custom'] }] }));
    await bindings.guaranteedUpdate(undefined, 'system:basic-user', (b) => ({ ...b, subjects: [{ kind: 'User', apiGroup: RBAC, name: 'extra-user' }] }));
    await roles.guaranteedUpdate(undefined, 'system:public-info-viewer', (role) => ({
      ...role,
      metadata: { ...role.metadata, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } },
      rules: [],
    }));
    await reconcileBootstrapPolicy(registry);
    const discovery = roles.get(undefined, 'system:discovery').object as unknown as { metadata: { labels: Record<string, string> }; rules: Array<{ nonResourceURLs: string[] }> };
    assert.equal(discovery.metadata.labels.mine, 'yes');
    assert.equal(discovery.metadata.labels['kubernetes.io/bootstrapping'], 'rbac-defaults');
    const urls = discovery.rules.flatMap((r) => r.nonResourceURLs);
    assert.ok(urls.includes('/custom') && urls.includes('/version') && urls.includes('/apis/*'), JSON.stringify(urls));
    const basic = bindings.get(undefined, 'system:basic-user').object as unknown as { subjects: Array<{ name: string }> };
    assert.deepEqual(basic.subjects.map((s) => s.name), ['extra-user', 'system:authenticated']);
    assert.deepEqual((roles.get(undefined, 'system:public-info-viewer').object as unknown as { rules: unknown[] }).rules, []);
  });

  it('a binding whose roleRef differs from the policy is recreated with the right role', async () => {
    const { registry } = await inMemoryCluster(['default', 'kube-system', 'kube-public']);
    await reconcileBootstrapPolicy(registry);
    const bindings = registry.of(RBAC, 'clusterrolebindings');
    await bindings.delete(undefined, 'system:discovery');
    await bindings.create({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'system:discovery' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' }, subjects: [] });
    await reconcileBootstrapPolicy(registry);
    const binding = bindings.get(undefined, 'system:discovery').object as unknown as { roleRef: { name: string }; subjects: Array<{ name: string }> };
    assert.equal(binding.roleRef.name, 'system:discovery');
    assert.deepEqual(binding.subjects.map((s) => s.name), ['system:authenticated']);
  });
});

describe('the bootstrap policy covers every in-process identity', () => {
  it('each controller\'s service account has its system:controller: role and binding', async () => {
    const { allControllers } = await import('../../src/controllers/index.js');
    const { CONTROLLER_ROLES, allClusterRoleBindings } = await import('../../src/auth/rbac/bootstrap-policy.js');
    const bindings = allClusterRoleBindings();
    for (const controller of allControllers) {
      assert.ok(CONTROLLER_ROLES.some((role) => role.name === controller.serviceAccount), `${controller.name} acts as ${controller.serviceAccount}, which upstream's policy names`);
      const binding = bindings.find((b) => b.role === `system:controller:${controller.serviceAccount}`);
      assert.deepEqual(binding?.subjects, [{ kind: 'ServiceAccount', namespace: 'kube-system', name: controller.serviceAccount }]);
    }
  });

  it('the scheduler and nodes are authorized by the roles and authorizer upstream uses', async () => {
    const { allClusterRoleBindings } = await import('../../src/auth/rbac/bootstrap-policy.js');
    const { SCHEDULER_USER, CONTROLLER_MANAGER_USER } = await import('../../src/auth/system-users.js');
    const bindings = allClusterRoleBindings();
    for (const [user, role] of [[SCHEDULER_USER.name, 'system:kube-scheduler'], [SCHEDULER_USER.name, 'system:volume-scheduler'], [CONTROLLER_MANAGER_USER.name, 'system:kube-controller-manager']]) {
      assert.ok(bindings.some((b) => b.role === role && b.subjects.some((s) => s.kind === 'User' && s.name === user)), `${user} → ${role}`);
    }
  });
});
