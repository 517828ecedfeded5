/**
 * The RBAC matrix: users, groups and service accounts bound (RoleBinding and ClusterRoleBinding,
 * to Roles and ClusterRoles, one of them aggregated) × every verb × every served resource (plus
 * pods/log, deployments/scale, status subresources, resourceNames) × namespaces, and non-resource
 * URLs. Each cell's expected answer comes from a small reference written here from the rules
 * upstream documents (kubernetes.io/docs/reference/access-authn-authz/rbac/) — it never calls the
 * server's authorizer — and is compared with what the real server answers to SubjectAccessReview;
 * a seeded sample is also asked through SelfSubjectAccessReview and as real requests.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allKinds } from '../../src/registry/catalog.js';
import { eventually, rawClient, startServer, type TestServer } from './harness.js';

// --- the policy under test, as plain data (created through the API, evaluated by the reference) ---

interface Rule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
interface Role {
  kind: 'Role' | 'ClusterRole';
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  rules?: Rule[];
  /** matchLabels of an aggregationRule. */
  aggregate?: Record<string, string>;
}
interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
}
interface Binding {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  name: string;
  namespace?: string;
  roleRef: { kind: 'Role' | 'ClusterRole'; name: string };
  subjects: Subject[];
}

const AGG_LABEL = { 'matrix.example.com/aggregate': 'true' };

const ROLES: Role[] = [
  { kind: 'Role', name: 'pod-reader', namespace: 'team-a', rules: [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'pods/log'] }] },
  { kind: 'Role', name: 'named-cm', namespace: 'team-a', rules: [{ verbs: ['get', 'update', 'delete'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['alpha'] }] },
  {
    kind: 'ClusterRole',
    name: 'matrix-deployer',
    rules: [
      { verbs: ['get', 'list', 'update', 'patch'], apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'] },
      { verbs: ['create', 'delete'], apiGroups: ['batch'], resources: ['*'] },
    ],
  },
  { kind: 'ClusterRole', name: 'matrix-agg-a', labels: AGG_LABEL, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['services', 'endpoints'] }] },
  {
    kind: 'ClusterRole',
    name: 'matrix-agg-b',
    labels: AGG_LABEL,
    rules: [
      { verbs: ['*'], apiGroups: ['networking.k8s.io'], resources: ['*'] },
      { verbs: ['get'], nonResourceURLs: ['/matrix/*'] },
    ],
  },
  { kind: 'ClusterRole', name: 'matrix-aggregate', aggregate: AGG_LABEL },
  {
    kind: 'ClusterRole',
    name: 'matrix-status',
    rules: [
      { verbs: ['get'], apiGroups: ['*'], resources: ['*/status'] },
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['nodes'] },
      { verbs: ['get'], nonResourceURLs: ['/healthz', '/metrics'] },
      { verbs: ['bind', 'escalate'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], resourceNames: ['alpha'] },
      { verbs: ['impersonate'], apiGroups: [''], resources: ['users', 'groups'] },
    ],
  },
];

const BINDINGS: Binding[] = [
  { kind: 'RoleBinding', name: 'alice-pods', namespace: 'team-a', roleRef: { kind: 'Role', name: 'pod-reader' }, subjects: [{ kind: 'User', name: 'alice' }] },
  { kind: 'RoleBinding', name: 'devs-named', namespace: 'team-a', roleRef: { kind: 'Role', name: 'named-cm' }, subjects: [{ kind: 'Group', name: 'devs' }] },
  // A service account subject without a namespace means the binding's namespace.
  { kind: 'RoleBinding', name: 'robot-deployer', namespace: 'team-b', roleRef: { kind: 'ClusterRole', name: 'matrix-deployer' }, subjects: [{ kind: 'ServiceAccount', name: 'robot' }] },
  { kind: 'ClusterRoleBinding', name: 'matrix-auditors', roleRef: { kind: 'ClusterRole', name: 'matrix-aggregate' }, subjects: [{ kind: 'Group', name: 'auditors' }] },
  { kind: 'ClusterRoleBinding', name: 'matrix-watcher', roleRef: { kind: 'ClusterRole', name: 'matrix-status' }, subjects: [{ kind: 'ServiceAccount', name: 'watcher', namespace: 'team-a' }] },
  // A binding to a role that does not exist grants nothing.
  { kind: 'RoleBinding', name: 'dangling', namespace: 'team-a', roleRef: { kind: 'ClusterRole', name: 'matrix-missing' }, subjects: [{ kind: 'User', name: 'alice' }] },
];

