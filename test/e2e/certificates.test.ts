/**
 * CertificateSigningRequests end to end: requests made with openssl, created and approved or
 * denied with the real kubectl (`kubectl certificate approve|deny`), signed by the cluster CA
 * (openssl verifies the chain), and a signed client certificate authenticating to the server;
 * a kubelet-serving request that breaks the signer's rules fails with SignerValidationFailure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startServer, type TestServer } from './harness.js';

const run = promisify(execFile);

async function certificateRequest(dir: string, name: string, subject: string, sans?: string): Promise<{ key: string; request: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-subj', subject, ...(sans ? ['-addext', `subjectAltName=${sans}`] : []), '-out', csr]);
  return { key, request: (await readFile(csr)).toString('base64') };
}

function csrManifest(name: string, request: string, signerName: string, usages: string[]): string {
  return JSON.stringify({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name }, spec: { request, signerName, usages, expirationSeconds: 86_400 } });
}

async function issued(server: TestServer, name: string): Promise<string> {
  return eventually(async () => {
    const certificate = (await server.ok(['get', 'csr', name, '-o', 'jsonpath={.status.certificate}'])).trim();
    assert.ok(certificate, `${name} has no certificate yet`);
    return Buffer.from(certificate, 'base64').toString('utf8');
  }, 20_000);
}

test('CSRs: approve, deny, sign with the cluster CA, use the certificate; kubelet signers check the subject', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-csr-'));
  const server = await startServer(['--ephemeral']);
  try {
    const ca = join(server.dataDir, 'pki', 'ca.crt');
    const carol = await certificateRequest(dir, 'carol', '/CN=carol/O=devs');
    const mallory = await certificateRequest(dir, 'mallory', '/CN=mallory');
    await server.ok(['create', '-f', '-'], { input: csrManifest('carol', carol.request, 'kubernetes.io/kube-apiserver-client', ['client auth']) });
    await server.ok(['create', '-f', '-'], { input: csrManifest('mallory', mallory.request, 'kubernetes.io/kube-apiserver-client', ['client auth']) });
    const pending = await server.ok(['get', 'csr']);
    assert.match(pending, /^NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION$/m);
    assert.match(pending, /^carol\s+\S+\s+kubernetes\.io\/kube-apiserver-client\s+kubernetes-admin\s+24h\s+Pending$/m);
    const recorded = JSON.parse(await server.ok(['get', 'csr', 'carol', '-o', 'json']));
    assert.ok(recorded.spec.groups.includes('system:masters'), 'the requester is recorded from who created it');

    assert.match(await server.ok(['certificate', 'deny', 'mallory']), /certificatesigningrequest.certificates.k8s.io\/mallory denied/);
    assert.match(await server.ok(['certificate', 'approve', 'carol']), /certificatesigningrequest.certificates.k8s.io\/carol approved/);
    const certificate = await issued(server, 'carol');
    assert.match(await server.ok(['get', 'csr', 'carol']), /\sApproved,Issued\n/);
    assert.match(await server.ok(['get', 'csr', 'mallory']), /\sDenied\n/);
    assert.equal((await server.ok(['get', 'csr', 'mallory', '-o', 'jsonpath={.status.certificate}'])).trim(), '');
    // Approved and Denied exclude each other; a decision cannot be taken back.
    const flip = await server.kubectl(['certificate', 'approve', 'mallory']);
    assert.notEqual(flip.code, 0);
    assert.match(flip.stderr, /is already Denied/);
    // kubectl checks first; the server refuses it too, through the approval subresource.
    const denied = JSON.parse(await server.ok(['get', 'csr', 'mallory', '-o', 'json']));
    denied.status.conditions.push({ type: 'Approved', status: 'True', reason: 'Sneaky', message: 'flip' });
    const raw = await server.kubectl(['replace', '--raw', '/apis/certificates.k8s.io/v1/certificatesigningrequests/mallory/approval', '-f', '-'], { input: JSON.stringify(denied) });
    assert.notEqual(raw.code, 0);
    assert.match(raw.stderr + raw.stdout, /Approved and Denied conditions are mutually exclusive/);

    const certFile = join(dir, 'carol.crt');
    await writeFile(certFile, certificate);
    const verified = await run('openssl', ['verify', '-CAfile', ca, certFile]);
    assert.match(verified.stdout, /: OK/);
    const text = (await run('openssl', ['x509', '-in', certFile, '-noout', '-text'])).stdout;
    assert.match(text, /Subject: CN ?= ?carol, O ?= ?devs/);
    assert.match(text, /TLS Web Client Authentication/);
    // The signed certificate is carol's identity.
    const whoami = await server.kubectl(['auth', 'whoami', '-o', 'json', '--kubeconfig', '/dev/null', '--server', server.url, '--certificate-authority', ca, '--client-certificate', certFile, '--client-key', carol.key]);
    assert.equal(whoami.code, 0, whoami.stderr);
    const status = JSON.parse(whoami.stdout).status.userInfo;
    assert.equal(status.username, 'carol');
    assert.ok(status.groups.includes('devs'));

    // kubelet-serving: the node's identity with names is signed for server auth; anything else fails.
    const node = await certificateRequest(dir, 'node', '/O=system:nodes/CN=system:node:n1', 'DNS:n1.example,IP:10.0.0.7');
    const impostor = await certificateRequest(dir, 'impostor', '/O=devs/CN=system:node:n2', 'DNS:n2.example');
    await server.ok(['create', '-f', '-'], { input: csrManifest('node-serving', node.request, 'kubernetes.io/kubelet-serving', ['digital signature', 'server auth']) });
    await server.ok(['create', '-f', '-'], { input: csrManifest('impostor', impostor.request, 'kubernetes.io/kubelet-serving', ['digital signature', 'server auth']) });
    await server.ok(['certificate', 'approve', 'node-serving', 'impostor']);
    const serving = await issued(server, 'node-serving');
    const servingFile = join(dir, 'node.crt');
    await writeFile(servingFile, serving);
    const servingText = (await run('openssl', ['x509', '-in', servingFile, '-noout', '-text'])).stdout;
    assert.match(servingText, /TLS Web Server Authentication/);
    assert.match(servingText, /DNS:n1\.example, IP Address:10\.0\.0\.7/);
    await eventually(async () => {
      const failed = JSON.parse(await server.ok(['get', 'csr', 'impostor', '-o', 'json']));
      const condition = failed.status.conditions.find((c: { type: string }) => c.type === 'Failed');
      assert.ok(condition, 'impostor has not failed yet');
      assert.equal(condition.reason, 'SignerValidationFailure');
      assert.match(condition.message, /organization is not system:nodes/);
      assert.equal(failed.status.certificate, undefined);
    }, 20_000);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
