/**
 * Malformed credentials and authorization inputs thrown at the real server: bearer tokens (JWT-like
 * and not), client certificates the cluster CA did not sign, impersonation headers, selectors and
 * review bodies. Every answer is a well-formed Status (or a success), never a 5xx, and the server
 * stays up. Seeded (FUZZ_SEED), so a failure reproduces.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCa, issueCertificate } from '../../src/auth/pki.js';
import { rawClient, startServer, type RawResponse, type TestServer } from './harness.js';

let server: TestServer;
let admin: Awaited<ReturnType<typeof rawClient>>;
let anonymous: Awaited<ReturnType<typeof rawClient>>;

before(async () => {
  server = await startServer(['--ephemeral']);
  admin = await rawClient(server.kubeconfig);
  anonymous = await rawClient(server.kubeconfig, { anonymous: true });
});
after(async () => {
  admin?.close();
  anonymous?.close();
  await server?.stop();
});

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const random = seeded(Number(process.env.FUZZ_SEED ?? 2024));
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
const PRINTABLE = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~';
const printable = (max: number) => Array.from({ length: Math.floor(random() * max) }, () => pick([...PRINTABLE])).join('');
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function jwtLike(): string {
  const headers = [{ alg: 'none' }, { alg: 'ES256' }, { alg: 'RS256', kid: printable(10) }, { alg: 'HS256' }, { alg: 'EdDSA' }, {}, [], 'x', null];
  const now = Math.floor(Date.now() / 1000);
  const claims = [
    { iss: 'https://kubernetes.default.svc.cluster.local', sub: 'system:serviceaccount:default:default', aud: ['https://kubernetes.default.svc.cluster.local'], exp: now + 60, 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'default', uid: 'x' } } },
    { iss: 'kubernetes/serviceaccount', 'kubernetes.io/serviceaccount/namespace': 'default' },
    { iss: 'https://kubernetes.default.svc.cluster.local', exp: 'tomorrow', aud: 5 },
    { iss: 'https://kubernetes.default.svc.cluster.local', 'kubernetes.io': 'yes' },
    { iss: 'https://elsewhere.example' },
    {},
    [1, 2],
  ];
  const signature = pick(['', b64(printable(64)), 'not base64!', b64(Buffer.alloc(64))]);
  return [b64(pick(headers)), pick([b64(pick(claims)), printable(20), '']), signature].slice(0, pick([1, 2, 3, 3, 3, 4])).join('.');
}

function authorizationHeader(): string {
  const token = pick([jwtLike, jwtLike, () => printable(200), () => 'a'.repeat(8192), () => '', () => '   ', () => '...'])();
  return pick(['Bearer ', 'bearer ', 'BEARER  ', 'Basic ', 'Token ', '', 'Bearer']) + token;
}

function impersonationHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const names = ['impersonate-user', 'impersonate-group', 'impersonate-uid', `impersonate-extra-${pick(['scopes', '%zz', '%41b', 'a%2Fb', 'x'])}`];
  for (const name of names) if (random() < 0.5) headers[name] = pick(['system:serviceaccount:default:default', 'system:serviceaccount::', 'system:serviceaccount:a:b:c', 'system:anonymous', 'system:masters', '', printable(30)]);
  return headers;
}

function selectorQuery(): string {
  const selectors = ['a=b', 'a in (b,c)', '!x', 'a notin ()', 'metadata.name=x', 'spec.nodeName==n1', '=', ',,', 'a==b==c', '(', 'a in (', 'x>1', printable(20)];
  return `?labelSelector=${encodeURIComponent(pick(selectors))}&fieldSelector=${encodeURIComponent(pick(selectors))}${random() < 0.05 ? '&watch=1&timeoutSeconds=1' : ''}`;
}

const PATHS = [
  '/api/v1/pods',
  '/api/v1/namespaces/default/pods',
  '/api/v1/namespaces/default/secrets/x',
  '/apis/apps/v1/deployments',
  '/api/v1/nodes',
  '/version',
  '/api',
  '/metrics',
  '/openid/v1/jwks',
  '/.well-known/openid-configuration',
  '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
  '/api/v1/namespaces/default/serviceaccounts/default/token',
  '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
  '/apis/authentication.k8s.io/v1/selfsubjectreviews',
];

function assertWellFormed(response: RawResponse, what: string): void {
  assert.ok(response.status > 0 && response.status < 500, `${what}: ${response.status} ${response.body.slice(0, 300)}`);
  if (response.status >= 400) {
    let status: Record<string, unknown>;
    try {
      status = response.json();
    } catch {
      assert.fail(`${what}: ${response.status} with a body that is not JSON: ${response.body.slice(0, 200)}`);
    }
    assert.equal(status.kind, 'Status', what);
    assert.equal(status.apiVersion, 'v1', what);
    assert.equal(status.status, 'Failure', what);
    assert.equal(status.code, response.status, what);
    assert.equal(typeof status.message, 'string', what);
    assert.equal(typeof status.reason, 'string', what);
  }
}

test('malformed bearer tokens, impersonation headers and selectors: no crash, no 5xx, each a Status', { timeout: 180_000 }, async () => {
  const counts = new Map<number, number>();
  for (let i = 0; i < 600; i++) {
    const path = pick(PATHS);
    const method = path.includes('reviews') || path.endsWith('/token') ? 'POST' : pick(['GET', 'GET', 'GET', 'DELETE']);
    const headers: Record<string, string> = { ...(random() < 0.6 ? { authorization: authorizationHeader() } : {}), ...(random() < 0.4 ? impersonationHeaders() : {}) };
    const query = path.startsWith('/api') && !path.includes('reviews') ? selectorQuery() : '';
    const body = method === 'POST' ? pick(['{}', '{"spec":null}', '{"spec":{"resourceAttributes":5}}', '{"spec":{"expirationSeconds":-1}}', '{"spec":{"boundObjectRef":{"kind":"Pod"}}}', '[]', 'x']) : undefined;
    // Half the requests come with the admin's certificate, half without any.
    const client = random() < 0.5 ? admin : anonymous;
    const response = await client.request(method, path + query, body, headers);
    assertWellFormed(response, `${method} ${path}${query} ${JSON.stringify(headers).slice(0, 200)}`);
    counts.set(response.status, (counts.get(response.status) ?? 0) + 1);
  }
  // The generator reaches every gate: refused credentials, refused impersonation, bad requests, and successes.
  for (const code of [401, 403, 400]) assert.ok((counts.get(code) ?? 0) > 5, `${code}: ${JSON.stringify([...counts])}`);
  assert.ok([...counts.keys()].some((code) => code < 300), JSON.stringify([...counts]));
  assert.equal((await admin.request('GET', '/readyz')).body, 'ok');
});

test('malformed review and TokenRequest bodies are 4xx Status answers', { timeout: 120_000 }, async () => {
  const values: unknown[] = [null, 5, 'x', true, [], {}, [null], { a: 1 }, -1, 1e30, 599, 600, 2 ** 33];
  const fields = ['spec', 'spec.resourceAttributes', 'spec.nonResourceAttributes', 'spec.resourceAttributes.verb', 'spec.resourceAttributes.namespace', 'spec.user', 'spec.groups', 'spec.extra', 'spec.namespace', 'spec.token', 'spec.audiences', 'spec.expirationSeconds', 'spec.boundObjectRef', 'spec.boundObjectRef.kind', 'spec.boundObjectRef.uid', 'metadata', 'kind', 'apiVersion'];
  const targets = [
    ['/apis/authorization.k8s.io/v1/subjectaccessreviews', 'authorization.k8s.io/v1', 'SubjectAccessReview'],
    ['/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', 'authorization.k8s.io/v1', 'SelfSubjectAccessReview'],
    ['/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews', 'authorization.k8s.io/v1', 'LocalSubjectAccessReview'],
    ['/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', 'authorization.k8s.io/v1', 'SelfSubjectRulesReview'],
    ['/apis/authentication.k8s.io/v1/tokenreviews', 'authentication.k8s.io/v1', 'TokenReview'],
    ['/apis/authentication.k8s.io/v1/selfsubjectreviews', 'authentication.k8s.io/v1', 'SelfSubjectReview'],
    ['/api/v1/namespaces/default/serviceaccounts/default/token', 'authentication.k8s.io/v1', 'TokenRequest'],
  ];
  for (let i = 0; i < 400; i++) {
    const [path, apiVersion, kind] = pick(targets);
    const body: Record<string, unknown> = { apiVersion, kind, spec: {} };
    for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
      const parts = pick(fields).split('.');
      let current = body;
      for (const part of parts.slice(0, -1)) {
        if (typeof current[part] !== 'object' || current[part] === null || Array.isArray(current[part])) current[part] = {};
        current = current[part] as Record<string, unknown>;
      }
      current[parts[parts.length - 1]] = structuredClone(pick(values));
    }
    const response = await admin.request('POST', path, JSON.stringify(body));
    assertWellFormed(response, `${path} ${JSON.stringify(body)}`);
  }
  assert.equal((await admin.request('GET', '/readyz')).body, 'ok');
});

test('client certificates the cluster CA did not sign are 401 Status answers', { timeout: 60_000 }, async () => {
  const stranger = await createCa('stranger-ca');
  const forged = await issueCertificate(stranger, { commonName: 'kubernetes-admin', organizations: ['system:masters'], usage: 'client', validDays: 1 });
  const ca = await readFile(join(server.dataDir, 'pki', 'ca.crt'));
  const session = connect(server.url, { ca, cert: forged.certPem, key: forged.keyPem });
  session.on('error', () => {});
  try {
    for (const path of ['/api/v1/namespaces', '/version', '/apis/authentication.k8s.io/v1/selfsubjectreviews']) {
      const response = await new Promise<RawResponse>((resolve, reject) => {
        const req = session.request({ ':method': path.includes('reviews') ? 'POST' : 'GET', ':path': path, 'content-type': 'application/json' });
        const chunks: Buffer[] = [];
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status, headers: {}, body: text, json: () => JSON.parse(text) });
        });
        req.on('error', reject);
        req.end(path.includes('reviews') ? '{}' : undefined);
      });
      assert.equal(response.status, 401, `${path}: ${response.body}`);
      assertWellFormed(response, path);
    }
  } finally {
    session.close();
  }
  assert.equal((await admin.request('GET', '/readyz')).body, 'ok');
});
