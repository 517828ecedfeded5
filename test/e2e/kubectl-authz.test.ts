/**
 * Authentication and authorization with the real kubectl: RBAC as a `view` user, `auth can-i`
 * (with --list and --as), `auth whoami`, escalation prevention for a namespace admin, tokens from
 * `kubectl create token` (and their end), anonymous requests, impersonation, OIDC tokens, and the
 * default ServiceAccount and kube-root-ca.crt of a new namespace.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyIdOf, signEs256 } from '../../src/auth/jwt.js';
import { SealedKeyFiles } from '../../src/storage/keys/sealed-key-files.js';
import { eventually, KUBECTL_OLDEST, rawClient, startServer, type TestServer } from './harness.js';

const ISSUER = 'https://issuer.example.com';
const CLIENT_ID = 'nautilus';

let server: TestServer;
let dir: string;
let oidcKey: ReturnType<typeof generateKeyPairSync>['privateKey'];

/** kubectl with only a bearer token (no client certificate), against the test server. */
function asToken(token: string, args: string[]) {
  return server.kubectl(['--kubeconfig', '/dev/null', '--server', server.url, '--certificate-authority', join(server.dataDir, 'pki', 'ca.crt'), '--token', token, ...args]);
}

/**
 * kubectl without credentials. Left without any, kubectl prompts for a password; a Basic header
 * carries none the server accepts (there is no basic authenticator, as upstream since 1.19), so
 * the request is anonymous.
 */
function asAnonymous(args: string[]) {
  return server.kubectl(['--kubeconfig', '/dev/null', '--server', server.url, '--certificate-authority', join(server.dataDir, 'pki', 'ca.crt'), '--username=none', '--password=none', ...args]);
}

