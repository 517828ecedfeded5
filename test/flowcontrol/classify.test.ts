/** Classification against upstream's bootstrap FlowSchemas, in matching-precedence order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MANDATORY_FLOW_SCHEMAS, SUGGESTED_FLOW_SCHEMAS } from '../../src/flowcontrol/bootstrap-configuration.js';
import { flowDistinguisher, matchesFlowSchema, type RequestDigest } from '../../src/flowcontrol/classify.js';
import { parseRequestInfo } from '../../src/server/request-info.js';
import { flowSchemas } from '../../src/registry/flowcontrol.js';
import type { UserInfo } from '../../src/auth/authenticate.js';

const ordered = [...MANDATORY_FLOW_SCHEMAS, ...SUGGESTED_FLOW_SCHEMAS].sort((a, b) => a.spec.matchingPrecedence - b.spec.matchingPrecedence || a.metadata.name!.localeCompare(b.metadata.name!));

function classify(user: UserInfo, method: string, path: string): { schema: string; distinguisher: string } {
  const url = new URL(path, 'https://x');
  const digest: RequestDigest = { user, info: parseRequestInfo(method, url.pathname, url.searchParams) };
  const schema = ordered.find((candidate) => matchesFlowSchema(candidate, digest))!;
  return { schema: schema.metadata.name!, distinguisher: flowDistinguisher(schema, digest) };
}

const authenticated = (name: string, ...groups: string[]): UserInfo => ({ name, groups: [...groups, 'system:authenticated'] });

test('the bootstrap schemas validate', () => {
  for (const schema of ordered) assert.deepEqual(flowSchemas.validate!(schema), [], schema.metadata.name);
});

test('requests land in upstream\'s schemas', () => {
  assert.deepEqual(classify(authenticated('admin', 'system:masters'), 'DELETE', '/api/v1/namespaces/x'), { schema: 'exempt', distinguisher: '' });
  assert.deepEqual(classify({ name: 'system:anonymous', groups: ['system:unauthenticated'] }, 'GET', '/readyz'), { schema: 'probes', distinguisher: '' });
  assert.equal(classify({ name: 'system:anonymous', groups: ['system:unauthenticated'] }, 'GET', '/version').schema, 'global-default');
  const node = authenticated('system:node:n1', 'system:nodes');
  assert.equal(classify(node, 'PATCH', '/api/v1/nodes/n1/status').schema, 'system-node-high');
  assert.equal(classify(node, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1').schema, 'system-node-high');
  assert.equal(classify(node, 'GET', '/api/v1/pods').schema, 'system-nodes');
  assert.equal(classify(authenticated('system:kube-scheduler'), 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler').schema, 'system-leader-election');
  assert.deepEqual(classify(authenticated('system:kube-scheduler'), 'POST', '/api/v1/namespaces/default/pods/p/binding'), { schema: 'kube-scheduler', distinguisher: 'default' });
  const kubeSystemAccount = authenticated('system:serviceaccount:kube-system:deployment-controller', 'system:serviceaccounts', 'system:serviceaccounts:kube-system');
  assert.deepEqual(classify(kubeSystemAccount, 'POST', '/apis/apps/v1/namespaces/shop/replicasets'), { schema: 'kube-system-service-accounts', distinguisher: 'shop' });
  assert.equal(classify(authenticated('system:serviceaccount:kube-system:endpoint-controller', 'system:serviceaccounts'), 'PUT', '/api/v1/namespaces/a/endpoints/b').schema, 'endpoint-controller');
  assert.equal(classify(authenticated('system:serviceaccount:shop:app', 'system:serviceaccounts'), 'GET', '/api/v1/namespaces/shop/pods').schema, 'service-accounts');
  assert.deepEqual(classify(authenticated('alice'), 'POST', '/api/v1/namespaces/default/configmaps'), { schema: 'global-default', distinguisher: 'alice' });
});
