import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matches, ruleMatches } from '../../src/admission/matching.js';
import type { AdmissionAttributes } from '../../src/admission/admission.js';

function request(overrides: Partial<AdmissionAttributes> = {}): AdmissionAttributes {
  return {
    operation: 'CREATE',
    resource: { group: 'apps', version: 'v1', resource: 'deployments' },
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    namespace: 'team-a',
    name: 'web',
    object: { metadata: { name: 'web', labels: { tier: 'frontend' } } },
    dryRun: false,
    ...overrides,
  };
}

const namespaces = (labels: Record<string, Record<string, string>>) => (name: string) => labels[name];

describe('webhook and policy rule matching', () => {
  it('matches operations, groups, versions, resources and wildcards', () => {
    const rule = { operations: ['CREATE', 'UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] };
    assert.equal(ruleMatches(rule, request(), false), true);
    assert.equal(ruleMatches(rule, request({ operation: 'DELETE' }), false), false);
    assert.equal(ruleMatches({ ...rule, apiGroups: [''] }, request(), false), false);
    assert.equal(ruleMatches({ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }, request(), false), true);
  });

  it('distinguishes subresources: "pods" is not "pods/status", "*/status" and "pods/*" are', () => {
    const status = request({ resource: { group: '', version: 'v1', resource: 'pods' }, subresource: 'status', operation: 'UPDATE' });
    const base = { operations: ['*'], apiGroups: [''], apiVersions: ['v1'] };
    assert.equal(ruleMatches({ ...base, resources: ['pods'] }, status, false), false);
    assert.equal(ruleMatches({ ...base, resources: ['pods/status'] }, status, false), true);
    assert.equal(ruleMatches({ ...base, resources: ['*/status'] }, status, false), true);
    assert.equal(ruleMatches({ ...base, resources: ['pods/*'] }, status, false), true);
    assert.equal(ruleMatches({ ...base, resources: ['*'] }, status, false), false);
  });

  it('honours scope', () => {
    const rule = { operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], scope: 'Cluster' as const };
    assert.equal(ruleMatches(rule, request(), false), false);
    assert.equal(ruleMatches(rule, request({ namespace: undefined }), false), true);
    assert.equal(ruleMatches({ ...rule, scope: 'Namespaced' }, request(), false), true);
  });

  it('matchPolicy Equivalent matches the same resource at another version; Exact does not', () => {
    const rules = [{ operations: ['CREATE'], apiGroups: ['autoscaling'], apiVersions: ['v2'], resources: ['horizontalpodautoscalers'] }];
    const v1 = request({ resource: { group: 'autoscaling', version: 'v1', resource: 'horizontalpodautoscalers' } });
    assert.equal(matches({ rules, matchPolicy: 'Equivalent' }, v1, namespaces({})), true);
    assert.equal(matches({ rules, matchPolicy: 'Exact' }, v1, namespaces({})), false);
  });

  it('selects by the namespace labels and by the old or new object labels', () => {
    const rules = [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }];
    const labelled = namespaces({ 'team-a': { env: 'prod' } });
    assert.equal(matches({ rules, namespaceSelector: { matchLabels: { env: 'prod' } } }, request(), labelled), true);
    assert.equal(matches({ rules, namespaceSelector: { matchLabels: { env: 'dev' } } }, request(), labelled), false);
    assert.equal(matches({ rules, namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] } }, request(), labelled), true);
    assert.equal(matches({ rules, objectSelector: { matchLabels: { tier: 'frontend' } } }, request(), labelled), true);
    const relabelled = request({ operation: 'UPDATE', object: { metadata: { name: 'web', labels: {} } }, oldObject: { metadata: { name: 'web', labels: { tier: 'frontend' } } } });
    assert.equal(matches({ rules, objectSelector: { matchLabels: { tier: 'frontend' } } }, relabelled, labelled), true);
    // A Namespace is selected by its own labels.
    const namespace = request({ resource: { group: '', version: 'v1', resource: 'namespaces' }, namespace: undefined, object: { metadata: { name: 'x', labels: { env: 'prod' } } } });
    assert.equal(matches({ rules, namespaceSelector: { matchLabels: { env: 'prod' } } }, namespace, namespaces({})), true);
  });

  it('excludeResourceRules take precedence', () => {
    const rules = [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }];
    assert.equal(matches({ rules, excludeRules: [{ operations: ['*'], apiGroups: ['apps'], apiVersions: ['*'], resources: ['deployments'] }] }, request(), namespaces({})), false);
  });
});