function oidcToken(claims: Record<string, unknown>): string {
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'test-key' })).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const payload = Buffer.from(JSON.stringify({ iss: ISSUER, aud: CLIENT_ID, iat: now, exp: now + 600, ...claims })).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), oidcKey).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nautilus-authz-'));
  const tokens = join(dir, 'tokens.csv');
  await writeFile(tokens, 'viewer-token,vera,1001,"viewers"\nnsadmin-token,nadia,1002\nnobody-token,nobody,1003\n');
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  oidcKey = pair.privateKey;
  const jwks = join(dir, 'jwks.json');
  await writeFile(jwks, JSON.stringify({ keys: [{ ...pair.publicKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' }] }));
  server = await startServer([
    '--ephemeral',
    '--token-auth-file', tokens,
    '--oidc-issuer-url', ISSUER,
    '--oidc-client-id', CLIENT_ID,
    '--oidc-jwks-file', jwks,
    '--oidc-username-claim', 'email',
    '--oidc-username-prefix', 'oidc:',
    '--oidc-groups-claim', 'groups',
    '--oidc-groups-prefix', 'oidc:',
    '--oidc-required-claim', 'tenant=blue',
  ]);
  await server.ok(['create', 'namespace', 'shop']);
  await server.ok(['-n', 'shop', 'create', 'rolebinding', 'vera-view', '--clusterrole=view', '--user=vera']);
  await server.ok(['-n', 'shop', 'create', 'rolebinding', 'nadia-admin', '--clusterrole=admin', '--user=nadia']);
  await server.ok(['-n', 'shop', 'create', 'configmap', 'settings', '--from-literal=a=b']);
  await server.ok(['-n', 'shop', 'create', 'secret', 'generic', 'password', '--from-literal=p=s3cr3t']);
  await server.ok(['-n', 'shop', 'run', 'web', '--image=nginx']);
});

after(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('RBAC as a view user', () => {
  it('can get pods but neither delete them nor read secrets, with upstream\'s wording', async () => {
    const pods = await asToken('viewer-token', ['-n', 'shop', 'get', 'pods', '-o', 'name']);
    assert.equal(pods.code, 0, pods.stderr);
    assert.match(pods.stdout, /pod\/web/);
    const del = await asToken('viewer-token', ['-n', 'shop', 'delete', 'pod', 'web']);
    assert.notEqual(del.code, 0);
    assert.match(del.stderr, /Error from server \(Forbidden\): pods "web" is forbidden: User "vera" cannot delete resource "pods" in API group "" in the namespace "shop"/);
    const secrets = await asToken('viewer-token', ['-n', 'shop', 'get', 'secrets']);
    assert.match(secrets.stderr, /secrets is forbidden: User "vera" cannot list resource "secrets" in API group "" in the namespace "shop"/);
    const elsewhere = await asToken('viewer-token', ['-n', 'default', 'get', 'pods']);
    assert.match(elsewhere.stderr, /pods is forbidden: User "vera" cannot list resource "pods" in API group "" in the namespace "default"/);
  });

  it('auth can-i answers yes and no, and --list shows the rules', async () => {
    assert.equal((await asToken('viewer-token', ['-n', 'shop', 'auth', 'can-i', 'get', 'pods'])).stdout.trim(), 'yes');
    const no = await asToken('viewer-token', ['-n', 'shop', 'auth', 'can-i', 'delete', 'pods']);
    assert.equal(no.stdout.trim(), 'no');
    assert.equal(no.code, 1);
    assert.equal((await asToken('viewer-token', ['-n', 'shop', 'auth', 'can-i', 'get', 'pods', '--subresource=log'])).stdout.trim(), 'yes');
    const list = await asToken('viewer-token', ['-n', 'shop', 'auth', 'can-i', '--list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/m);
    assert.match(list.stdout, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]/m);
    assert.match(list.stdout, /^deployments\.apps\s+\[\]\s+\[\]\s+\[get list watch\]/m);
    assert.match(list.stdout, /\[\/version\]\s+\[\]\s+\[get\]/);
    assert.doesNotMatch(list.stdout, /^secrets\s/m);
    // In another namespace the view binding does not apply.
    const other = await asToken('viewer-token', ['-n', 'default', 'auth', 'can-i', '--list']);
    assert.doesNotMatch(other.stdout, /^pods\s/m);
  });

  it('auth can-i --as and --as-group answer for someone else (the admin may impersonate)', async () => {
    assert.equal((await server.kubectl(['-n', 'shop', 'auth', 'can-i', 'get', 'pods', '--as=vera'])).stdout.trim(), 'yes');
    assert.equal((await server.kubectl(['-n', 'shop', 'auth', 'can-i', 'delete', 'pods', '--as=vera'])).stdout.trim(), 'no');
    assert.equal((await server.kubectl(['-n', 'shop', 'auth', 'can-i', 'get', 'secrets', '--as=vera'])).stdout.trim(), 'no');
    await server.ok(['-n', 'shop', 'create', 'rolebinding', 'viewers-secrets', '--role=secret-reader', '--group=viewers']);
    await server.ok(['-n', 'shop', 'create', 'role', 'secret-reader', '--verb=get', '--resource=secrets']);
    assert.equal((await server.kubectl(['-n', 'shop', 'auth', 'can-i', 'get', 'secrets', '--as=someone', '--as-group=viewers'])).stdout.trim(), 'yes');
    assert.equal((await server.kubectl(['-n', 'shop', 'auth', 'can-i', 'get', 'secrets', '--as=someone'])).stdout.trim(), 'no');
  });

  it('auth whoami tells who the server thinks you are', async () => {
    const me = await asToken('viewer-token', ['auth', 'whoami']);
    assert.equal(me.code, 0, me.stderr);
    assert.match(me.stdout, /Username\s+vera/);
    assert.match(me.stdout, /UID\s+1001/);
    assert.match(me.stdout, /Groups\s+\[viewers system:authenticated\]/);
    // kubectl 1.27 asks the beta SelfSubjectReview.
    assert.match(await server.ok(['auth', 'whoami'], { binary: KUBECTL_OLDEST }), /Username\s+kubernetes-admin/);
    const admin = await server.ok(['auth', 'whoami', '-o', 'json']);
    assert.deepEqual(JSON.parse(admin).status.userInfo, { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] });
  });
});

describe('privilege escalation', () => {
  it('a namespace admin cannot bind cluster-admin, but can bind edit in its namespace', async () => {
    const escalate = await asToken('nsadmin-token', ['-n', 'shop', 'create', 'rolebinding', 'grab', '--clusterrole=cluster-admin', '--user=nadia']);
    assert.notEqual(escalate.code, 0);
    assert.match(escalate.stderr, /rolebindings\.rbac\.authorization\.k8s\.io "grab" is forbidden: user "nadia" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}\n\{NonResourceURLs:\["\*"\], Verbs:\["\*"\]\}/);
    const edit = await asToken('nsadmin-token', ['-n', 'shop', 'create', 'rolebinding', 'helper-edit', '--clusterrole=edit', '--user=helper']);
    assert.equal(edit.code, 0, edit.stderr);
    const elsewhere = await asToken('nsadmin-token', ['-n', 'default', 'create', 'rolebinding', 'helper-edit', '--clusterrole=edit', '--user=helper']);
    assert.match(elsewhere.stderr, /rolebindings\.rbac\.authorization\.k8s\.io is forbidden: User "nadia" cannot create resource "rolebindings"/);
    const role = await asToken('nsadmin-token', ['-n', 'shop', 'create', 'role', 'nodes', '--verb=get', '--resource=nodes']);
    assert.match(role.stderr, /is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["nodes"\], Verbs:\["get"\]\}/);
    // With the bind verb on cluster-admin, the same binding is allowed.
    await server.ok(['create', 'clusterrole', 'bind-cluster-admin', '--verb=bind', '--resource=clusterroles', '--resource-name=cluster-admin']);
    await server.ok(['-n', 'shop', 'create', 'rolebinding', 'nadia-bind', '--clusterrole=bind-cluster-admin', '--user=nadia']);
    const bound = await asToken('nsadmin-token', ['-n', 'shop', 'create', 'rolebinding', 'grab', '--clusterrole=cluster-admin', '--user=someone']);
    assert.equal(bound.code, 0, bound.stderr);
  });
});

describe('service account tokens', () => {
  it('a token from kubectl create token works, and is refused (401) once its ServiceAccount is gone', async () => {
    await server.ok(['-n', 'shop', 'create', 'serviceaccount', 'robot']);
    await server.ok(['-n', 'shop', 'create', 'rolebinding', 'robot-view', '--clusterrole=view', '--serviceaccount=shop:robot']);
    const token = (await server.ok(['-n', 'shop', 'create', 'token', 'robot', '--duration=15m'])).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    assert.equal(claims.sub, 'system:serviceaccount:shop:robot');
    assert.equal(claims['kubernetes.io'].namespace, 'shop');
    assert.ok(claims.exp - claims.iat === 900, 'the duration asked for');
    const pods = await asToken(token, ['-n', 'shop', 'get', 'pods', '-o', 'name']);
    assert.equal(pods.code, 0, pods.stderr);
    const me = await asToken(token, ['auth', 'whoami']);
    assert.match(me.stdout, /Username\s+system:serviceaccount:shop:robot/);
    assert.match(me.stdout, /system:serviceaccounts:shop/);
    await server.ok(['-n', 'shop', 'delete', 'serviceaccount', 'robot']);
    const gone = await asToken(token, ['-n', 'shop', 'get', 'pods']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /You must be logged in to the server \(Unauthorized\)/);
    // A ServiceAccount of the same name is another account: the old token stays refused.
    await server.ok(['-n', 'shop', 'create', 'serviceaccount', 'robot']);
    assert.match((await asToken(token, ['-n', 'shop', 'get', 'pods'])).stderr, /Unauthorized/);
  });

  it('a token bound to a pod ends with the pod; binding to a pod of another account is refused', async () => {
    await server.ok(['-n', 'shop', 'run', 'bound', '--image=nginx']);
    const token = (await server.ok(['-n', 'shop', 'create', 'token', 'default', '--bound-object-kind=Pod', '--bound-object-name=bound'])).trim();
    const me = await asToken(token, ['auth', 'whoami']);
    assert.match(me.stdout, /authentication\.kubernetes\.io\/pod-name\s+\[bound\]/);
    const wrong = await server.kubectl(['-n', 'shop', 'create', 'token', 'robot', '--bound-object-kind=Pod', '--bound-object-name=bound']);
    assert.match(wrong.stderr, /cannot bind token for serviceaccount "robot" to pod running with different serviceaccount name/);
    await server.ok(['-n', 'shop', 'delete', 'pod', 'bound', '--grace-period=0', '--force']);
    await eventually(async () => assert.match((await asToken(token, ['auth', 'whoami'])).stderr, /Unauthorized/));
    const secretBound = (await server.ok(['-n', 'shop', 'create', 'token', 'default', '--bound-object-kind=Secret', '--bound-object-name=password'])).trim();
    assert.equal((await asToken(secretBound, ['auth', 'whoami'])).code, 0);
    await server.ok(['-n', 'shop', 'delete', 'secret', 'password']);
    assert.match((await asToken(secretBound, ['auth', 'whoami'])).stderr, /Unauthorized/);
  });

  it('expired and tampered tokens are 401, never anonymous', async () => {
    const good = (await server.ok(['-n', 'shop', 'create', 'token', 'default'])).trim();
    const [header, payload, signature] = good.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:default' })).toString('base64url')}.${signature}`;
    assert.match((await asToken(tampered, ['get', '--raw', '/version'])).stderr, /Unauthorized/);
    // Signed with the server's own key, but expired an hour ago.
    const saKey = await new SealedKeyFiles(join(server.dataDir, 'pki'), await readFile(join(server.dataDir, 'data.key'))).read('sa.key');
    const key = createPrivateKey(saKey!);
    const now = Math.floor(Date.now() / 1000);
    const expired = signEs256({ ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }, key, keyIdOf(createPublicKey(key)));
    assert.match((await asToken(expired, ['get', '--raw', '/version'])).stderr, /Unauthorized/);
    const fresh = signEs256({ ...claims, iat: now, nbf: now, exp: now + 3600 }, key, keyIdOf(createPublicKey(key)));
    assert.equal((await asToken(fresh, ['get', '--raw', '/version'])).code, 0, 'the same claims, unexpired, are accepted');
    assert.match((await asToken('made.up.token', ['get', '--raw', '/version'])).stderr, /Unauthorized/);
  });

  it('the issuer publishes its discovery document and keys to service accounts', async () => {
    const token = (await server.ok(['-n', 'shop', 'create', 'token', 'default'])).trim();
    const config = JSON.parse((await asToken(token, ['get', '--raw', '/.well-known/openid-configuration'])).stdout);
    assert.equal(config.issuer, 'https://kubernetes.default.svc.cluster.local');
    assert.equal(config.jwks_uri, `${server.url}/openid/v1/jwks`);
    const jwks = JSON.parse((await asToken(token, ['get', '--raw', '/openid/v1/jwks'])).stdout);
    const kid = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid;
    assert.equal(jwks.keys[0].kid, kid);
    assert.equal(jwks.keys[0].alg, 'ES256');
    assert.match((await asAnonymous(['get', '--raw', '/openid/v1/jwks'])).stderr, /Forbidden/);
  });
});

describe('anonymous requests and impersonation', () => {
  it('anonymous may read /version and /healthz, not list pods', async () => {
    const version = await asAnonymous(['get', '--raw', '/version']);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(JSON.parse(version.stdout).major, '1');
    assert.equal((await asAnonymous(['get', '--raw', '/healthz'])).stdout, 'ok');
    const pods = await asAnonymous(['get', '--raw', '/api/v1/namespaces/shop/pods']);
    assert.match(pods.stderr, /pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "shop"/);
    // Discovery is for authenticated users only (system:discovery), so kubectl get cannot even start.
    const get = await asAnonymous(['-n', 'shop', 'get', 'pods']);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /Forbidden/);
  });

  it('impersonation needs the impersonate verb', async () => {
    const refused = await asToken('viewer-token', ['-n', 'shop', 'get', 'pods', '--as=nadia']);
    assert.match(refused.stderr, /users "nadia" is forbidden: User "vera" cannot impersonate resource "users" in API group "" at the cluster scope/);
    await server.ok(['create', 'clusterrole', 'impersonate-nadia', '--verb=impersonate', '--resource=users', '--resource-name=nadia']);
    await server.ok(['create', 'clusterrolebinding', 'vera-impersonates', '--clusterrole=impersonate-nadia', '--user=vera']);
    const me = await asToken('viewer-token', ['auth', 'whoami', '--as=nadia']);
    assert.equal(me.code, 0, me.stderr);
    assert.match(me.stdout, /Username\s+nadia/);
    const groups = await asToken('viewer-token', ['-n', 'shop', 'get', 'pods', '--as=nadia', '--as-group=system:masters']);
    assert.match(groups.stderr, /groups "system:masters" is forbidden: User "vera" cannot impersonate resource "groups"/);
    const other = await asToken('viewer-token', ['-n', 'shop', 'get', 'pods', '--as=root']);
    assert.match(other.stderr, /users "root" is forbidden/);
  });
});

describe('OIDC', () => {
  it('an ID token from the configured issuer authenticates, with prefixes, and RBAC applies', async () => {
    const token = oidcToken({ sub: 'u-42', email: 'alice@example.com', email_verified: true, groups: ['dev', 'ops'], tenant: 'blue' });
    const me = await asToken(token, ['auth', 'whoami']);
    assert.equal(me.code, 0, me.stderr);
    assert.match(me.stdout, /Username\s+oidc:alice@example\.com/);
    assert.match(me.stdout, /Groups\s+\[oidc:dev oidc:ops system:authenticated\]/);
    assert.match((await asToken(token, ['-n', 'shop', 'get', 'pods'])).stderr, /User "oidc:alice@example\.com" cannot list/);
    await server.ok(['-n', 'shop', 'create', 'rolebinding', 'oidc-dev', '--clusterrole=view', '--group=oidc:dev']);
    assert.equal((await asToken(token, ['-n', 'shop', 'get', 'pods'])).code, 0);
  });

  it('wrong audience, missing required claim, unverified email and a foreign key are 401', async () => {
    const base = { sub: 'u-42', email: 'alice@example.com', groups: ['dev'], tenant: 'blue' };
    for (const token of [
      oidcToken({ ...base, aud: 'someone-else' }),
      oidcToken({ ...base, tenant: 'red' }),
      oidcToken({ ...base, email_verified: false }),
      oidcToken({ ...base, exp: Math.floor(Date.now() / 1000) - 3600 }),
    ]) {
      assert.match((await asToken(token, ['auth', 'whoami'])).stderr, /Unauthorized/, token);
    }
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const saved = oidcKey;
    oidcKey = stranger;
    try {
      assert.match((await asToken(oidcToken(base), ['auth', 'whoami'])).stderr, /Unauthorized/);
    } finally {
      oidcKey = saved;
    }
  });
});

describe('service account and root CA controllers', () => {
  it('a new namespace gets a default ServiceAccount and kube-root-ca.crt with the cluster CA', async () => {
    await server.ok(['create', 'namespace', 'fresh']);
    await eventually(async () => assert.match(await server.ok(['-n', 'fresh', 'get', 'serviceaccount', 'default', '-o', 'name']), /serviceaccount\/default/));
    const ca = await readFile(join(server.dataDir, 'pki', 'ca.crt'), 'utf8');
    await eventually(async () => {
      const cm = JSON.parse(await server.ok(['-n', 'fresh', 'get', 'configmap', 'kube-root-ca.crt', '-o', 'json']));
      assert.equal(cm.data['ca.crt'], ca);
    });
    // Deleted, both come back.
    await server.ok(['-n', 'fresh', 'delete', 'serviceaccount', 'default']);
    await server.ok(['-n', 'fresh', 'delete', 'configmap', 'kube-root-ca.crt']);
    await eventually(async () => assert.match(await server.ok(['-n', 'fresh', 'get', 'serviceaccount,configmap', '-o', 'name']), /serviceaccount\/default[\s\S]*configmap\/kube-root-ca\.crt|configmap\/kube-root-ca\.crt[\s\S]*serviceaccount\/default/));
  });

  it('the controllers act as their own service accounts, authorized by the bootstrap policy', async () => {
    const admin = await rawClient(server.kubeconfig);
    try {
      const review = await admin.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: 'system:serviceaccount:kube-system:root-ca-cert-publisher', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'], resourceAttributes: { verb: 'delete', resource: 'configmaps', namespace: 'fresh' } },
      }));
      assert.equal(review.json<{ status: { allowed: boolean } }>().status.allowed, false, 'the publisher may create and update configmaps, not delete them');
    } finally {
      admin.close();
    }
  });
});
