/**
 * Kubelet client certificate rotation end to end: with `--cluster-signing-duration 30s` a
 * bootstrapped node's client certificate lives 30 s; before it runs out the node sends a CSR as
 * itself, csrapproving approves it as selfnodeclient (the role bound to system:nodes, as kubeadm
 * binds it), and the node goes on under the new certificate — its Lease is still renewed after the
 * first certificate expired.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startServer, eventually, type TestServer } from './harness.js';
import { createBootstrapToken, startBootstrappedNodes, stopAgent, TOKEN_ID, TOKEN_SECRET, writeBootstrapKubeconfig } from './tls-bootstrap-fixture.js';

const KUBELET_CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet';

interface Csr {
  metadata: { name: string; creationTimestamp: string };
  spec: { signerName: string; username: string };
  status?: { certificate?: string; conditions?: Array<{ type: string; reason?: string; message?: string }> };
}

let server: TestServer;
let agent: ChildProcess | undefined;
before(async () => {
  server = await startServer(['--ephemeral', '--enable-bootstrap-token-auth', '--cluster-signing-duration', '30s']);
});
after(async () => {
  await stopAgent(agent);
  await server?.stop();
});

test('a bootstrapped node renews its 30 s client certificate through a selfnodeclient CSR and stays heard from past the first one\'s expiry', async () => {
  await createBootstrapToken(server);
  await server.ok(['create', 'clusterrolebinding', 'kubeadm:node-autoapprove-certificate-rotation', '--clusterrole=system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', '--group=system:nodes']);
  const bootstrapKubeconfig = join(server.dataDir, 'bootstrap.kubeconfig');
  await writeBootstrapKubeconfig(server, bootstrapKubeconfig, `${TOKEN_ID}.${TOKEN_SECRET}`);
  agent = (await startBootstrappedNodes(bootstrapKubeconfig, 1, 'rot-')).agent;

  const clientCsrs = async (): Promise<Csr[]> => (JSON.parse(await server.ok(['get', 'csr', '-o', 'json'])).items as Csr[]).filter((c) => c.spec.signerName === KUBELET_CLIENT);
  const bootstrapped = (await clientCsrs()).filter((c) => c.spec.username === 'system:bootstrap:abcdef');
  assert.equal(bootstrapped.length, 1);
  const [first] = bootstrapped;
  const firstCertificate = new X509Certificate(Buffer.from(first.status!.certificate!, 'base64'));
  // Backdated 5 minutes as upstream's signer does, and good for 30 s from its signing.
  const left = Date.parse(firstCertificate.validTo) - Date.parse(first.metadata.creationTimestamp);
  assert.ok(left <= 32_000, `the signer honours --cluster-signing-duration (${left} ms left after the request)`);
  assert.equal(Date.parse(firstCertificate.validTo) - Date.parse(firstCertificate.validFrom) - left >= 290_000, true, 'notBefore backdated');

  const renewal = await eventually(async () => {
    const found = (await clientCsrs()).find((c) => c.spec.username === 'system:node:rot-0' && c.status?.certificate);
    assert.ok(found, 'a renewal sent as the node and issued');
    return found;
  }, 40_000);
  assert.deepEqual(renewal.status?.conditions?.map((c) => [c.type, c.reason, c.message]), [['Approved', 'AutoApproved', 'Auto approving self kubelet client certificate after SubjectAccessReview.']]);
  assert.ok(Date.parse(renewal.metadata.creationTimestamp) < Date.parse(firstCertificate.validTo), 'renewed before the first certificate ran out');

  // Past the first certificate's end the node still authenticates: its Lease keeps being renewed.
  const expiredAt = Date.parse(firstCertificate.validTo);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiredAt - Date.now()) + 1_000));
  await eventually(async () => {
    const lease = JSON.parse(await server.ok(['get', 'lease', 'rot-0', '-n', 'kube-node-lease', '-o', 'json']));
    assert.ok(Date.parse(lease.spec.renewTime) > expiredAt, `renewed at ${lease.spec.renewTime}, after ${new Date(expiredAt).toISOString()}`);
  }, 25_000);
});
