/**
 * Authorization cost per request: GET one pod as a user whose access comes through an RBAC
 * RoleBinding (among many other bindings) versus as a system:masters user, in the same run and
 * interleaved; plus the authorizer's own cost per decision, called in process.
 * Run: npm run build && node dist/bench/authz.js  (ROUNDS, BINDINGS to change the load)
 */
import { connect } from 'node:http2';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import { startControlPlane } from '../src/server/control-plane.js';
import { allKinds } from '../src/registry/catalog.js';
import type { AuthorizationAttributes } from '../src/auth/authorization.js';
import { adminClient, summarize, writeResult } from './common.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3_000);
/** Other users' bindings, so the RBAC user's lookup is not the only thing in the index. */
const BINDINGS = Number(process.env.BINDINGS ?? 2_000);
const RBAC = 'rbac.authorization.k8s.io';

async function tokenClient(kubeconfigPath: string, token: string) {
  const cluster = parse(await readFile(kubeconfigPath, 'utf8')).clusters[0].cluster;
  const session = connect(cluster.server, { ca: Buffer.from(cluster['certificate-authority-data'], 'base64') });
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  return {
    get(path: string): Promise<number> {
      return new Promise((resolve, reject) => {
        const req = session.request({ ':path': path, authorization: `Bearer ${token}`, accept: 'application/json' });
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', () => {});
        req.on('end', () => resolve(status));
        req.on('error', reject);
        req.end();
      });
    },
    close: () => session.close(),
  };
}

function timeDecisions(decide: () => boolean, rounds: number): number {
  for (let i = 0; i < 1000; i++) decide();
  const started = performance.now();
  for (let i = 0; i < rounds; i++) if (!decide()) throw new Error('denied');
  return ((performance.now() - started) * 1e6) / rounds;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-bench-authz-'));
  const tokens = join(dir, 'tokens.csv');
  await writeFile(tokens, 'bench-user-token,bench-user,500,"bench-devs"\n');
  const controlPlane = await startControlPlane({ address: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), kinds: allKinds, ephemeral: true, tokenAuthFile: tokens });
  const { registry } = controlPlane;
  await registry.of('', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
  await registry.of('', 'pods').create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pod-1', namespace: 'bench' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
  const roleBindings = registry.of(RBAC, 'rolebindings');
  const clusterRoleBindings = registry.of(RBAC, 'clusterrolebindings');
  for (let i = 0; i < BINDINGS; i++) {
    const subjects = [{ kind: 'User', apiGroup: RBAC, name: `someone-${i}` }, { kind: 'Group', apiGroup: RBAC, name: `team-${i % 100}` }];
    if (i % 10 === 0) await clusterRoleBindings.create({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name: `other-${i}` }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' }, subjects });
    else await roleBindings.create({ apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: `other-${i}`, namespace: 'bench' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'edit' }, subjects });
  }
  // The measured user reaches `get pods` through a group RoleBinding to the aggregated `view` role.
  await roleBindings.create({ apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'bench-view', namespace: 'bench' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'Group', apiGroup: RBAC, name: 'bench-devs' }] });

  const masters = await adminClient(controlPlane.kubeconfigPath);
  const rbacUser = await tokenClient(controlPlane.kubeconfigPath, 'bench-user-token');
  const path = '/api/v1/namespaces/bench/pods/pod-1';
  const samples = { masters: [] as number[], rbac: [] as number[] };
  for (let i = 0; i < 200; i++) {
    await masters.get(path);
    await rbacUser.get(path);
  }
  for (let i = 0; i < ROUNDS; i++) {
    // Interleaved, so drift on a shared machine hits both alike.
    let t = performance.now();
    const a = await masters.get(path);
    samples.masters.push(performance.now() - t);
    t = performance.now();
    const b = await rbacUser.get(path);
    samples.rbac.push(performance.now() - t);
    if (a.status !== 200 || b !== 200) throw new Error(`answers ${a.status} / ${b}`);
  }
  masters.close();
  rbacUser.close();

  const ask = (user: { name: string; groups: string[] }): AuthorizationAttributes => ({ user, verb: 'get', isResourceRequest: true, group: '', version: 'v1', resource: 'pods', namespace: 'bench', name: 'pod-1' });
  const mastersAsk = ask({ name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] });
  const rbacAsk = ask({ name: 'bench-user', groups: ['bench-devs', 'system:authenticated'] });
  const decisions = 200_000;
  const mastersNs = timeDecisions(() => controlPlane.authorizer.authorize(mastersAsk).allowed, decisions);
  const rbacNs = timeDecisions(() => controlPlane.authorizer.authorize(rbacAsk).allowed, decisions);
  await controlPlane.stop();
  await rm(dir, { recursive: true, force: true });

  const masters50 = summarize(samples.masters);
  const rbac50 = summarize(samples.rbac);
  await writeResult('authz', {
    date: new Date().toISOString(),
    node: process.version,
    rounds: ROUNDS,
    otherBindings: BINDINGS,
    note: 'GET one pod over loopback HTTP/2, one sequential client per identity, interleaved; shared 2-core machine, figures are rough',
    getPodAsSystemMastersMs: masters50,
    getPodAsRbacUserMs: rbac50,
    medianOverheadMs: Math.round((rbac50.p50 - masters50.p50) * 1000) / 1000,
    authorizerPerDecisionNs: { systemMasters: Math.round(mastersNs), rbacGroupRoleBinding: Math.round(rbacNs), decisions },
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
