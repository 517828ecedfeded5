/**
 * `serve --encryption-provider-config`: a Secret created with the real kubectl is stored under
 * `k8s:enc:aesgcm:v1:key1:` in the sealed WAL (read back with the data dir's own key), reads back
 * after a restart, and moves to a new key through upstream's rotation steps; secretbox stores and
 * reads back the same way; a config with a provider this server cannot run stops it with a clear error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './harness.js';
import { createSealedLog } from '../../src/storage/wal/index.js';
import { createLocalKeyProvider } from '../../src/storage/keys/local.js';

const PASSWORD = 'hunter2-at-rest';
const PASSWORD_B64 = Buffer.from(PASSWORD).toString('base64');

function configYaml(providers: string): string {
  return `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
    providers:
${providers}`;
}
const aesgcm = (keys: Array<[string, string]>) => `      - aesgcm:
          keys:
${keys.map(([name, secret]) => `            - name: ${name}\n              secret: ${secret}\n`).join('')}`;
const IDENTITY = '      - identity: {}\n';

/** The bytes the sealed log holds for one object's latest version (the server must be stopped). */
async function persisted(dataDir: string, resource: string, key: string): Promise<Buffer> {
  const log = await createSealedLog({ dir: dataDir, keyProvider: createLocalKeyProvider(dataDir) });
  try {
    const state = await log.recover();
    const mutation = state.mutations.filter((m) => m.resource === resource && m.key === key).at(-1);
    const entry = state.entries.find((e) => e.resource === resource && e.key === key);
    const value = mutation?.value ?? entry?.value;
    assert.ok(value, `${resource} ${key} is in the log`);
    return Buffer.from(value);
  } finally {
    await log.close();
  }
}

