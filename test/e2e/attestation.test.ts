/**
 * Remote attestation end to end: `serve --tee simulated`, `nautilus verify --write-kubeconfig`,
 * then kubectl through the verified kubeconfig; a TLS proxy in the middle is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect as tlsConnect, createServer as createTlsServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createCa, issueCertificate } from '../../src/auth/pki.js';
import { KUBECTL, startServer, writeTemp, type TestServer } from './harness.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
let server: TestServer;
let policy: string;

function nautilus(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

before(async () => {
  server = await startServer(['--ephemeral', '--tee', 'simulated']);
  const measured = await nautilus(['measure']);
  assert.equal(measured.code, 0, measured.stderr);
  policy = await writeTemp(server.dataDir, 'policy.yaml', measured.stdout);
  // The user's own certificate files (pki/ keeps its keys sealed): the admin's, from its kubeconfig.
  const user = parse(await readFile(server.kubeconfig, 'utf8')).users[0].user;
  await mkdir(join(server.dataDir, 'user'));
  await writeTemp(join(server.dataDir, 'user'), 'admin.crt', Buffer.from(user['client-certificate-data'], 'base64').toString());
  await writeTemp(join(server.dataDir, 'user'), 'admin.key', Buffer.from(user['client-key-data'], 'base64').toString());
});
after(async () => {
  await server?.stop();
});

test('verify checks the evidence and writes a kubeconfig that kubectl uses', async () => {
  const out = join(server.dataDir, 'verified.kubeconfig');
  const root = join(server.dataDir, 'simulated-nitro-root.pem');
  const refused = await nautilus(['verify', server.url, '--policy', policy, '--write-kubeconfig', out]);
  assert.notEqual(refused.code, 0, 'simulated evidence is refused unless explicitly allowed');

  const verified = await nautilus(['verify', server.url, '--policy', policy, '--allow-simulated', '--ca-file', root, '--write-kubeconfig', out]);
  assert.equal(verified.code, 0, verified.stderr + verified.stdout);
  const kubeconfig = parse(await readFile(out, 'utf8'));
  const pinned = Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
  assert.equal(pinned.trim(), (await readFile(join(server.dataDir, 'pki', 'ca.crt'), 'utf8')).trim());
  assert.equal(kubeconfig.clusters[0].cluster.server, server.url);

  // The verified kubeconfig pins the server; the user brings their own credentials.
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      KUBECTL,
      ['--kubeconfig', out, '--client-certificate', join(server.dataDir, 'user', 'admin.crt'), '--client-key', join(server.dataDir, 'user', 'admin.key'), 'get', 'namespaces', '-o', 'name'],
      { timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
    ),
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /namespace\/kube-system/);
});

test('verify --credentials-from puts the user of an existing kubeconfig into the attested one, so kubectl works at once', async () => {
  const { mkdir } = await import('node:fs/promises');
  const root = join(server.dataDir, 'simulated-nitro-root.pem');
  // The user's kubeconfig names its certificate files relative to itself, as kubectl allows.
  const credentials = await writeTemp(server.dataDir, 'mine.kubeconfig', [
    'apiVersion: v1', 'kind: Config', 'current-context: mine',
    'clusters: [{name: elsewhere, cluster: {server: "https://127.0.0.1:1"}}]',
    'contexts: [{name: mine, context: {cluster: elsewhere, user: alice}}]',
    'users: [{name: alice, user: {client-certificate: user/admin.crt, client-key: user/admin.key}}]', '',
  ].join('\n'));
  await mkdir(join(server.dataDir, 'elsewhere'), { recursive: true });
  const out = join(server.dataDir, 'elsewhere', 'attested.kubeconfig');
  const base = ['verify', server.url, '--policy', policy, '--allow-simulated', '--ca-file', root];

  const withoutTarget = await nautilus([...base, '--credentials-from', credentials]);
  assert.equal(withoutTarget.code, 2, 'credentials without --write-kubeconfig are a usage error');
  const verified = await nautilus([...base, '--write-kubeconfig', out, '--credentials-from', credentials]);
  assert.equal(verified.code, 0, verified.stderr + verified.stdout);
  const kubeconfig = parse(await readFile(out, 'utf8'));
  assert.equal(kubeconfig.clusters[0].cluster.server, server.url);
  assert.equal(kubeconfig.users[0].name, 'alice');
  assert.equal(kubeconfig.users[0].user['client-certificate'], join(server.dataDir, 'user', 'admin.crt'));

  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(KUBECTL, ['--kubeconfig', out, 'get', 'namespaces', '-o', 'name'], { timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr })),
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /namespace\/kube-system/);
});

test('discovery names the attestation API, served as nautilus.dev/v1 attestations', async () => {
  const resources = await server.ok(['api-resources', '--api-group=nautilus.dev']);
  assert.match(resources, /^attestations\s+nautilus\.dev\/v1\s+false\s+AttestationDocument$/m);
  const raw = JSON.parse(await server.ok(['get', '--raw', '/apis/nautilus.dev/v1/attestations/current?nonce=00ff']));
  assert.equal(raw.kind, 'AttestationDocument');
  assert.equal(raw.nonce, '00ff');
});

test('a durable server binds its checkpoint-signing key, stable across restarts', { timeout: 60_000 }, async () => {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dataDir = await mkdtemp(join(tmpdir(), 'nautilus-attest-durable-'));
  const fingerprints: string[] = [];
  try {
    for (let run = 0; run < 2; run++) {
      const durable = await startServer(['--tee', 'simulated'], dataDir);
      try {
        const result = await nautilus(['verify', durable.url, '--policy', policy, '--allow-simulated', '--ca-file', join(dataDir, 'simulated-nitro-root.pem')]);
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const match = result.stdout.match(/checkpoints: signed by key SHA-256 ([0-9a-f]{64}), vouched for by the attested TLS key/);
        assert.ok(match, result.stdout);
        fingerprints.push(match[1]);
      } finally {
        await durable.stop('SIGTERM');
      }
    }
    assert.equal(fingerprints[0], fingerprints[1], 'the serving key is new each start; the checkpoint key is not');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a policy that expects other measurements is refused', async () => {
  const text = await readFile(policy, 'utf8');
  const wrong = await writeTemp(server.dataDir, 'wrong-policy.yaml', text.replace(/([0-9a-f]{96})/, (pcr) => pcr.replace(/^./, (c) => (c === '0' ? '1' : '0'))));
  assert.notEqual(wrong, text);
  const result = await nautilus(['verify', server.url, '--policy', wrong, '--allow-simulated', '--ca-file', join(server.dataDir, 'simulated-nitro-root.pem')]);
  assert.equal(result.code, 1);
  assert.match(result.stdout + result.stderr, /pcr/i);
});

test('a TLS proxy in the middle (a key that is not the attested one) is refused', async () => {
  const ca = await createCa('intruder-ca');
  const proxyCert = await issueCertificate(ca, { commonName: 'intruder', ipAddresses: ['127.0.0.1'], usage: 'server', validDays: 1 });
  const upstream = new URL(server.url);
  const proxy: Server = createTlsServer({ key: proxyCert.keyPem, cert: proxyCert.certPem, ALPNProtocols: ['http/1.1'] }, (client) => {
    const backend = tlsConnect({ host: upstream.hostname, port: Number(upstream.port), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    client.pipe(backend).pipe(client);
    client.on('error', () => backend.destroy());
    backend.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  try {
    const port = (proxy.address() as AddressInfo).port;
    const out = join(server.dataDir, 'proxy.kubeconfig');
    const result = await nautilus(['verify', `https://127.0.0.1:${port}`, '--policy', policy, '--allow-simulated', '--ca-file', join(server.dataDir, 'simulated-nitro-root.pem'), '--write-kubeconfig', out]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout + result.stderr, /not the key|bound|binding|certificate/i);
    await assert.rejects(readFile(out), 'no kubeconfig is written for an unverified server');
  } finally {
    proxy.close();
  }
});
