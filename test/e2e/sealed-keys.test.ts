/**
 * The private keys of pki/ live sealed with the data key: after a real server ran (CA, front
 * proxy, service-account signer, admin client, a CSR signed), no file under the data dir holds a
 * private key in plaintext — as PEM, base64 PEM or raw DER — except the admin kubeconfig handed to
 * the operator. A data dir from before (plain key files) is migrated on start and keeps its CA.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startServer } from './harness.js';
import { SealedKeyFiles } from '../../src/storage/keys/sealed-key-files.js';

const PRIVATE_KEYS = ['ca.key', 'sa.key', 'admin.key', 'front-proxy/ca.key', 'front-proxy/front-proxy-client.key'];

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(full)));
    else if (entry.isFile()) found.push(full);
  }
  return found;
}

test('no private key remains in plaintext under the data dir; an old plain-key data dir migrates on start', { timeout: 120_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'nautilus-sealed-'));
  try {
    const server = await startServer([], dataDir);
    await server.ok(['create', 'token', 'default']);
    await server.ok(['create', 'secret', 'generic', 'x', '--from-literal=k=v']);
    const caBefore = await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8');
    await server.stop();

    const keys = new SealedKeyFiles(join(dataDir, 'pki'), await readFile(join(dataDir, 'data.key')));
    const secrets: { name: string; needles: Buffer[] }[] = [];
    for (const name of PRIVATE_KEYS) {
      const pem = await keys.read(name);
      assert.ok(pem, `${name} is kept (sealed)`);
      const scalar = Buffer.from(createPrivateKey(pem).export({ format: 'jwk' }).d!, 'base64url');
      // The key as PEM, as base64 PEM (a kubeconfig's client-key-data) and its raw private scalar.
      secrets.push({ name, needles: [Buffer.from(pem), Buffer.from(Buffer.from(pem).toString('base64')), scalar] });
    }
    const files = await filesUnder(dataDir);
    for (const file of files) {
      const content = await readFile(file);
      const where = relative(dataDir, file);
      assert.equal(content.includes('PRIVATE KEY-----'), false, `${where} holds a PEM private key`);
      for (const { name, needles } of secrets) {
        // The admin kubeconfig is the operator's credential: it carries the admin key, and only that.
        if (where === 'admin.kubeconfig' && name === 'admin.key') continue;
        for (const needle of needles) assert.equal(content.includes(needle), false, `${where} holds ${name}`);
      }
    }
    assert.ok(files.some((file) => file.endsWith('ca.key.sealed')));

    // An older Nautilus's layout: the same keys as plain PEM files, no sealed ones.
    for (const name of PRIVATE_KEYS) {
      await writeFile(join(dataDir, 'pki', name), (await keys.read(name))!, { mode: 0o600 });
      await rm(join(dataDir, 'pki', `${name}.sealed`));
    }
    const migrated = await startServer([], dataDir);
    // The same CA and admin credentials as before: the old kubeconfig still works.
    assert.equal(await migrated.ok(['get', 'secret', 'x', '-o', 'jsonpath={.data.k}']), Buffer.from('v').toString('base64'));
    await migrated.ok(['create', 'token', 'default']);
    await migrated.stop();
    assert.equal(await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8'), caBefore);
    for (const name of PRIVATE_KEYS) {
      assert.equal(existsSync(join(dataDir, 'pki', name)), false, `plain ${name} removed`);
      assert.ok(existsSync(join(dataDir, 'pki', `${name}.sealed`)), `${name} sealed`);
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