test('Secrets are encrypted in the WAL, read back after restart, and rotate to a new key', { timeout: 240_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'nautilus-encryption-'));
  const dataDir = join(root, 'data');
  const config = join(root, 'encryption.yaml');
  const key1 = randomBytes(32).toString('base64');
  const key2 = randomBytes(32).toString('base64');
  try {
    await writeFile(config, configYaml(aesgcm([['key1', key1]]) + IDENTITY));
    let server = await startServer(['--encryption-provider-config', config], dataDir);
    await server.ok(['create', 'secret', 'generic', 'db', '-n', 'default', `--from-literal=password=${PASSWORD}`]);
    await server.ok(['create', 'configmap', 'plain', '-n', 'default', '--from-literal=a=visible-config']);
    // Serving is unchanged.
    assert.match(await server.ok(['get', 'secret', 'db', '-n', 'default', '-o', 'yaml']), new RegExp(`password: ${PASSWORD_B64}`));
    await server.stop();

    let stored = await persisted(dataDir, 'core/secrets', 'default/db');
    assert.equal(stored.subarray(0, 23).toString(), 'k8s:enc:aesgcm:v1:key1:');
    assert.ok(!stored.includes(PASSWORD_B64) && !stored.includes(PASSWORD), 'no Secret plaintext in the log');
    assert.ok((await persisted(dataDir, 'core/configmaps', 'default/plain')).includes('visible-config'), 'configmaps are not listed: stored as they are');

    server = await startServer(['--encryption-provider-config', config], dataDir);
    assert.match(await server.ok(['get', 'secret', 'db', '-n', 'default', '-o', 'yaml']), new RegExp(`password: ${PASSWORD_B64}`));
    await server.stop();

    // Rotation: key2 second (restart), key2 first (restart), rewrite every Secret, drop key1.
    await writeFile(config, configYaml(aesgcm([['key1', key1], ['key2', key2]]) + IDENTITY));
    server = await startServer(['--encryption-provider-config', config], dataDir);
    assert.match(await server.ok(['get', 'secret', 'db', '-n', 'default', '-o', 'yaml']), new RegExp(PASSWORD_B64));
    await server.stop();
    await writeFile(config, configYaml(aesgcm([['key2', key2], ['key1', key1]]) + IDENTITY));
    server = await startServer(['--encryption-provider-config', config], dataDir);
    const all = await server.ok(['get', 'secrets', '-A', '-o', 'json']);
    const before = JSON.parse(all).items.find((item: { metadata: { name: string } }) => item.metadata.name === 'db').metadata.resourceVersion;
    await server.ok(['replace', '-f', '-'], { input: all });
    // Read under a retired key, so rewritten although unchanged (as upstream's stale read).
    const after = JSON.parse(await server.ok(['get', 'secret', 'db', '-n', 'default', '-o', 'json'])).metadata.resourceVersion;
    assert.notEqual(after, before);
    await server.stop();
    stored = await persisted(dataDir, 'core/secrets', 'default/db');
    assert.equal(stored.subarray(0, 23).toString(), 'k8s:enc:aesgcm:v1:key2:');

    await writeFile(config, configYaml(aesgcm([['key2', key2]]) + IDENTITY));
    server = await startServer(['--encryption-provider-config', config], dataDir);
    assert.match(await server.ok(['get', 'secret', 'db', '-n', 'default', '-o', 'yaml']), new RegExp(`password: ${PASSWORD_B64}`));
    await server.stop();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('secretbox: a Secret is stored under k8s:enc:secretbox:v1:, with no plaintext, and reads back after restart', { timeout: 120_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'nautilus-secretbox-'));
  const dataDir = join(root, 'data');
  const config = join(root, 'encryption.yaml');
  try {
    await writeFile(config, configYaml(`      - secretbox:\n          keys:\n            - name: box1\n              secret: ${randomBytes(32).toString('base64')}\n`));
    let server = await startServer(['--encryption-provider-config', config], dataDir);
    await server.ok(['create', 'secret', 'generic', 'db', '-n', 'default', `--from-literal=password=${PASSWORD}`]);
    await server.stop();
    const stored = await persisted(dataDir, 'core/secrets', 'default/db');
    assert.equal(stored.subarray(0, 26).toString(), 'k8s:enc:secretbox:v1:box1:');
    assert.ok(!stored.includes(PASSWORD_B64) && !stored.includes(PASSWORD), 'no Secret plaintext in the log');
    server = await startServer(['--encryption-provider-config', config], dataDir);
    assert.match(await server.ok(['get', 'secret', 'db', '-n', 'default', '-o', 'yaml']), new RegExp(`password: ${PASSWORD_B64}`));
    await server.stop();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('an invalid config (KMS v1, a short key) stops the server with a clear error', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'nautilus-encryption-bad-'));
  try {
    const config = join(root, 'encryption.yaml');
    await writeFile(config, configYaml('      - kms:\n          name: legacy\n          endpoint: unix:///tmp/kms.sock\n'));
    await assert.rejects(startServer(['--encryption-provider-config', config], join(root, 'data')), /exited with 2: nautilus serve: encryption provider config .*providers\[0\]\.kms\.apiVersion: Unsupported value: "v1"/);
    await writeFile(config, configYaml(aesgcm([['key1', 'c2hvcnQ=']])));
    await assert.rejects(startServer(['--encryption-provider-config', config], join(root, 'data')), /secret is not of the expected length/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('kms (v2) backed by the key provider: Secrets move from aesgcm to k8s:enc:kms:v2 by upstream\'s rotation steps', { timeout: 240_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'nautilus-kms-encryption-'));
  const dataDir = join(root, 'data');
  const config = join(root, 'encryption.yaml');
  const key1 = randomBytes(32).toString('base64');
  const KMS = '      - kms:\n          apiVersion: v2\n          name: tee\n          endpoint: nautilus:key-provider\n';
  try {
    await writeFile(config, configYaml(aesgcm([['key1', key1]]) + IDENTITY));
    let server = await startServer(['--encryption-provider-config', config], dataDir);
    await server.ok(['create', 'secret', 'generic', 'db', '-n', 'default', `--from-literal=password=${PASSWORD}`]);
    await server.stop();
    // kms first (it writes), aesgcm still listed to read; rewrite every Secret; then drop aesgcm.
    await writeFile(config, configYaml(KMS + aesgcm([['key1', key1]])));
    server = await startServer(['--encryption-provider-config', config], dataDir);
    await server.ok(['replace', '-f', '-'], { input: await server.ok(['get', 'secrets', '-A', '-o', 'json']) });
    await server.ok(['create', 'secret', 'generic', 'fresh', '-n', 'default', `--from-literal=password=${PASSWORD}`]);
    await server.stop();
    for (const name of ['db', 'fresh']) {
      const stored = await persisted(dataDir, 'core/secrets', `default/${name}`);
      assert.equal(stored.subarray(0, 19).toString(), 'k8s:enc:kms:v2:tee:');
      assert.ok(!stored.includes(PASSWORD_B64) && !stored.includes(PASSWORD), 'no Secret plaintext in the log');
    }
    await writeFile(config, configYaml(KMS));
    server = await startServer(['--encryption-provider-config', config], dataDir);
    assert.match(await server.ok(['get', 'secret', 'db', '-n', 'default', '-o', 'yaml']), new RegExp(`password: ${PASSWORD_B64}`));
    assert.match(await server.ok(['get', 'secret', 'fresh', '-n', 'default', '-o', 'yaml']), new RegExp(`password: ${PASSWORD_B64}`));
    await server.stop();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
