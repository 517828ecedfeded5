import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { AuthenticationError } from '../../src/auth/authenticate.js';
import { ServiceAccountTokens, type ObjectLookup } from '../../src/auth/service-account-tokens.js';
import type { Obj } from '../../src/registry/strategy.js';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';

function world() {
  const objects = new Map<string, Obj>();
  const put = (resource: string, namespace: string | undefined, name: string, extra: Record<string, unknown> = {}) => {
    const object = { metadata: { name, namespace, uid: `${resource}-${name}-uid` }, ...extra } as Obj;
    objects.set(`${resource}/${namespace ?? ''}/${name}`, object);
    return object;
  };
  const lookup: ObjectLookup = (resource, namespace, name) => objects.get(`${resource}/${namespace ?? ''}/${name}`);
  let now = Date.now();
  const tokens = new ServiceAccountTokens({ signingKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, issuers: [ISSUER], apiAudiences: [ISSUER], lookup, now: () => now });
  return { objects, put, tokens, advance: (ms: number) => (now += ms) };
}

function refusal(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    assert.ok(error instanceof AuthenticationError, String(error));
    return error.message;
  }
  assert.fail('expected the token to be refused');
}

describe('service-account tokens', () => {
  it('a bound token authenticates as its account, with the pod in extra, until the pod is gone', () => {
    const { put, objects, tokens } = world();
    const account = put('serviceaccounts', 'ns', 'robot');
    put('nodes', undefined, 'n1');
    const pod = put('pods', 'ns', 'p', { spec: { serviceAccountName: 'robot', nodeName: 'n1' } });
    const { token } = tokens.issue(account, { pod }, 3600, [ISSUER]);
    const result = tokens.authenticateToken(token)!;
    assert.equal(result.user.name, 'system:serviceaccount:ns:robot');
    assert.equal(result.user.uid, 'serviceaccounts-robot-uid');
    assert.deepEqual(result.user.extra?.['authentication.kubernetes.io/pod-name'], ['p']);
    assert.deepEqual(result.user.extra?.['authentication.kubernetes.io/node-name'], ['n1']);
    assert.deepEqual(result.audiences, [ISSUER]);
    objects.delete('pods/ns/p');
    assert.match(refusal(() => tokens.authenticateToken(token)), /pods ns\/p has been deleted/);
  });

  it('a recreated account (another uid), an expired token and a foreign audience are refused', () => {
    const { put, tokens, advance } = world();
    const account = put('serviceaccounts', 'ns', 'robot');
    const { token } = tokens.issue(account, {}, 600, [ISSUER]);
    assert.match(refusal(() => tokens.authenticateToken(token, ['https://other.example'])), /audiences/);
    put('serviceaccounts', 'ns', 'robot').metadata.uid = 'new-uid';
    assert.match(refusal(() => tokens.authenticateToken(token)), /does not match claim/);
    const fresh = tokens.issue(put('serviceaccounts', 'ns', 'robot'), {}, 600, [ISSUER]).token;
    advance(12 * 60 * 1000);
    assert.match(refusal(() => tokens.authenticateToken(fresh)), /expired/);
  });

  it('tokens of other issuers are not its business; a forged signature is refused', () => {
    const { put, tokens } = world();
    const other = world();
    assert.equal(tokens.authenticateToken('not-a-jwt'), undefined);
    const foreign = Buffer.from(JSON.stringify({ alg: 'ES256' })).toString('base64url') + '.' + Buffer.from(JSON.stringify({ iss: 'https://idp.example' })).toString('base64url') + '.AA';
    assert.equal(tokens.authenticateToken(foreign), undefined);
    const forged = other.tokens.issue(other.put('serviceaccounts', 'ns', 'robot'), {}, 600, [ISSUER]).token;
    put('serviceaccounts', 'ns', 'robot');
    assert.match(refusal(() => tokens.authenticateToken(forged)), /signature/);
  });

  it('a legacy token lives as long as its secret holds it', () => {
    const { put, tokens } = world();
    const account = put('serviceaccounts', 'ns', 'robot');
    const secret = put('secrets', 'ns', 'robot-token', { type: 'kubernetes.io/service-account-token' });
    const token = tokens.issueLegacy(account, secret);
    secret.data = { token: Buffer.from(token).toString('base64') };
    assert.equal(tokens.authenticateToken(token)!.user.name, 'system:serviceaccount:ns:robot');
    secret.data = { token: Buffer.from('something else').toString('base64') };
    assert.match(refusal(() => tokens.authenticateToken(token)), /does not match/);
  });
});
