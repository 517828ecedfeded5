/** Encryption at rest: EncryptionConfiguration parsing, aesgcm/aescbc/secretbox/identity, prefixes, wrong keys, rotation, and the store on a real sealed log. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EncryptionConfigError, parseEncryptionConfiguration } from '../../../src/storage/encryption/configuration.js';
import { createValueTransformer, DecryptionError } from '../../../src/storage/encryption/transformer.js';
import { Store } from '../../../src/storage/store.js';
import type { KubeObject } from '../../../src/api/object.js';
import { logFixture } from '../wal/helpers.js';

const KEY1 = randomBytes(32).toString('base64');
const KEY2 = randomBytes(32).toString('base64');

function config(providers: unknown[], resources: string[] = ['secrets']) {
  return parseEncryptionConfiguration({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources, providers }] });
}
const aesgcm = (...keys: Array<[string, string]>) => ({ aesgcm: { keys: keys.map(([name, secret]) => ({ name, secret })) } });
const aescbc = (...keys: Array<[string, string]>) => ({ aescbc: { keys: keys.map(([name, secret]) => ({ name, secret })) } });
const secretbox = (...keys: Array<[string, string]>) => ({ secretbox: { keys: keys.map(([name, secret]) => ({ name, secret })) } });

const PLAIN = Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns' }, data: { password: Buffer.from('hunter2-plaintext').toString('base64') } }));

test('aesgcm: stored bytes carry the upstream prefix, no plaintext, a fresh nonce each time, and read back', () => {
  const t = createValueTransformer(config([aesgcm(['key1', KEY1]), { identity: {} }]));
  const a = Buffer.from(t.toStorage('core/secrets', 'ns/s', PLAIN));
  const b = Buffer.from(t.toStorage('core/secrets', 'ns/s', PLAIN));
  assert.ok(a.subarray(0, 23).equals(Buffer.from('k8s:enc:aesgcm:v1:key1:')));
  assert.equal(a.length, 23 + 12 + PLAIN.length + 16);
  assert.ok(!a.includes(PLAIN.subarray(40, 80)));
  assert.ok(!a.equals(b), 'random nonce');
  const read = t.fromStorage('core/secrets', 'ns/s', a);
  assert.ok(Buffer.from(read.value).equals(PLAIN));
  assert.equal(read.stale, false);
  // The location is authenticated: the same bytes under another object do not decrypt.
  assert.throws(() => t.fromStorage('core/secrets', 'ns/other', a), DecryptionError);
});

test('aescbc: prefix, IV + PKCS#7 blocks, round trip', () => {
  const t = createValueTransformer(config([aescbc(['k', KEY1])]));
  const stored = Buffer.from(t.toStorage('core/secrets', 'ns/s', PLAIN));
  const prefix = 'k8s:enc:aescbc:v1:k:';
  assert.equal(stored.subarray(0, prefix.length).toString(), prefix);
  assert.equal((stored.length - prefix.length) % 16, 0);
  assert.equal(stored.length - prefix.length, 16 + (Math.floor(PLAIN.length / 16) + 1) * 16);
  assert.ok(Buffer.from(t.fromStorage('core/secrets', 'ns/s', stored).value).equals(PLAIN));
});

test('secretbox: prefix, a 24-byte nonce, then NaCl secretbox (tag, ciphertext) as Go writes it; round trip', () => {
  const t = createValueTransformer(config([secretbox(['k', KEY1])]));
  const prefix = 'k8s:enc:secretbox:v1:k:';
  const a = Buffer.from(t.toStorage('core/secrets', 'ns/s', PLAIN));
  const b = Buffer.from(t.toStorage('core/secrets', 'ns/s', PLAIN));
  assert.equal(a.subarray(0, prefix.length).toString(), prefix);
  assert.equal(a.length, prefix.length + 24 + 16 + PLAIN.length);
  assert.ok(!a.includes(PLAIN.subarray(40, 80)));
  assert.ok(!a.subarray(0, prefix.length + 24).equals(b.subarray(0, prefix.length + 24)), 'random nonce');
  assert.ok(Buffer.from(t.fromStorage('core/secrets', 'ns/s', a).value).equals(PLAIN));
  // The NaCl test vector (libsodium's crypto_secretbox_easy, Go's secretbox.Seal): zero key, zero nonce, "test".
  const zeroKey = createValueTransformer(config([secretbox(['z', Buffer.alloc(32).toString('base64')])]));
  const box = Buffer.from([175, 153, 180, 147, 246, 123, 253, 41, 159, 169, 32, 114, 64, 251, 167, 179, 178, 91, 200, 139]);
  const vector = Buffer.concat([Buffer.from('k8s:enc:secretbox:v1:z:'), Buffer.alloc(24), box]);
  assert.equal(Buffer.from(zeroKey.fromStorage('core/secrets', 'ns/s', vector).value).toString(), 'test');
  // A flipped bit anywhere after the prefix, or another key, is refused.
  const flipped = Buffer.from(a);
  flipped[prefix.length + 30] ^= 1;
  assert.throws(() => t.fromStorage('core/secrets', 'ns/s', flipped), /secretbox key "k" cannot decrypt/);
  assert.throws(() => createValueTransformer(config([secretbox(['k', KEY2])])).fromStorage('core/secrets', 'ns/s', a), DecryptionError);
});

test('a wrong key under the same name is refused, not read as garbage', () => {
  const writer = createValueTransformer(config([aesgcm(['key1', KEY1])]));
  const reader = createValueTransformer(config([aesgcm(['key1', KEY2])]));
  const stored = writer.toStorage('core/secrets', 'ns/s', PLAIN);
  assert.throws(() => reader.fromStorage('core/secrets', 'ns/s', stored), /key "key1" cannot decrypt/);
  const cbcWriter = createValueTransformer(config([aescbc(['key1', KEY1])]));
  const cbcReader = createValueTransformer(config([aescbc(['key1', KEY2])]));
  assert.throws(() => cbcReader.fromStorage('core/secrets', 'ns/s', cbcWriter.toStorage('core/secrets', 'ns/s', PLAIN)), DecryptionError);
  // A prefix no provider knows is named in the error.
  assert.throws(() => createValueTransformer(config([aesgcm(['key2', KEY2])])).fromStorage('core/secrets', 'ns/s', stored), /k8s:enc:aesgcm:v1:key1:/);
});

test('resources not listed, identity first, and plaintext without identity', () => {
  const t = createValueTransformer(config([aesgcm(['key1', KEY1])], ['secrets', '*.apps']));
  assert.ok(Buffer.from(t.toStorage('core/configmaps', 'ns/c', PLAIN)).equals(PLAIN));
  assert.ok(Buffer.from(t.toStorage('apps/deployments', 'ns/d', PLAIN)).subarray(0, 8).equals(Buffer.from('k8s:enc:')));
  assert.ok(Buffer.from(t.toStorage('batch/jobs', 'ns/j', PLAIN)).equals(PLAIN));
  assert.throws(() => t.fromStorage('core/secrets', 'ns/s', PLAIN), /no identity provider/);
  const all = createValueTransformer(config([aesgcm(['key1', KEY1])], ['*.*']));
  assert.ok(Buffer.from(all.toStorage('batch/jobs', 'ns/j', PLAIN)).subarray(0, 8).equals(Buffer.from('k8s:enc:')));
  const core = createValueTransformer(config([aesgcm(['key1', KEY1])], ['*.']));
  assert.ok(Buffer.from(core.toStorage('apps/deployments', 'ns/d', PLAIN)).equals(PLAIN));
  assert.ok(!Buffer.from(core.toStorage('core/configmaps', 'ns/c', PLAIN)).equals(PLAIN));
  // identity first: writes stay plaintext, encrypted values are still read.
  const decrypting = createValueTransformer(config([{ identity: {} }, aesgcm(['key1', KEY1])]));
  assert.ok(Buffer.from(decrypting.toStorage('core/secrets', 'ns/s', PLAIN)).equals(PLAIN));
  const read = decrypting.fromStorage('core/secrets', 'ns/s', t.toStorage('core/secrets', 'ns/s', PLAIN));
  assert.ok(Buffer.from(read.value).equals(PLAIN));
  assert.equal(read.stale, true);
});

test('rotation as upstream documents it: new key second, then first, then the old key removed', () => {
  const old = createValueTransformer(config([aesgcm(['key1', KEY1]), { identity: {} }]));
  const written = old.toStorage('core/secrets', 'ns/s', PLAIN);
  // Step 1: key2 added second: key1 still writes, key1 data is current.
  const added = createValueTransformer(config([aesgcm(['key1', KEY1], ['key2', KEY2]), { identity: {} }]));
  assert.equal(added.fromStorage('core/secrets', 'ns/s', written).stale, false);
  assert.ok(Buffer.from(added.toStorage('core/secrets', 'ns/s', PLAIN)).subarray(0, 23).equals(Buffer.from('k8s:enc:aesgcm:v1:key1:')));
  // Step 2: key2 first: key1 data still reads but is stale; writes use key2.
  const moved = createValueTransformer(config([aesgcm(['key2', KEY2], ['key1', KEY1]), { identity: {} }]));
  const read = moved.fromStorage('core/secrets', 'ns/s', written);
  assert.ok(Buffer.from(read.value).equals(PLAIN));
  assert.equal(read.stale, true);
  const rewritten = moved.toStorage('core/secrets', 'ns/s', read.value);
  assert.ok(Buffer.from(rewritten).subarray(0, 23).equals(Buffer.from('k8s:enc:aesgcm:v1:key2:')));
  // Step 3: key1 removed: rewritten data reads, data left under key1 does not.
  const removed = createValueTransformer(config([aesgcm(['key2', KEY2]), { identity: {} }]));
  assert.equal(removed.fromStorage('core/secrets', 'ns/s', rewritten).stale, false);
  assert.throws(() => removed.fromStorage('core/secrets', 'ns/s', written), DecryptionError);
});

test('configuration errors name what is wrong; KMS v1 is refused', () => {
  const bad = (document: unknown, pattern: RegExp) => assert.throws(() => parseEncryptionConfiguration(document), (error: Error) => error instanceof EncryptionConfigError && pattern.test(error.message));
  const wrap = (providers: unknown[], resources: unknown = ['secrets']) => ({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources, providers }] });
  bad(wrap([secretbox(['k', Buffer.alloc(16).toString('base64')])]), /providers\[0\]\.secretbox\.keys\[0\]\.secret: .*expected length, got 16, expected 32$/);
  bad(wrap([{ kms: { name: 'x' } }]), /providers\[0\]\.kms\.apiVersion: Unsupported value: "v1": KMS v1 is deprecated/);
  bad(wrap([{ rot13: {} }]), /unknown provider "rot13"/);
  bad(wrap([aesgcm(['k', Buffer.alloc(20).toString('base64')])]), /expected length, got 20/);
  bad(wrap([aesgcm(['k', 'not base64!'])]), /must be base64 encoded/);
  bad(wrap([aesgcm(['a:b', KEY1])]), /must not contain ":"/);
  bad(wrap([aesgcm(['k', KEY1], ['k', KEY2])]), /Duplicate value: "k"/);
  bad(wrap([{ aesgcm: { keys: [] } }]), /at least one key/);
  bad(wrap([]), /at least one provider/);
  bad(wrap([{ identity: {}, aesgcm: {} }]), /exactly one provider/);
  bad(wrap([{ identity: {} }], ['secrets', 'secrets']), /Duplicate value: "secrets"/);
  bad({ ...wrap([{ identity: {} }]), kind: 'Other' }, /kind must be EncryptionConfiguration/);
  bad({ ...wrap([{ identity: {} }]), apiVersion: 'v1' }, /apiVersion must be apiserver.config.k8s.io\/v1/);
  // Key material never appears in a message.
  assert.throws(() => parseEncryptionConfiguration(wrap([aesgcm(['k', Buffer.alloc(20, 7).toString('base64')])])), (error: Error) => !error.message.includes(Buffer.alloc(20, 7).toString('base64')));
});

test('the store serves plaintext, the sealed log holds ciphertext, recovery decrypts, a rotated key marks values stale', async () => {
  const fixture = await logFixture();
  const secret: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns' }, data: { password: 'aHVudGVyMg==' } };
  const v1 = createValueTransformer(config([aesgcm(['key1', KEY1])]));
  let log = await fixture.open();
  let store = new Store({ durableLog: log, valueTransformer: v1 });
  store.restore(await log.recover());
  const created = await store.create('core/secrets', 'ns/s', secret);
  await store.create('core/configmaps', 'ns/c', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' }, data: { a: 'b' } });
  assert.equal(JSON.parse(created.json.toString()).data.password, 'aHVudGVyMg==');
  await log.close();

  log = await fixture.open();
  const raw = await log.recover();
  await log.close();
  const persisted = raw.mutations.find((m) => m.resource === 'core/secrets')!;
  assert.ok(Buffer.from(persisted.value).subarray(0, 23).equals(Buffer.from('k8s:enc:aesgcm:v1:key1:')));
  assert.ok(!Buffer.from(persisted.value).includes('aHVudGVyMg=='));
  assert.ok(Buffer.from(raw.mutations.find((m) => m.resource === 'core/configmaps')!.value).toString().startsWith('{'));

  // Snapshots are encrypted too.
  log = await fixture.open();
  store = new Store({ durableLog: log, valueTransformer: v1 });
  store.restore(await log.recover());
  const snap = store.snapshotEntries();
  await log.snapshot(snap.revision, snap.entries);
  await log.close();
  log = await fixture.open();
  const afterSnapshot = await log.recover();
  await log.close();
  const entry = afterSnapshot.entries.find((e) => e.resource === 'core/secrets')!;
  assert.ok(Buffer.from(entry.value).subarray(0, 23).equals(Buffer.from('k8s:enc:aesgcm:v1:key1:')));

  // Restart with key2 first: the value reads, is stale; without key1 recovery refuses.
  log = await fixture.open();
  store = new Store({ durableLog: log, valueTransformer: createValueTransformer(config([aesgcm(['key2', KEY2], ['key1', KEY1])])) });
  store.restore(await log.recover());
  assert.equal((store.get('core/secrets', 'ns/s')!.object.data as { password: string }).password, 'aHVudGVyMg==');
  assert.equal(store.get('core/secrets', 'ns/s')!.stale, true);
  assert.equal(store.get('core/configmaps', 'ns/c')!.stale, undefined);
  await log.close();
  log = await fixture.open();
  store = new Store({ durableLog: log, valueTransformer: createValueTransformer(config([aesgcm(['key2', KEY2])])) });
  const recovered = await log.recover();
  assert.throws(() => store.restore(recovered), /no provider in the encryption config matches/);
  await log.close();
});
