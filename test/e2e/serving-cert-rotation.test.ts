/**
 * Serving-certificate rotation without restart (--tls-cert-file/--tls-private-key-file): replace
 * the files and a new connection — kubectl's, node's tls — gets the new certificate, while a
 * connection opened before keeps working on the old one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startServer } from './harness.js';
import { issueCertificate } from '../../src/auth/pki.js';
import { SealedKeyFiles } from '../../src/storage/keys/sealed-key-files.js';

function open(port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => resolve(socket));
    socket.once('error', reject);
  });
}

const fingerprint = (socket: TLSSocket) => socket.getPeerX509Certificate()!.fingerprint256;

/** GET /version (anonymous may) on an open HTTP/1.1 connection: its status code. */
function getVersion(socket: TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk;
      const match = text.match(/^HTTP\/1\.1 (\d{3})/);
      if (match && text.includes('gitVersion')) {
        socket.off('data', onData);
        resolve(match[1]!);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write('GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
  });
}

test('replacing --tls-cert-file/--tls-private-key-file rotates the serving certificate for new connections; open ones keep working', { timeout: 120_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'nautilus-tls-rotate-'));
  let server;
  try {
    // A first start makes the cluster CA; the serving pairs are issued from it, so kubeconfig trusts them.
    await (await startServer([], dataDir)).stop();
    const keys = new SealedKeyFiles(join(dataDir, 'pki'), await readFile(join(dataDir, 'data.key')));
    const ca = { keyPem: (await keys.read('ca.key'))!, certPem: await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8') };
    const issue = () => issueCertificate(ca, { commonName: 'rotated-apiserver', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server', validDays: 1 });
    const first = await issue();
    const second = await issue();
    const certFile = join(dataDir, 'serving.crt');
    const keyFile = join(dataDir, 'serving.key');
    await writeFile(certFile, first.certPem);
    await writeFile(keyFile, first.keyPem, { mode: 0o600 });

    server = await startServer(['--tls-cert-file', certFile, '--tls-private-key-file', keyFile], dataDir);
    const port = Number(new URL(server.url).port);
    const before = await open(port);
    assert.equal(fingerprint(before), new X509Certificate(first.certPem).fingerprint256);
    assert.equal(await getVersion(before), '200');
    await server.ok(['get', 'namespaces']);

    // Replaced as tools do it: new files renamed over the old ones.
    await writeFile(`${keyFile}.new`, second.keyPem, { mode: 0o600 });
    await writeFile(`${certFile}.new`, second.certPem);
    await rename(`${keyFile}.new`, keyFile);
    await rename(`${certFile}.new`, certFile);
    const wanted = new X509Certificate(second.certPem).fingerprint256;
    await eventually(async () => {
      const socket = await open(port);
      const seen = fingerprint(socket);
      socket.destroy();
      assert.equal(seen, wanted);
    }, 20_000);
    // kubectl (a new connection, verifying against the cluster CA) works with the new certificate.
    await server.ok(['get', 'namespaces']);
    const served = await server.kubectl(['get', '--raw', '/version', '-v=0']);
    assert.equal(served.code, 0, served.stderr);
    // The connection opened before (on the first certificate) still works.
    assert.equal(await getVersion(before), '200');
    before.destroy();
  } finally {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a --tls-cert-file whose key does not match, or without its key flag, stops the start with the reason', { timeout: 60_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'nautilus-tls-bad-'));
  try {
    await (await startServer([], dataDir)).stop();
    const keys = new SealedKeyFiles(join(dataDir, 'pki'), await readFile(join(dataDir, 'data.key')));
    const ca = { keyPem: (await keys.read('ca.key'))!, certPem: await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8') };
    const one = await issueCertificate(ca, { commonName: 'a', ipAddresses: ['127.0.0.1'], usage: 'server', validDays: 1 });
    const other = await issueCertificate(ca, { commonName: 'b', ipAddresses: ['127.0.0.1'], usage: 'server', validDays: 1 });
    await writeFile(join(dataDir, 'a.crt'), one.certPem);
    await writeFile(join(dataDir, 'b.key'), other.keyPem);
    await assert.rejects(startServer(['--tls-cert-file', join(dataDir, 'a.crt'), '--tls-private-key-file', join(dataDir, 'b.key')], dataDir), /b\.key is not the key of the certificate in .*a\.crt/);
    await assert.rejects(startServer(['--tls-cert-file', join(dataDir, 'a.crt')], dataDir), /exited with 2: .*--tls-cert-file and --tls-private-key-file go together/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
