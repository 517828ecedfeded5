import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { SealedKeyFiles } from '../../../src/storage/keys/sealed-key-files.js';
import { tempDir } from './helpers.js';

const pem = (label: string) => `-----BEGIN PRIVATE KEY-----\n${Buffer.from(label.repeat(8)).toString('base64')}\n-----END PRIVATE KEY-----\n`;

test('a sealed key reads back under the same data key and holds no plaintext', async () => {
  const pki = await tempDir();
  const dataKey = crypto.randomBytes(32);
  await new SealedKeyFiles(pki, dataKey).write('front-proxy/ca.key', pem('ca'));
  const stored = await fs.readFile(path.join(pki, 'front-proxy', 'ca.key.sealed'));
  assert.equal(stored.includes('PRIVATE KEY'), false);
  assert.equal(await new SealedKeyFiles(pki, dataKey).read('front-proxy/ca.key'), pem('ca'));
  assert.equal(await new SealedKeyFiles(pki, dataKey).read('sa.key'), undefined);
});

test('another data key, a moved file or a flipped bit is refused with the reason', async () => {
  const pki = await tempDir();
  const dataKey = crypto.randomBytes(32);
  const keys = new SealedKeyFiles(pki, dataKey);
  await keys.write('ca.key', pem('ca'));
  await assert.rejects(new SealedKeyFiles(pki, crypto.randomBytes(32)).read('ca.key'), /ca\.key\.sealed does not open with this data key: it was sealed under another key provider or data key, or altered/);
  // The CA key copied over the service-account key: the path is bound, so it does not open as sa.key.
  await fs.copyFile(path.join(pki, 'ca.key.sealed'), path.join(pki, 'sa.key.sealed'));
  await assert.rejects(keys.read('sa.key'), /sa\.key\.sealed does not open with this data key/);
  const sealed = await fs.readFile(path.join(pki, 'ca.key.sealed'));
  sealed[sealed.length - 20]! ^= 1;
  await fs.writeFile(path.join(pki, 'ca.key.sealed'), sealed);
  await assert.rejects(keys.read('ca.key'), /does not open/);
  await fs.writeFile(path.join(pki, 'ca.key.sealed'), 'plain text');
  await assert.rejects(keys.read('ca.key'), /is not a sealed key file/);
});

test('a plain key file from an older version is sealed on first read and removed; a leftover after a cut migration too', async () => {
  const pki = await tempDir();
  const keys = new SealedKeyFiles(pki, crypto.randomBytes(32));
  await fs.writeFile(path.join(pki, 'ca.key'), pem('old'), { mode: 0o600 });
  assert.equal(await keys.read('ca.key'), pem('old'));
  assert.deepEqual(await fs.readdir(pki), ['ca.key.sealed']);
  assert.equal(await keys.read('ca.key'), pem('old'));
  // Sealed and plain both present (a crash between sealing and removing): the sealed one wins, the plain goes.
  await fs.writeFile(path.join(pki, 'ca.key'), pem('old'));
  assert.equal(await keys.read('ca.key'), pem('old'));
  assert.deepEqual(await fs.readdir(pki), ['ca.key.sealed']);
});

test('loadOrCreate makes a key once and returns the same one after', async () => {
  const pki = await tempDir();
  const keys = new SealedKeyFiles(pki, crypto.randomBytes(32));
  let made = 0;
  const create = async () => pem(`key${++made}`);
  const first = await keys.loadOrCreate('sa.key', create);
  assert.equal(await keys.loadOrCreate('sa.key', create), first);
  assert.equal(made, 1);
});
