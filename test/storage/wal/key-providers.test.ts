import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { openEnvelopedData } from '../../../src/storage/keys/cms-recipient.js';
import { createNitroKmsKeyProvider } from '../../../src/storage/keys/nitro-kms.js';
import { envelope, SimulatedKms, simulatedNsm } from './simulated-kms.js';
import { tempDir } from './helpers.js';

const ENCLAVE_PCR0 = crypto.createHash('sha384').update('nautilus enclave image').digest();

test('CMS EnvelopedData opens in both DER and the BER (indefinite-length, chunked) form KMS uses', () => {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const secret = crypto.randomBytes(32);
  assert.deepEqual(openEnvelopedData(envelope(secret, publicKey, 'der'), privateKey), secret);
  assert.deepEqual(openEnvelopedData(envelope(secret, publicKey, 'ber-indefinite'), privateKey), secret);
});

test('CMS EnvelopedData for another key, or damaged, is refused with a reason', () => {
  const mine = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sealed = envelope(crypto.randomBytes(32), other.publicKey, 'der');
  assert.throws(() => openEnvelopedData(sealed, mine.privateKey), /RSA-OAEP unwrap failed: not encrypted to this enclave key/);
  assert.throws(() => openEnvelopedData(sealed.subarray(0, sealed.length - 5), mine.privateKey), /not valid BER: element at byte 0 claims/);
  assert.throws(() => openEnvelopedData(Buffer.from('3003020102', 'hex'), mine.privateKey), /not a CMS EnvelopedData ContentInfo/);
});

test('nitro-kms: first start makes a KMS data key and stores only its KMS blob; later starts decrypt it', async () => {
  const dataDir = await tempDir();
  const kms = new SimulatedKms(ENCLAVE_PCR0);
  const options = { dataDir, keyId: 'alias/nautilus', encryptionContext: { cluster: 'test' }, attest: simulatedNsm(ENCLAVE_PCR0), kms };
  const first = await createNitroKmsKeyProvider(options).dataKey();
  assert.equal(first.length, 32);
  const blob = await fs.readFile(path.join(dataDir, 'data-key.kms'));
  assert.equal(blob.includes(first), false, 'the stored blob does not contain the key');
  const second = await createNitroKmsKeyProvider(options).dataKey();
  assert.deepEqual(second, first);
  assert.deepEqual(kms.calls, ['GenerateDataKey', 'Decrypt']);
});

test('nitro-kms: an enclave with other PCRs gets nothing and no blob is written', async () => {
  const dataDir = await tempDir();
  const kms = new SimulatedKms(ENCLAVE_PCR0);
  const impostor = crypto.createHash('sha384').update('modified image').digest();
  const provider = createNitroKmsKeyProvider({ dataDir, keyId: 'alias/nautilus', attest: simulatedNsm(impostor), kms });
  await assert.rejects(provider.dataKey(), /AccessDeniedException: kms:RecipientAttestation:PCR0/);
  await assert.rejects(fs.stat(path.join(dataDir, 'data-key.kms')), { code: 'ENOENT' });
});

test('nitro-kms: a KMS answer carrying the plaintext key is refused', async () => {
  const dataDir = await tempDir();
  const kms = new SimulatedKms(ENCLAVE_PCR0);
  const leaky = {
    decrypt: kms.decrypt.bind(kms),
    generateDataKey: async (request: Parameters<typeof kms.generateDataKey>[0]) => ({
      ...(await kms.generateDataKey(request)),
      Plaintext: crypto.randomBytes(32).toString('base64'),
    }),
  };
  const provider = createNitroKmsKeyProvider({ dataDir, keyId: 'k', attest: simulatedNsm(ENCLAVE_PCR0), kms: leaky });
  await assert.rejects(provider.dataKey(), /returned the data key in plaintext/);
});
