import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { leases } from '../../src/registry/leases.js';
import { podDisruptionBudgets } from '../../src/registry/pod-disruption-budgets.js';
import { priorityClasses } from '../../src/registry/priority-classes.js';
import { storageClasses } from '../../src/registry/storage-classes.js';
import { ingressClasses, ingresses } from '../../src/registry/ingresses.js';
import { networkPolicies } from '../../src/registry/network-policies.js';
import { clusterRoleBindings, clusterRoles, roleBindings, roles } from '../../src/registry/rbac.js';
import { CREATED_AGE, create, created, fields, meta, row, update } from './lifecycle.js';

describe('Lease', () => {
  it('prints its holder and needs a positive duration', () => {
    const lease = created(leases, { metadata: meta('kube-scheduler', 'kube-system'), spec: { holderIdentity: 'node-1_abc', leaseDurationSeconds: 15 } });
    assert.equal(row(leases, lease)['Holder'], 'node-1_abc');
    assert.deepEqual(fields(create(leases, { metadata: meta('l', 'default'), spec: { leaseDurationSeconds: 0, leaseTransitions: -1 } }).errors), ['spec.leaseDurationSeconds', 'spec.leaseTransitions']);
  });
});

describe('PodDisruptionBudget', () => {
  it('starts with zeroed status and prints N/A for the unset bound', () => {
    const budget = created(podDisruptionBudgets, { metadata: meta('web', 'default'), spec: { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } } });
    assert.deepEqual(budget.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
    assert.deepEqual(row(podDisruptionBudgets, budget), { 'Min Available': '50%', 'Max Unavailable': 'N/A', 'Allowed Disruptions': 0, 'Age': CREATED_AGE });
  });

  it('refuses both bounds at once and percentages above 100%', () => {
    const { errors } = create(podDisruptionBudgets, { metadata: meta('pdb', 'default'), spec: { minAvailable: 1, maxUnavailable: '150%' } });
    assert.deepEqual(fields(errors), ['spec', 'spec.maxUnavailable']);
    assert.match(errors[0].detail, /minAvailable and maxUnavailable cannot be both set/);
  });
});

describe('PriorityClass', () => {
  it('defaults the preemption policy and prints value, global default and policy', () => {
    const priorityClass = created(priorityClasses, { metadata: meta('high'), value: 1000000 });
    assert.equal(priorityClass.preemptionPolicy, 'PreemptLowerPriority');
    assert.deepEqual(row(priorityClasses, priorityClass), { 'Value': 1000000, 'Global-Default': false, 'Age': CREATED_AGE, 'PreemptionPolicy': 'PreemptLowerPriority' });
  });

  it('reserves the system- prefix and caps user values, and freezes the value', () => {
    assert.deepEqual(fields(create(priorityClasses, { metadata: meta('system-mine'), value: 10 }).errors), ['metadata.name']);
    assert.deepEqual(create(priorityClasses, { metadata: meta('system-node-critical'), value: 2000001000 }).errors, []);
    assert.deepEqual(fields(create(priorityClasses, { metadata: meta('huge'), value: 1000000001 }).errors), ['value']);
    const old = created(priorityClasses, { metadata: meta('p'), value: 5 });
    const { errors } = update(priorityClasses, old, { metadata: meta('p'), value: 6 });
    assert.deepEqual(errors.map((e) => `${e.field}: ${e.detail}`), ['value: Forbidden: may not be changed in an update.']);
  });
});

describe('StorageClass', () => {
  it('defaults reclaim policy and binding mode, and forbids changing the provisioner', () => {
    const storageClass = created(storageClasses, { metadata: meta('standard'), provisioner: 'rancher.io/local-path' });
    assert.equal(storageClass.reclaimPolicy, 'Delete');
    assert.equal(storageClass.volumeBindingMode, 'Immediate');
    assert.deepEqual(row(storageClasses, storageClass), { Provisioner: 'rancher.io/local-path', ReclaimPolicy: 'Delete', VolumeBindingMode: 'Immediate', AllowVolumeExpansion: false, Age: CREATED_AGE });
    assert.deepEqual(fields(update(storageClasses, storageClass, { metadata: meta('standard'), provisioner: 'other.io/x' }).errors), ['provisioner']);
    assert.deepEqual(fields(create(storageClasses, { metadata: meta('x') }).errors), ['provisioner']);
  });
});

