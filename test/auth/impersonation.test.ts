import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/api/status.js';
import { impersonate } from '../../src/auth/impersonation.js';
import type { AuthorizationAttributes, Authorizer } from '../../src/auth/authorization.js';

const admin = { name: 'root', groups: ['ops', 'system:authenticated'] };

/** Records what was asked; allows unless `deny` says otherwise. */
function recording(deny: (a: AuthorizationAttributes) => boolean = () => false) {
  const asked: AuthorizationAttributes[] = [];
  const authorizer: Authorizer = { authorize: (a) => (asked.push(a), deny(a) ? { allowed: false, noOpinion: true } : { allowed: true }) };
  return { asked, authorizer };
}

function error(call: () => unknown): ApiError {
  try {
    call();
  } catch (e) {
    assert.ok(e instanceof ApiError);
    return e;
  }
  assert.fail('expected an error');
}

describe('impersonation', () => {
  it('asks impersonate on each user, group, uid and extra, and switches to that user', () => {
    const { asked, authorizer } = recording();
    const user = impersonate(admin, [['impersonate-user', 'jane'], ['impersonate-group', 'dev'], ['impersonate-group', 'qa'], ['impersonate-uid', '42'], ['impersonate-extra-scopes', 'view'], ['impersonate-extra-scopes', 'edit'], ['impersonate-extra-a%2Fb', 'x']], authorizer);
    assert.deepEqual(user, { name: 'jane', groups: ['dev', 'qa', 'system:authenticated'], uid: '42', extra: { scopes: ['view', 'edit'], 'a/b': ['x'] } });
    assert.deepEqual(
      asked.map((a) => [a.verb, a.group, a.resource, a.subresource, a.name]),
      [
        ['impersonate', '', 'users', undefined, 'jane'],
        ['impersonate', '', 'groups', undefined, 'dev'],
        ['impersonate', '', 'groups', undefined, 'qa'],
        ['impersonate', 'authentication.k8s.io', 'uids', undefined, '42'],
        ['impersonate', 'authentication.k8s.io', 'userextras', 'scopes', 'view'],
        ['impersonate', 'authentication.k8s.io', 'userextras', 'scopes', 'edit'],
        ['impersonate', 'authentication.k8s.io', 'userextras', 'a/b', 'x'],
      ],
    );
  });

  it('a service account is asked for as the serviceaccounts resource and gets its groups', () => {
    const { asked, authorizer } = recording();
    const user = impersonate(admin, [['impersonate-user', 'system:serviceaccount:ns1:robot']], authorizer);
    assert.deepEqual(user.groups, ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated']);
    assert.deepEqual([asked[0].resource, asked[0].namespace, asked[0].name], ['serviceaccounts', 'ns1', 'robot']);
  });

  it('anonymous stays unauthenticated; system:unauthenticated keeps authenticated out', () => {
    const { authorizer } = recording();
    assert.deepEqual(impersonate(admin, [['impersonate-user', 'system:anonymous']], authorizer).groups, ['system:unauthenticated']);
    assert.deepEqual(impersonate(admin, [['impersonate-user', 'x'], ['impersonate-group', 'system:unauthenticated']], authorizer).groups, ['system:unauthenticated']);
  });

  it('refuses groups without a user (400) and anything not authorized (403, upstream wording)', () => {
    const { authorizer } = recording((a) => a.resource === 'groups' && a.name === 'system:masters');
    assert.equal(error(() => impersonate(admin, [['impersonate-group', 'dev']], authorizer)).code, 400);
    const refused = error(() => impersonate(admin, [['impersonate-user', 'jane'], ['impersonate-group', 'system:masters']], authorizer));
    assert.equal(refused.code, 403);
    assert.equal(refused.message, 'groups "system:masters" is forbidden: User "root" cannot impersonate resource "groups" in API group "" at the cluster scope');
  });
});
