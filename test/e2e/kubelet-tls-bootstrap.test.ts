/**
 * Kubelet TLS bootstrap end to end with the real kubectl: a bootstrap token Secret and the
 * bindings kubeadm makes; `nautilus nodes --bootstrap-kubeconfig` (no CA key) sends a
 * CertificateSigningRequest per node, csrapproving approves it after its SubjectAccessReview, the
 * signer issues it and the nodes register as system:node:<name>; their kubelet-serving request
 * waits for `kubectl certificate approve`, after which `kubectl logs` reaches them. The CSR
 * permission checks: approving needs `approve` on the signer, signing `sign`, with upstream's
 * Forbidden wording.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { startServer, eventually, type TestServer } from './harness.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const TOKEN_ID = 'abcdef';
const TOKEN_SECRET = '0123456789abcdef';

let server: TestServer;
let agent: ChildProcess | undefined;
before(async () => {
  server = await startServer(['--ephemeral', '--enable-bootstrap-token-auth']);
});
after(async () => {
  if (agent && agent.exitCode === null) {
    const exited = new Promise((r) => agent!.once('exit', r));
    agent.kill('SIGTERM');
    await exited;
  }
  await server?.stop();
});

interface Csr {
  metadata: { name: string };
  spec: { signerName: string; username: string };
  status?: { certificate?: string; conditions?: Array<{ type: string; reason?: string }> };
}

async function writeBootstrapKubeconfig(file: string, token: string) {
  const admin = JSON.parse(await server.ok(['config', 'view', '--raw', '-o', 'json']));
  const cluster = admin.clusters[0].cluster;
  const as = (args: string[]) => server.ok([...args, '--kubeconfig', file]);
  await as(['config', 'set-cluster', 'nautilus', `--server=${cluster.server}`]);
  await as(['config', 'set', 'clusters.nautilus.certificate-authority-data', cluster['certificate-authority-data']]);
  await as(['config', 'set-credentials', 'tls-bootstrap-token-user', `--token=${token}`]);
  await as(['config', 'set-context', 'tls-bootstrap', '--cluster=nautilus', '--user=tls-bootstrap-token-user']);
  await as(['config', 'use-context', 'tls-bootstrap']);
}

test('nautilus nodes bootstraps its node certificates through CSRs approved by csrapproving', async () => {
  await server.ok(['create', 'secret', 'generic', `bootstrap-token-${TOKEN_ID}`, '-n', 'kube-system', '--type', 'bootstrap.kubernetes.io/token',
    `--from-literal=token-id=${TOKEN_ID}`, `--from-literal=token-secret=${TOKEN_SECRET}`, '--from-literal=usage-bootstrap-authentication=true',
    '--from-literal=auth-extra-groups=system:bootstrappers:nautilus:default-node-token']);
  // What kubeadm binds: bootstrappers may send CSRs, their node-client requests are auto-approved.
  await server.ok(['create', 'clusterrolebinding', 'kubeadm:kubelet-bootstrap', '--clusterrole=system:node-bootstrapper', '--group=system:bootstrappers:nautilus:default-node-token']);
  await server.ok(['create', 'clusterrolebinding', 'kubeadm:node-autoapprove-bootstrap', '--clusterrole=system:certificates.k8s.io:certificatesigningrequests:nodeclient', '--group=system:bootstrappers:nautilus:default-node-token']);

  const bootstrapKubeconfig = join(server.dataDir, 'bootstrap.kubeconfig');
  await writeBootstrapKubeconfig(bootstrapKubeconfig, `${TOKEN_ID}.${TOKEN_SECRET}`);
  const whoami = await server.ok(['auth', 'whoami', '--kubeconfig', bootstrapKubeconfig]);
  assert.match(whoami, /Username\s+system:bootstrap:abcdef/);
  assert.match(whoami, /Groups\s+\[system:bootstrappers system:bootstrappers:nautilus:default-node-token system:authenticated\]/);
  const wrong = join(server.dataDir, 'wrong.kubeconfig');
  await writeBootstrapKubeconfig(wrong, `${TOKEN_ID}.ffffffffffffffff`);
  const refused = await server.kubectl(['get', 'csr', '--kubeconfig', wrong]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Unauthorized|must be logged in/);
  const bootstrapper = await server.kubectl(['get', 'nodes', '--kubeconfig', bootstrapKubeconfig]);
  assert.match(bootstrapper.stderr, /User "system:bootstrap:abcdef" cannot list resource "nodes"/, 'a bootstrap token is good for CSRs only');

  agent = spawn(process.execPath, [MAIN, 'nodes', '--bootstrap-kubeconfig', bootstrapKubeconfig, '--count', '2', '--name-prefix', 'boot-'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' } });
  let output = '';
  agent.stdout!.on('data', (chunk) => (output += chunk));
  agent.stderr!.on('data', (chunk) => (output += chunk));
  await eventually(async () => assert.match(output, /2 virtual node\(s\) registered/), 60_000);
  await server.ok(['wait', '--for=condition=Ready', 'node/boot-0', 'node/boot-1', '--timeout=30s']);

  const csrs = (): Promise<Csr[]> => server.ok(['get', 'csr', '-o', 'json']).then((text) => JSON.parse(text).items);
  const clientCsrs = (await csrs()).filter((c) => c.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet');
  assert.equal(clientCsrs.length, 2);
  for (const csr of clientCsrs) {
    assert.equal(csr.spec.username, 'system:bootstrap:abcdef');
    assert.ok(csr.status?.certificate, 'issued');
    assert.deepEqual(csr.status?.conditions?.map((c) => [c.type, c.reason]), [['Approved', 'AutoApproved']]);
  }
  const table = await server.ok(['get', 'csr']);
  assert.match(table, /node-csr-\S+\s+\S+\s+kubernetes\.io\/kube-apiserver-client-kubelet\s+system:bootstrap:abcdef\s+<none>\s+Approved,Issued/);
  // The nodes act as themselves: the lease holder is the node, written under its own identity.
  const lease = JSON.parse(await server.ok(['get', 'lease', 'boot-1', '-n', 'kube-node-lease', '-o', 'json', '--show-managed-fields']));
  assert.equal(lease.spec.holderIdentity, 'boot-1');

  // The serving certificate waits for a person.
  const serving = await eventually(async () => {
    const found = (await csrs()).find((c) => c.spec.signerName === 'kubernetes.io/kubelet-serving');
    assert.ok(found, 'the kubelet-serving request exists');
    return found;
  }, 20_000);
  assert.equal(serving.spec.username, 'system:node:boot-0');
  assert.match(await server.ok(['get', 'csr', serving.metadata.name]), /\sPending\n/);

  // CSR permissions (#12): update on /approval is not enough without `approve` on the signer.
  await server.ok(['create', 'clusterrole', 'csr-approver-without-signer', '--verb=get,list,watch', '--resource=certificatesigningrequests.certificates.k8s.io']);
  await server.ok(['patch', 'clusterrole', 'csr-approver-without-signer', '--type=json', '-p', JSON.stringify([
    { op: 'add', path: '/rules/-', value: { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval', 'certificatesigningrequests/status'], verbs: ['get', 'update', 'patch'] } },
  ])]);
  await server.ok(['create', 'clusterrolebinding', 'carol-csr', '--clusterrole=csr-approver-without-signer', '--user=carol']);
  const denied = await server.kubectl(['certificate', 'approve', serving.metadata.name, '--as=carol']);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, new RegExp(`certificatesigningrequests\\.certificates\\.k8s\\.io "${serving.metadata.name}" is forbidden: user not permitted to approve requests with signerName "kubernetes\\.io/kubelet-serving"`));
  const signing = await server.kubectl(['patch', 'csr', serving.metadata.name, '--subresource=status', '--type=merge', '--as=carol', '-p', JSON.stringify({ status: { certificate: Buffer.from('not really').toString('base64') } })]);
  assert.notEqual(signing.code, 0);
  assert.match(signing.stderr, new RegExp(`"${serving.metadata.name}" is forbidden: user not permitted to sign requests with signerName "kubernetes\\.io/kubelet-serving"`));
  // `approve` on the domain's wildcard is enough, as upstream's IsAuthorizedForSignerName.
  const approver = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'kubernetes-io-approver' }, rules: [{ apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['kubernetes.io/*'], verbs: ['approve'] }] };
  await server.ok(['create', '-f', '-'], { input: JSON.stringify(approver) });
  await server.ok(['create', 'clusterrolebinding', 'carol-approves', '--clusterrole=kubernetes-io-approver', '--user=carol']);
  assert.match(await server.ok(['certificate', 'approve', serving.metadata.name, '--as=carol']), /approved/);

  // Issued and picked up: the API server now reaches the bootstrapped kubelet endpoints.
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'booted' }, spec: { nodeName: 'boot-0', containers: [{ name: 'app', image: 'nginx' }] } };
  await server.ok(['create', '-f', '-'], { input: JSON.stringify(pod) });
  await server.ok(['wait', '--for=condition=Ready', 'pod/booted', '--timeout=30s']);
  await eventually(async () => assert.match(await server.ok(['logs', 'booted', '--tail=1']), /^app\[0\] line \d+: default\/booted /), 20_000);
});