/** Upstream's documented default discovery bindings (the only bootstrap grants these subjects reach). */
const DEFAULT_ROLES: Role[] = [
  {
    kind: 'ClusterRole',
    name: 'system:basic-user',
    rules: [
      { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
      { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
    ],
  },
  { kind: 'ClusterRole', name: 'system:discovery', rules: [{ verbs: ['get'], nonResourceURLs: ['/livez', '/readyz', '/healthz', '/version', '/version/', '/openapi', '/openapi/*', '/api', '/api/*', '/apis', '/apis/*'] }] },
  { kind: 'ClusterRole', name: 'system:public-info-viewer', rules: [{ verbs: ['get'], nonResourceURLs: ['/livez', '/readyz', '/healthz', '/version', '/version/'] }] },
  { kind: 'ClusterRole', name: 'system:service-account-issuer-discovery', rules: [{ verbs: ['get'], nonResourceURLs: ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'] }] },
];
const DEFAULT_BINDINGS: Binding[] = [
  { kind: 'ClusterRoleBinding', name: 'system:basic-user', roleRef: { kind: 'ClusterRole', name: 'system:basic-user' }, subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
  { kind: 'ClusterRoleBinding', name: 'system:discovery', roleRef: { kind: 'ClusterRole', name: 'system:discovery' }, subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
  {
    kind: 'ClusterRoleBinding',
    name: 'system:public-info-viewer',
    roleRef: { kind: 'ClusterRole', name: 'system:public-info-viewer' },
    subjects: [{ kind: 'Group', name: 'system:authenticated' }, { kind: 'Group', name: 'system:unauthenticated' }],
  },
  { kind: 'ClusterRoleBinding', name: 'system:service-account-issuer-discovery', roleRef: { kind: 'ClusterRole', name: 'system:service-account-issuer-discovery' }, subjects: [{ kind: 'Group', name: 'system:serviceaccounts' }] },
];

interface Who {
  name: string;
  groups: string[];
  /** How a real request authenticates as this subject. */
  token?: string;
}

const AUTH = 'system:authenticated';
const sa = (namespace: string, name: string) => ({ name: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, AUTH] });
const SUBJECTS: Who[] = [
  { name: 'alice', groups: [AUTH], token: 'alice-token' },
  { name: 'bob', groups: ['devs', AUTH], token: 'bob-token' },
  { name: 'carol', groups: ['auditors', AUTH], token: 'carol-token' },
  { name: 'nobody', groups: [AUTH], token: 'nobody-token' },
  sa('team-b', 'robot'),
  sa('team-a', 'watcher'),
  { name: 'system:anonymous', groups: ['system:unauthenticated'] },
];

// --- the reference: upstream's documented matching rules, written out plainly ---

interface Ask {
  verb: string;
  group?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  path?: string;
}

function rulesOf(ref: { kind: string; name: string }, bindingNamespace: string | undefined): Rule[] {
  const all = [...ROLES, ...DEFAULT_ROLES];
  const role = all.find((r) => r.kind === ref.kind && r.name === ref.name && (r.kind === 'ClusterRole' || r.namespace === bindingNamespace));
  if (!role) return [];
  if (!role.aggregate) return role.rules ?? [];
  // An aggregated ClusterRole holds the rules of every ClusterRole its selector matches.
  const selected = all.filter((r) => r.kind === 'ClusterRole' && r !== role && Object.entries(role.aggregate!).every(([k, v]) => r.labels?.[k] === v));
  return selected.flatMap((r) => r.rules ?? []);
}

function subjectIs(subject: Subject, who: Who, bindingNamespace: string | undefined): boolean {
  if (subject.kind === 'User') return subject.name === who.name;
  if (subject.kind === 'Group') return who.groups.includes(subject.name);
  const namespace = subject.namespace || bindingNamespace;
  return who.name === `system:serviceaccount:${namespace}:${subject.name}`;
}

function ruleMatches(rule: Rule, ask: Ask): boolean {
  if (!rule.verbs.includes('*') && !rule.verbs.includes(ask.verb)) return false;
  if (ask.path !== undefined) {
    return (rule.nonResourceURLs ?? []).some((url) => url === '*' || url === ask.path || (url.endsWith('*') && ask.path!.startsWith(url.slice(0, -1))));
  }
  if (rule.nonResourceURLs?.length) return false;
  const groups = rule.apiGroups ?? [];
  if (!groups.includes('*') && !groups.includes(ask.group ?? '')) return false;
  const wanted = ask.subresource ? `${ask.resource}/${ask.subresource}` : ask.resource!;
  const resources = rule.resources ?? [];
  if (!resources.includes('*') && !resources.includes(wanted) && !(ask.subresource && resources.includes(`*/${ask.subresource}`))) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (ask.name !== undefined && names.includes(ask.name));
}

function expected(who: Who, ask: Ask): boolean {
  for (const binding of [...BINDINGS, ...DEFAULT_BINDINGS]) {
    // A RoleBinding grants only inside its namespace, and never non-resource URLs.
    if (binding.kind === 'RoleBinding' && (ask.path !== undefined || ask.namespace !== binding.namespace)) continue;
    if (!binding.subjects.some((s) => subjectIs(s, who, binding.namespace))) continue;
    if (rulesOf(binding.roleRef, binding.namespace).some((rule) => ruleMatches(rule, ask))) return true;
  }
  return false;
}

// --- the cells ---

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'bind', 'escalate', 'impersonate'];
interface Target {
  group: string;
  resource: string;
  subresource?: string;
  namespaced: boolean;
}
const REVIEWS: Target[] = [
  { group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', namespaced: false },
  { group: 'authorization.k8s.io', resource: 'selfsubjectrulesreviews', namespaced: false },
  { group: 'authorization.k8s.io', resource: 'subjectaccessreviews', namespaced: false },
  { group: 'authorization.k8s.io', resource: 'localsubjectaccessreviews', namespaced: true },
  { group: 'authentication.k8s.io', resource: 'selfsubjectreviews', namespaced: false },
  { group: 'authentication.k8s.io', resource: 'tokenreviews', namespaced: false },
];
const TARGETS: Target[] = [
  ...allKinds.map((k) => ({ group: k.group, resource: k.plural, namespaced: k.namespaced })),
  ...allKinds.filter((k) => k.statusSubresource).map((k) => ({ group: k.group, resource: k.plural, subresource: 'status', namespaced: k.namespaced })),
  { group: '', resource: 'pods', subresource: 'log', namespaced: true },
  { group: 'apps', resource: 'deployments', subresource: 'scale', namespaced: true },
  { group: '', resource: 'users', namespaced: false },
  { group: '', resource: 'groups', namespaced: false },
  ...REVIEWS,
];
const PATHS = ['/healthz', '/livez', '/version', '/version/', '/api', '/apis/apps/v1', '/openapi/v3', '/metrics', '/matrix', '/matrix/deep/path', '/logs', '/.well-known/openid-configuration', '/openid/v1/jwks'];

function cells(): Array<{ who: Who; ask: Ask }> {
  const out: Array<{ who: Who; ask: Ask }> = [];
  for (const who of SUBJECTS) {
    for (const target of TARGETS) {
      const scopes = target.namespaced ? ['team-a', 'team-b', undefined] : [undefined];
      for (const verb of VERBS) for (const namespace of scopes) for (const name of [undefined, 'alpha']) out.push({ who, ask: { verb, group: target.group, resource: target.resource, subresource: target.subresource, namespace, name } });
    }
    for (const path of PATHS) for (const verb of ['get', 'post', 'delete']) out.push({ who, ask: { verb, path } });
  }
  return out;
}

function attributesJson(ask: Ask) {
  if (ask.path !== undefined) return { nonResourceAttributes: { path: ask.path, verb: ask.verb } };
  const attrs: Record<string, string> = { verb: ask.verb, group: ask.group ?? '', resource: ask.resource! };
  if (ask.subresource) attrs.subresource = ask.subresource;
  if (ask.namespace) attrs.namespace = ask.namespace;
  if (ask.name) attrs.name = ask.name;
  return { resourceAttributes: attrs };
}

function describe(who: Who, ask: Ask): string {
  if (ask.path) return `${who.name} ${ask.verb} ${ask.path}`;
  return `${who.name} ${ask.verb} ${ask.group || 'core'}/${ask.resource}${ask.subresource ? `/${ask.subresource}` : ''}${ask.name ? `[${ask.name}]` : ''} in ${ask.namespace ?? '(cluster)'}`;
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

async function inBatches<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

// --- the server ---

let server: TestServer;
let admin: Awaited<ReturnType<typeof rawClient>>;
let anonymous: Awaited<ReturnType<typeof rawClient>>;
let tokenDir: string;

async function ok(method: string, path: string, body: unknown) {
  const response = await admin.request(method, path, JSON.stringify(body));
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${response.body}`);
  return response.json();
}

before(async () => {
  tokenDir = await mkdtemp(join(tmpdir(), 'nautilus-matrix-'));
  const tokens = join(tokenDir, 'tokens.csv');
  await writeFile(tokens, 'alice-token,alice,u1\nbob-token,bob,u2,"devs"\ncarol-token,carol,u3,"auditors"\nnobody-token,nobody,u4\n');
  server = await startServer(['--ephemeral', '--token-auth-file', tokens]);
  admin = await rawClient(server.kubeconfig);
  anonymous = await rawClient(server.kubeconfig, { anonymous: true });
  for (const ns of ['team-a', 'team-b']) await ok('POST', '/api/v1/namespaces', { metadata: { name: ns } });
  await ok('POST', '/api/v1/namespaces/team-b/serviceaccounts', { metadata: { name: 'robot' } });
  await ok('POST', '/api/v1/namespaces/team-a/serviceaccounts', { metadata: { name: 'watcher' } });
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  for (const role of ROLES) {
    const object: Record<string, unknown> = { metadata: { name: role.name, labels: role.labels } };
    if (role.aggregate) object.aggregationRule = { clusterRoleSelectors: [{ matchLabels: role.aggregate }] };
    else object.rules = role.rules;
    await ok('POST', role.kind === 'Role' ? `${rbac}/namespaces/${role.namespace}/roles` : `${rbac}/clusterroles`, object);
  }
  for (const binding of BINDINGS) {
    const subjects = binding.subjects.map((s) => (s.kind === 'ServiceAccount' ? s : { ...s, apiGroup: 'rbac.authorization.k8s.io' }));
    const object = { metadata: { name: binding.name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...binding.roleRef }, subjects };
    await ok('POST', binding.kind === 'RoleBinding' ? `${rbac}/namespaces/${binding.namespace}/rolebindings` : `${rbac}/clusterrolebindings`, object);
  }
  for (const who of SUBJECTS.filter((s) => s.name.startsWith('system:serviceaccount:'))) {
    const [, , namespace, name] = who.name.split(':');
    const answer = await ok('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} });
    who.token = (answer.status as { token: string }).token;
  }
  // The aggregation controller fills matrix-aggregate in the background.
  await eventually(async () => {
    const role = await admin.request('GET', `${rbac}/clusterroles/matrix-aggregate`);
    assert.equal((role.json().rules as unknown[] | undefined)?.length, 3);
  });
});

after(async () => {
  admin?.close();
  anonymous?.close();
  await server?.stop();
  await rm(tokenDir, { recursive: true, force: true });
});

test('every cell of the RBAC matrix answers as upstream\'s rules decide (SubjectAccessReview)', { timeout: 600_000 }, async (t) => {
  const all = cells();
  const wrong: string[] = [];
  let allowed = 0;
  await inBatches(all, 64, async ({ who, ask }) => {
    const body = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: who.name, groups: who.groups, ...attributesJson(ask) } };
    const response = await admin.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', JSON.stringify(body));
    assert.equal(response.status, 201, response.body);
    const got = (response.json().status as { allowed: boolean }).allowed;
    const want = expected(who, ask);
    if (want) allowed++;
    if (got !== want) wrong.push(`${describe(who, ask)}: server ${got}, reference ${want}`);
  });
  t.diagnostic(`RBAC matrix: ${all.length} cells (${SUBJECTS.length} subjects × ${TARGETS.length} resources × ${VERBS.length} verbs × scopes × names, + ${PATHS.length} non-resource URLs × 3 verbs); ${allowed} allowed`);
  console.log(`RBAC matrix size: ${all.length} cells, ${allowed} allowed`);
  assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} cells differ`);
  // The matrix is not trivially one-sided.
  assert.ok(allowed > 200 && allowed < all.length - 200, `allowed ${allowed} of ${all.length}`);
});

test('a seeded sample answers the same through SelfSubjectAccessReview, as each subject', { timeout: 300_000 }, async () => {
  const random = seeded(Number(process.env.MATRIX_SEED ?? 12));
  const sample = cells().filter(() => random() < 0.05);
  const wrong: string[] = [];
  await inBatches(sample, 32, async ({ who, ask }) => {
    const body = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: attributesJson(ask) };
    // The session without a client certificate; the bearer token says who asks.
    const headers: Record<string, string> = who.token ? { authorization: `Bearer ${who.token}` } : {};
    const response = await anonymous.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', JSON.stringify(body), headers);
    // Creating a SelfSubjectAccessReview is itself a grant (system:basic-user, authenticated users only).
    if (!who.token) {
      assert.equal(response.status, 403, response.body);
      return;
    }
    assert.equal(response.status, 201, `${describe(who, ask)}: ${response.body}`);
    const got = (response.json().status as { allowed: boolean }).allowed;
    if (got !== expected(who, ask)) wrong.push(`${describe(who, ask)}: server ${got}`);
  });
  assert.ok(sample.length > 500, `sample of ${sample.length}`);
  assert.deepEqual(wrong, []);
});

/** A real request for a cell, where one exists: the method and path an HTTP client would send. */
function requestFor(ask: Ask): { method: string; path: string; body?: string } | undefined {
  if (ask.path !== undefined) return ask.verb === 'get' ? { method: 'GET', path: ask.path } : undefined;
  if (['bind', 'escalate', 'impersonate', 'watch'].includes(ask.verb) || ['users', 'groups'].includes(ask.resource!) || REVIEWS.some((r) => r.resource === ask.resource)) return undefined;
  if (ask.subresource && !(ask.verb === 'get' && ask.name)) return undefined;
  const base = ask.group ? `/apis/${ask.group}/${allKinds.find((k) => k.group === ask.group && k.plural === ask.resource)?.version ?? 'v1'}` : '/api/v1';
  const collection = `${base}${ask.namespace ? `/namespaces/${ask.namespace}` : ''}/${ask.resource}`;
  const item = ask.name ? `${collection}/${ask.name}${ask.subresource ? `/${ask.subresource}` : ''}` : undefined;
  switch (ask.verb) {
    case 'get':
      return item ? { method: 'GET', path: item } : undefined;
    case 'list':
      return { method: 'GET', path: ask.name ? `${collection}?fieldSelector=metadata.name%3D${ask.name}` : collection };
    case 'create':
      return ask.name ? undefined : { method: 'POST', path: collection, body: '{}' };
    case 'update':
      return item ? { method: 'PUT', path: item, body: '{}' } : undefined;
    case 'patch':
      return item ? { method: 'PATCH', path: item, body: '{}' } : undefined;
    case 'delete':
      return item ? { method: 'DELETE', path: item } : undefined;
    case 'deletecollection':
      // Only where nothing that matters to the matrix could go.
      return ask.name || ask.resource === 'namespaces' || ask.resource === 'serviceaccounts' ? undefined : { method: 'DELETE', path: `${collection}?dryRun=All` };
  }
  return undefined;
}

test('real requests are refused (403) exactly where the matrix says so', { timeout: 300_000 }, async () => {
  const random = seeded(Number(process.env.MATRIX_SEED ?? 34));
  const sample = cells()
    .map((cell) => ({ ...cell, request: requestFor(cell.ask) }))
    .filter((cell) => cell.request && cell.ask.resource !== 'namespaces' && random() < 0.25);
  const wrong: string[] = [];
  let refused = 0;
  await inBatches(sample, 32, async ({ who, ask, request }) => {
    const headers: Record<string, string> = { 'content-type': request!.method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' };
    if (who.token) headers.authorization = `Bearer ${who.token}`;
    const response = await anonymous.request(request!.method, request!.path, request!.body, headers);
    const forbidden = response.status === 403;
    if (forbidden) refused++;
    if (forbidden === expected(who, ask)) wrong.push(`${describe(who, ask)}: ${request!.method} ${request!.path} answered ${response.status} ${response.body.slice(0, 200)}`);
    if (forbidden) {
      const status = response.json();
      assert.equal(status.kind, 'Status');
      assert.equal(status.reason, 'Forbidden');
      assert.match(String(status.message), new RegExp(`User "${who.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" cannot`));
    }
  });
  assert.ok(sample.length > 300 && refused > 100 && refused < sample.length, `${refused} of ${sample.length} refused`);
  assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} requests disagree`);
});
