/** Bootstrap-token authentication as upstream's token/bootstrap authenticator decides it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BootstrapTokens } from '../../src/auth/bootstrap-tokens.js';
import type { Obj } from '../../src/registry/strategy.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const b64 = (text: string) => Buffer.from(text).toString('base64');

function secret(data: Record<string, string>, extra: Partial<Obj> = {}): Obj {
  return {
    metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    data: Object.fromEntries(Object.entries({ 'token-id': 'abcdef', 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true', ...data }).map(([k, v]) => [k, b64(v)])),
    ...extra,
  } as Obj;
}

function authenticator(stored: Obj | undefined) {
  const seen: string[] = [];
  const tokens = new BootstrapTokens((resource, namespace, name) => {
    seen.push(`${resource}/${namespace}/${name}`);
    return stored;
  }, () => NOW);
  return { tokens, seen };
}

describe('bootstrap tokens', () => {
  it('authenticates <id>.<secret> as system:bootstrap:<id> in system:bootstrappers and the extra groups', () => {
    const { tokens, seen } = authenticator(secret({ 'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token', expiration: '2026-12-03T00:00:00Z' }));
    assert.deepEqual(tokens.authenticateToken('abcdef.0123456789abcdef')?.user, { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token'] });
    assert.deepEqual(seen, ['secrets/kube-system/bootstrap-token-abcdef']);
  });

  it('declines what is not a valid bootstrap token, without looking anything up for a malformed one', () => {
    const malformed = authenticator(secret({}));
    for (const token of ['abcdef', 'ABCDEF.0123456789abcdef', 'abcdef.0123456789abcde', 'abcdef.0123456789abcdef0', 'abcde.0123456789abcdefg', 'eyJhbGciOi.xxx']) assert.equal(malformed.tokens.authenticateToken(token), undefined, token);
    assert.deepEqual(malformed.seen, []);
    const cases: Array<[string, Obj | undefined]> = [
      ['no secret', undefined],
      ['wrong secret', secret({ 'token-secret': 'ffffffffffffffff' })],
      ['wrong type', secret({}, { type: 'Opaque' })],
      ['being deleted', secret({}, { metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system', deletionTimestamp: '2026-12-02T11:00:00Z' } })],
      ['expired', secret({ expiration: '2026-12-02T11:59:59Z' })],
      ['unreadable expiration', secret({ expiration: 'tomorrow' })],
      ['not for authentication', secret({ 'usage-bootstrap-authentication': 'false' })],
      ['other token id', secret({ 'token-id': 'zzzzzz' })],
      ['an extra group outside system:bootstrappers:', secret({ 'auth-extra-groups': 'system:masters' })],
    ];
    for (const [why, stored] of cases) assert.equal(authenticator(stored).tokens.authenticateToken('abcdef.0123456789abcdef'), undefined, why);
  });
});
