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
import { type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startServer, eventually, type TestServer } from './harness.js';
import { createBootstrapToken, startBootstrappedNodes, stopAgent, TOKEN_ID, TOKEN_SECRET, writeBootstrapKubeconfig } from './tls-bootstrap-fixture.js';

let server: TestServer;
let agent: ChildProcess | undefined;
before(async () => {
  server = await startServer(['--ephemeral', '--enable-bootstrap-token-auth']);
});
after(async () => {
  await stopAgent(agent);
  await server?.stop();
});

interface Csr {
  metadata: { name: string };
  spec: { signerName: string; username: string };
  status?: { certificate?: string; conditions?: Array<{ type: string; reason?: string }> };
}

test('nautilus nodes bootstraps its node certificates through CSRs approved by csrapproving', async () => {
  await createBootstrapToken(server);

  const bootstrapKubeconfig = join(server.dataDir, 'bootstrap.kubeconfig');
  await writeBootstrapKubeconfig(server, bootstrapKubeconfig, `${TOKEN_ID}.${TOKEN_SECRET}`);
  const whoami = await server.ok(['auth', 'whoami', '--kubeconfig', bootstrapKubeconfig]);
  assert.match(whoami, /Username\s+system:bootstrap:abcdef/);
  assert.match(whoami, /Groups\s+\[system:bootstrappers system:bootstrappers:nautilus:default-node-token system:authenticated\]/);
  const wrong = join(server.dataDir, 'wrong.kubeconfig');
  await writeBootstrapKubeconfig(server, wrong, `${TOKEN_ID}.ffffffffffffffff`);
  const refused = await server.kubectl(['get', 'csr', '--kubeconfig', wrong]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Unauthorized|must be logged in/);
  const bootstrapper = await server.kubectl(['get', 'nodes', '--kubeconfig', bootstrapKubeconfig]);
  assert.match(bootstrapper.stderr, /User "system:bootstrap:abcdef" cannot list resource "nodes"/, 'a bootstrap token is good for CSRs only');

  agent = (await startBootstrappedNodes(bootstrapKubeconfig, 2, 'boot-')).agent;
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
