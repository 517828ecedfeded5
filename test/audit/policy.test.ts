/** audit.k8s.io/v1 Policy: parsing errors, first matching rule, upstream's resource patterns. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditPolicy } from '../../src/audit/policy.js';
import { parseRequestInfo } from '../../src/server/request-info.js';
import type { UserInfo } from '../../src/auth/authenticate.js';

const alice: UserInfo = { name: 'alice', groups: ['devs', 'system:authenticated'] };
const info = (method: string, path: string) => {
  const url = new URL(path, 'https://x');
  return parseRequestInfo(method, url.pathname, url.searchParams);
};

const POLICY = `
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    users: [system:kube-proxy]
  - level: None
    nonResourceURLs: ["/healthz*", /version]
  - level: RequestResponse
    omitStages: [ResponseStarted]
    resources:
      - group: ""
        resources: [pods/log, "*/status"]
  - level: Request
    userGroups: [devs]
    verbs: [create, update]
    namespaces: [shop]
    resources:
      - group: apps
        resources: ["deployments/*"]
      - group: ""
        resources: [configmaps]
        resourceNames: [settings]
  - level: Metadata
`;

test('the first matching rule decides; omitStages add up', () => {
  const policy = AuditPolicy.parse(POLICY);
  const decide = (user: UserInfo, method: string, path: string) => policy.decide(user, info(method, path));
  assert.equal(decide({ name: 'system:kube-proxy', groups: [] }, 'GET', '/api/v1/pods').level, 'None');
  assert.equal(decide(alice, 'GET', '/healthz/ping').level, 'None');
  assert.equal(decide(alice, 'GET', '/version').level, 'None');
  assert.equal(decide(alice, 'GET', '/metrics').level, 'Metadata');
  const log = decide(alice, 'GET', '/api/v1/namespaces/a/pods/p/log');
  assert.equal(log.level, 'RequestResponse');
  assert.deepEqual([...log.omitStages].sort(), ['RequestReceived', 'ResponseStarted']);
  assert.equal(decide(alice, 'PUT', '/apis/apps/v1/namespaces/a/deployments/d/status').level, 'Metadata', '*/status is for the core group only here');
  assert.equal(decide(alice, 'PUT', '/api/v1/namespaces/a/pods/p/status').level, 'RequestResponse');
  assert.equal(decide(alice, 'GET', '/api/v1/namespaces/a/pods/p').level, 'Metadata');
  assert.equal(decide(alice, 'PUT', '/apis/apps/v1/namespaces/shop/deployments/d/scale').level, 'Request');
  assert.equal(decide(alice, 'PUT', '/apis/apps/v1/namespaces/shop/deployments/d').level, 'Request', 'as upstream, resource/* also matches the resource itself');
  assert.equal(decide(alice, 'PUT', '/apis/apps/v1/namespaces/shop/replicasets/r').level, 'Metadata');
  assert.equal(decide(alice, 'PUT', '/apis/apps/v1/namespaces/other/deployments/d/scale').level, 'Metadata');
  assert.equal(decide(alice, 'PUT', '/api/v1/namespaces/shop/configmaps/settings').level, 'Request');
  assert.equal(decide(alice, 'PUT', '/api/v1/namespaces/shop/configmaps/other').level, 'Metadata');
  assert.equal(decide({ name: 'bob', groups: [] }, 'PUT', '/api/v1/namespaces/shop/configmaps/settings').level, 'Metadata');
});

test('a request no rule matches is not logged', () => {
  const policy = AuditPolicy.parse('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n    verbs: [delete]\n');
  assert.equal(policy.decide(alice, info('GET', '/api/v1/pods')).level, 'None');
  assert.equal(policy.decide(alice, info('DELETE', '/api/v1/namespaces/a/pods/p')).level, 'Metadata');
});

test('bad policies are refused with what is wrong', () => {
  assert.throws(() => AuditPolicy.parse('kind: Policy\napiVersion: audit.k8s.io/v1\nrules: []\n'), /at least one rule/);
  assert.throws(() => AuditPolicy.parse('kind: Policy\napiVersion: audit.k8s.io/v1\nrules:\n  - level: Everything\n'), /rules\[0\]\.level: Unsupported value: "Everything"/);
  assert.throws(() => AuditPolicy.parse('kind: Policy\napiVersion: audit.k8s.io/v1\nomitStages: [Later]\nrules:\n  - level: None\n'), /omitStages: Unsupported value: "Later"/);
  assert.throws(() => AuditPolicy.parse('kind: Policy\napiVersion: audit.k8s.io/v1\nrules:\n  - level: None\n    nonResourceURLs: [/x]\n    resources: [{group: ""}]\n'), /both regular resources and non-resource URLs/);
  assert.throws(() => AuditPolicy.parse('kind: Nope\napiVersion: audit.k8s.io/v1\nrules: []\n'), /kind must be Policy/);
});
