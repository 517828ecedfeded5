import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compactRules, compactString, compileRule, covers, ruleAllows, type PolicyRule } from '../../src/auth/rbac/rules.js';
import type { AuthorizationAttributes } from '../../src/auth/authorization.js';

const user = { name: 'u', groups: [] };
const resource = (verb: string, group: string, res: string, extra: Partial<AuthorizationAttributes> = {}): AuthorizationAttributes => ({ user, verb, isResourceRequest: true, group, resource: res, ...extra });
const path = (verb: string, p: string): AuthorizationAttributes => ({ user, verb, isResourceRequest: false, path: p });
const allows = (rule: PolicyRule, attributes: AuthorizationAttributes) => ruleAllows(attributes, compileRule(rule));

describe('RBAC rule matching', () => {
  it('matches verbs, groups and resources, with * wildcards', () => {
    assert.ok(allows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, resource('get', '', 'pods')));
    assert.ok(!allows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, resource('list', '', 'pods')));
    assert.ok(!allows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, resource('get', 'apps', 'pods')));
    assert.ok(allows({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, resource('escalate', 'rbac.authorization.k8s.io', 'roles')));
  });

  it('treats subresources as resource/subresource; */sub matches any resource\'s sub', () => {
    assert.ok(!allows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, resource('get', '', 'pods', { subresource: 'log', name: 'p' })));
    assert.ok(allows({ verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, resource('get', '', 'pods', { subresource: 'log', name: 'p' })));
    assert.ok(allows({ verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, resource('get', 'apps', 'deployments', { subresource: 'scale', name: 'd' })));
    assert.ok(!allows({ verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, resource('get', 'apps', 'deployments', { name: 'd' })));
  });

  it('resourceNames restrict to named objects; a request without a name never matches them', () => {
    const rule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] };
    assert.ok(allows(rule, resource('get', '', 'configmaps', { name: 'a' })));
    assert.ok(!allows(rule, resource('get', '', 'configmaps', { name: 'b' })));
    assert.ok(!allows(rule, resource('list', '', 'configmaps')));
  });

  it('non-resource URLs match exactly or by a trailing * prefix, and never resources', () => {
    const rule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
    assert.ok(allows(rule, path('get', '/healthz')));
    assert.ok(!allows(rule, path('get', '/healthz/etcd')));
    assert.ok(allows(rule, path('get', '/apis/apps/v1')));
    assert.ok(allows(rule, path('get', '/apis/')));
    assert.ok(!allows(rule, path('get', '/apis')));
    assert.ok(!allows(rule, path('post', '/healthz')));
    assert.ok(!allows({ verbs: ['get'], apiGroups: ['*'], resources: ['*'] }, path('get', '/healthz')));
  });
});

describe('escalation coverage', () => {
  it('finds exactly the permissions not held, and prints them as upstream', () => {
    const owner: PolicyRule[] = [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', '*/status'] }];
    const { covered, missing } = covers(owner, [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods', 'pods/status', 'pods/log'] }]);
    assert.equal(covered, false);
    assert.deepEqual(compactRules(missing).map(compactString).sort(), ['{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}', '{APIGroups:[""], Resources:["pods/log"], Verbs:["get" "delete"]}', '{APIGroups:[""], Resources:["pods/status"], Verbs:["delete"]}']);
  });

  it('an owner with resourceNames covers only those names; one without covers all', () => {
    const named: PolicyRule[] = [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }];
    assert.ok(covers(named, [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }]).covered);
    assert.ok(!covers(named, [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]).covered);
    assert.ok(covers([{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }], named).covered);
  });

  it('non-resource URLs are covered by an owner\'s prefix', () => {
    assert.ok(covers([{ verbs: ['get'], nonResourceURLs: ['/logs/*'] }], [{ verbs: ['get'], nonResourceURLs: ['/logs/kube'] }]).covered);
    const { missing } = covers([{ verbs: ['get'], apiGroups: ['*'], resources: ['*'] }], [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }]);
    assert.deepEqual(missing.map(compactString), ['{NonResourceURLs:["/metrics"], Verbs:["get"]}']);
  });
});
