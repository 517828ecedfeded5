/** The kms (v2) provider backed by the data key: upstream's stored format, wrong keys, moved values, config checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EncryptionConfigError, parseEncryptionConfiguration } from '../../../src/storage/encryption/configuration.js';
import { createValueTransformer, DecryptionError } from '../../../src/storage/encryption/transformer.js';

const PLAIN = Buffer.from(JSON.stringify({ kind: 'Secret', data: { password: Buffer.from('kms-plaintext').toString('base64') } }));
const wrap = (providers: unknown[]) => ({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources: ['secrets'], providers }] });
const KMS = { kms: { apiVersion: 'v2', name: 'tee', endpoint: 'nautilus:key-provider', timeout: '3s' } };

/** Protobuf fields (number, wire type, bytes) read by hand from the wire format, independently of the code under test. */
function protobufFields(bytes: Buffer): { field: number; wireType: number; value: Buffer | number }[] {
  const fields = [];
  let at = 0;
  const varint = () => {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
    }
  };
  while (at < bytes.length) {
    const tag = varint();
    const wireType = tag & 7;
    if (wireType === 2) {
      const length = varint();
      fields.push({ field: tag >>> 3, wireType, value: bytes.subarray(at, at + length) });
      at += length;
    } else if (wireType === 0) fields.push({ field: tag >>> 3, wireType, value: varint() });
    else throw new Error(`unexpected wire type ${wireType}`);
  }
  return fields;
}

test('kms v2: the stored value is k8s:enc:kms:v2:<name>: and an EncryptedObject (data, keyID, wrapped DEK) without plaintext', () => {
  const dataKey = randomBytes(32);
  const t = createValueTransformer(parseEncryptionConfiguration(wrap([KMS])), dataKey);
  const stored = Buffer.from(t.toStorage('core/secrets', 'ns/s', PLAIN));
  const prefix = 'k8s:enc:kms:v2:tee:';
  assert.equal(stored.subarray(0, prefix.length).toString(), prefix);
  assert.equal(stored.includes('kms-plaintext') || stored.includes(Buffer.from('kms-plaintext').toString('base64')), false);
  const fields = protobufFields(stored.subarray(prefix.length));
  assert.deepEqual(fields.map(({ field, wireType }) => [field, wireType]), [[1, 2], [2, 2], [3, 2]], 'encryptedData, keyID, encryptedDEKSource; type AES_GCM_KEY (0) is the default, so not written');
  assert.equal((fields[0]!.value as Buffer).length, 12 + PLAIN.length + 16, 'nonce | ciphertext | tag');
  assert.match((fields[1]!.value as Buffer).toString(), /^nautilus-data-key-[0-9a-f]{16}$/);
  assert.equal((fields[2]!.value as Buffer).length, 12 + 32 + 16, 'the wrapped 32-byte DEK');
  assert.deepEqual(Buffer.from(t.fromStorage('core/secrets', 'ns/s', stored).value), PLAIN);
  assert.equal(t.fromStorage('core/secrets', 'ns/s', stored).stale, false);
});

test('kms v2: a later start (new DEK) reads older values; another data key, a moved or damaged value cannot', () => {
  const dataKey = randomBytes(32);
  const config = parseEncryptionConfiguration(wrap([KMS]));
  const first = createValueTransformer(config, dataKey);
  const stored = Buffer.from(first.toStorage('core/secrets', 'ns/s', PLAIN));
  const restarted = createValueTransformer(config, dataKey);
  const again = Buffer.from(restarted.toStorage('core/secrets', 'ns/s', PLAIN));
  assert.notDeepEqual(protobufFields(again.subarray(19))[2]!.value, protobufFields(stored.subarray(19))[2]!.value, 'a fresh DEK per start');
  assert.deepEqual(Buffer.from(restarted.fromStorage('core/secrets', 'ns/s', stored).value), PLAIN);
  const other = createValueTransformer(config, randomBytes(32));
  assert.throws(() => other.fromStorage('core/secrets', 'ns/s', stored), (error: Error) => error instanceof DecryptionError && /kms provider "tee" cannot decrypt the stored value \(the DEK was wrapped under key "nautilus-data-key-[0-9a-f]+", not this data key's/.test(error.message));
  assert.throws(() => restarted.fromStorage('core/secrets', 'other/s', stored), /moved from another object/);
  const damaged = Buffer.from(stored);
  damaged[damaged.length - 70]! ^= 1;
  assert.throws(() => restarted.fromStorage('core/secrets', 'ns/s', damaged), DecryptionError);
  assert.throws(() => restarted.fromStorage('core/secrets', 'ns/s', Buffer.from('k8s:enc:kms:v2:tee:garbage')), /kms provider "tee" cannot decrypt/);
});

test('kms v2 rotation as upstream: added after aesgcm it only reads; moved first it writes, and aesgcm values read as stale', () => {
  const dataKey = randomBytes(32);
  const aesgcm = { aesgcm: { keys: [{ name: 'key1', secret: randomBytes(32).toString('base64') }] } };
  const old = createValueTransformer(parseEncryptionConfiguration(wrap([aesgcm])), dataKey);
  const underAes = old.toStorage('core/secrets', 'ns/s', PLAIN);
  const kmsFirst = createValueTransformer(parseEncryptionConfiguration(wrap([KMS, aesgcm])), dataKey);
  assert.equal(kmsFirst.fromStorage('core/secrets', 'ns/s', underAes).stale, true);
  const rewritten = kmsFirst.toStorage('core/secrets', 'ns/s', PLAIN);
  const kmsOnly = createValueTransformer(parseEncryptionConfiguration(wrap([KMS])), dataKey);
  assert.deepEqual(Buffer.from(kmsOnly.fromStorage('core/secrets', 'ns/s', rewritten).value), PLAIN);
});

test('kms config: v1, a plugin socket, cachesize, a bad or repeated name are refused as upstream words them', () => {
  const bad = (providers: unknown[], pattern: RegExp) => assert.throws(() => parseEncryptionConfiguration(wrap(providers)), (error: Error) => error instanceof EncryptionConfigError && pattern.test(error.message));
  bad([{ kms: { apiVersion: 'v1', name: 'x', endpoint: 'unix:///tmp/kms.sock' } }], /apiVersion: Unsupported value: "v1"/);
  bad([{ kms: { apiVersion: 'v2', name: 'x', endpoint: 'unix:///tmp/kms.sock' } }], /\.kms\.endpoint: Unsupported value: "unix:\/\/\/tmp\/kms\.sock": this server reaches no KMS plugin socket/);
  bad([{ kms: { apiVersion: 'v2', name: 'x', cachesize: 100 } }], /cachesize is not supported in v2/);
  bad([{ kms: { apiVersion: 'v2' } }], /kms\.name: Required value/);
  bad([{ kms: { apiVersion: 'v2', name: 'a:b' } }], /should not contain ":"/);
  bad([{ kms: { apiVersion: 'v2', name: 'x' } }, { kms: { apiVersion: 'v2', name: 'x' } }], /providers\[1\]\.kms\.name: Invalid value: "x": duplicate kms provider name/);
  assert.equal(parseEncryptionConfiguration(wrap([{ kms: { apiVersion: 'v2', name: 'x' } }])).rules[0]!.providers[0]!.name, 'x');
});