describe('Ingress and IngressClass', () => {
  const rule = (host: string) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } });

  it('prints class, hosts, address and ports', () => {
    const ingress = created(ingresses, { metadata: meta('web', 'default'), spec: { ingressClassName: 'nginx', rules: [rule('a.example.com'), rule('b.example.com')], tls: [{ hosts: ['a.example.com'] }] } });
    assert.deepEqual(ingress.status, { loadBalancer: {} });
    ingress.status = { loadBalancer: { ingress: [{ ip: '203.0.113.9' }] } };
    assert.deepEqual(row(ingresses, ingress), { Class: 'nginx', Hosts: 'a.example.com,b.example.com', Address: '203.0.113.9', Ports: '80, 443', Age: CREATED_AGE });
    const many = created(ingresses, { metadata: meta('many', 'default'), spec: { rules: ['a', 'b', 'c', 'd', 'e'].map((h) => rule(`${h}.example.com`)) } });
    assert.equal(row(ingresses, many)['Hosts'], 'a.example.com,b.example.com,c.example.com + 2 more...');
    assert.equal(row(ingresses, many)['Class'], '<none>');
    const catchAll = created(ingresses, { metadata: meta('all', 'default'), spec: { defaultBackend: { service: { name: 'web', port: { name: 'http' } } } } });
    assert.equal(row(ingresses, catchAll)['Hosts'], '*');
  });

  it('requires rules or a default backend, path types and absolute paths', () => {
    assert.deepEqual(fields(create(ingresses, { metadata: meta('x', 'default'), spec: {} }).errors), ['spec']);
    const { errors } = create(ingresses, {
      metadata: meta('x', 'default'),
      spec: { rules: [{ host: 'a.example.com', http: { paths: [{ path: 'relative', pathType: 'Exact', backend: { service: { name: 'web', port: {} } } }, { path: '/', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    });
    assert.deepEqual(fields(errors), ['spec.rules[0].http.paths[0].path', 'spec.rules[0].http.paths[0].backend.service.port', 'spec.rules[0].http.paths[1].pathType']);
  });

  it('defaults IngressClass parameter scope and keeps the controller immutable', () => {
    const ingressClass = created(ingressClasses, { metadata: meta('nginx'), spec: { controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } } });
    assert.equal(ingressClass.spec.parameters.scope, 'Cluster');
    assert.deepEqual(row(ingressClasses, ingressClass), { Controller: 'k8s.io/ingress-nginx', Parameters: 'IngressParameters.k8s.example.com/external-lb', Age: CREATED_AGE });
    assert.deepEqual(fields(update(ingressClasses, ingressClass, { metadata: meta('nginx'), spec: { controller: 'example.com/other' } }).errors), ['spec.controller']);
    assert.deepEqual(fields(create(ingressClasses, { metadata: meta('x'), spec: { controller: 'no-domain' } }).errors), ['spec.controller']);
  });
});

describe('NetworkPolicy', () => {
  it('defaults policy types from the rules present and port protocols', () => {
    const ingressOnly = created(networkPolicies, { metadata: meta('deny', 'default'), spec: { podSelector: {} } });
    assert.deepEqual(ingressOnly.spec.policyTypes, ['Ingress']);
    assert.equal(row(networkPolicies, ingressOnly)['Pod-Selector'], '<none>');
    const both = created(networkPolicies, { metadata: meta('db', 'default'), spec: { podSelector: { matchLabels: { app: 'db' } }, egress: [{ ports: [{ port: 53 }] }] } });
    assert.deepEqual(both.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(both.spec.egress[0].ports, [{ port: 53, protocol: 'TCP' }]);
    assert.equal(row(networkPolicies, both)['Pod-Selector'], 'app=db');
  });

  it('rejects bad CIDRs, peers mixing ipBlock with selectors and unknown policy types', () => {
    const { errors } = create(networkPolicies, {
      metadata: meta('bad', 'default'),
      spec: { podSelector: {}, policyTypes: ['Sideways'], ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/33' }, podSelector: {} }] }] },
    });
    assert.deepEqual(fields(errors), ['spec.policyTypes[0]', 'spec.ingress[0].from[0]', 'spec.ingress[0].from[0].ipBlock.cidr']);
  });
});

describe('RBAC', () => {
  it('requires verbs, api groups and resources on resource rules', () => {
    const { errors } = create(roles, { metadata: meta('reader', 'default'), rules: [{ resources: ['pods'] }, { verbs: ['get'], nonResourceURLs: ['/healthz'] }] });
    assert.deepEqual(fields(errors), ['rules[0].verbs', 'rules[0].apiGroups', 'rules[1].nonResourceURLs']);
    assert.match(errors[2].detail, /namespaced rules cannot apply to non-resource URLs/);
    assert.deepEqual(create(clusterRoles, { metadata: meta('system:health'), rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] }).errors, []);
    const role = created(roles, { metadata: meta('reader', 'default'), rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] });
    assert.deepEqual(row(roles, role), { 'Created At': role.metadata.creationTimestamp });
  });

  it('defaults subject api groups and prints role, users, groups and service accounts', () => {
    const binding = created(roleBindings, {
      metadata: meta('read-pods', 'default'),
      roleRef: { kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'User', name: 'jane' }, { kind: 'Group', name: 'devs' }, { kind: 'ServiceAccount', name: 'ci', namespace: 'build' }, { kind: 'User', name: 'bob' }],
    });
    assert.equal(binding.roleRef.apiGroup, 'rbac.authorization.k8s.io');
    assert.deepEqual(binding.subjects.map((s: { apiGroup: string }) => s.apiGroup), ['rbac.authorization.k8s.io', 'rbac.authorization.k8s.io', undefined, 'rbac.authorization.k8s.io']);
    assert.deepEqual(row(roleBindings, binding), { Role: 'ClusterRole/view', Age: CREATED_AGE, Users: 'jane, bob', Groups: 'devs', ServiceAccounts: 'build/ci' });
  });

  it('keeps roleRef immutable and restricts ClusterRoleBindings to ClusterRoles', () => {
    const binding = created(clusterRoleBindings, { metadata: meta('admins'), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'Group', name: 'system:masters' }] });
    const changed = update(clusterRoleBindings, binding, { ...binding, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' } });
    assert.deepEqual(changed.errors.map((e) => `${e.field}: ${e.detail.replace(/^Invalid value: .*: /, '')}`), ['roleRef: cannot change roleRef']);
    const { errors } = create(clusterRoleBindings, { metadata: meta('x'), roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }, { kind: 'Robot', name: 'r2' }] });
    assert.deepEqual(fields(errors), ['roleRef.kind', 'subjects[0].namespace', 'subjects[1].kind']);
  });
});
