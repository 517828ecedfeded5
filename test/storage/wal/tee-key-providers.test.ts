import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import {
  createSevSnpKeyProvider,
  DEFAULT_SNP_REQUEST,
  encodeDerivedKeyRequest,
} from '../../../src/storage/keys/sev-snp.js';
import { createTdxKeyProvider, keyReleaseReportData, sealToRecipient } from '../../../src/storage/keys/tdx.js';
import { tempDir } from './helpers.js';
import { readVector } from '../../tee/vectors.js';

/**
 * A simulated /dev/sev-guest behind SNP_GET_DERIVED_KEY: decodes struct snp_derived_key_req the
 * way the kernel header lays it out, refuses what the firmware refuses, and derives a key from a
 * chip secret and the selected guest fields.
 */
function simulatedSevGuest(chipSecret: Buffer, guest: { measurement: Buffer; policy: bigint }) {
  return async (request: Buffer): Promise<Buffer> => {
    const response = Buffer.alloc(64);
    const rootKeySelect = request.readUInt32LE(0);
    const reserved = request.readUInt32LE(4);
    const fieldSelect = request.readBigUInt64LE(8);
    const vmpl = request.readUInt32LE(16);
    if (request.length !== 32 || reserved !== 0 || rootKeySelect > 1 || vmpl > 3 || fieldSelect >> 6n !== 0n) {
      response.writeUInt32LE(0x16, 0); // INVALID_PARAM
      return response;
    }
    const mac = crypto.createHmac('sha256', chipSecret).update(request.subarray(0, 8)).update(request.subarray(8));
    if (fieldSelect & 1n) mac.update(`policy:${guest.policy}`);
    if (fieldSelect & 8n) mac.update(guest.measurement);
    mac.digest().copy(response, 32);
    return response;
  };
}

const chip = crypto.randomBytes(32);
const measurement = crypto.createHash('sha384').update('nautilus build 1').digest();

test('sev-snp request has the kernel struct layout (little-endian, field bits in ABI order)', () => {
  const request = encodeDerivedKeyRequest({
    rootKey: 'vmrk',
    fields: { policy: true, imageId: false, familyId: true, measurement: true, guestSvn: false, tcbVersion: true },
    vmpl: 2,
    guestSvn: 7,
    tcbVersion: 0x0102030405060708n,
  });
  assert.equal(request.toString('hex'), '01000000' + '00000000' + '2d00000000000000' + '02000000' + '07000000' + '0807060504030201');
  assert.throws(() => encodeDerivedKeyRequest({ ...DEFAULT_SNP_REQUEST, vmpl: 4 }), /vmpl must be 0..3/);
});

test('sev-snp: the same guest on the same chip gets the same data key; the wrapped key never holds it in clear', async () => {
  const dataDir = await tempDir();
  const deriveKey = simulatedSevGuest(chip, { measurement, policy: 0x30000n });
  const first = await createSevSnpKeyProvider({ dataDir, deriveKey }).dataKey();
  const second = await createSevSnpKeyProvider({ dataDir, deriveKey }).dataKey();
  assert.deepEqual(second, first);
  assert.equal((await fs.readFile(path.join(dataDir, 'data-key.snp'))).includes(first), false);
});

test('sev-snp: another measurement cannot unwrap the data key; without measurement selected it can', async () => {
  const dataDir = await tempDir();
  await createSevSnpKeyProvider({ dataDir, deriveKey: simulatedSevGuest(chip, { measurement, policy: 0x30000n }) }).dataKey();
  const otherBuild = simulatedSevGuest(chip, { measurement: crypto.randomBytes(48), policy: 0x30000n });
  await assert.rejects(
    createSevSnpKeyProvider({ dataDir, deriveKey: otherBuild }).dataKey(),
    /sev-snp: the TEE-derived key does not unwrap .*data-key\.snp: this is not the same platform, measurement or policy/,
  );

  const policyOnly = { ...DEFAULT_SNP_REQUEST, fields: { ...DEFAULT_SNP_REQUEST.fields, measurement: false } };
  const looseDir = await tempDir();
  const a = await createSevSnpKeyProvider({ dataDir: looseDir, deriveKey: simulatedSevGuest(chip, { measurement, policy: 1n }), request: policyOnly }).dataKey();
  const b = await createSevSnpKeyProvider({ dataDir: looseDir, deriveKey: simulatedSevGuest(chip, { measurement: crypto.randomBytes(48), policy: 1n }), request: policyOnly }).dataKey();
  assert.deepEqual(a, b);
});

test('sev-snp: a firmware error status is reported', async () => {
  const failing = async () => {
    const response = Buffer.alloc(64);
    response.writeUInt32LE(0x16, 0);
    return response;
  };
  await assert.rejects(createSevSnpKeyProvider({ dataDir: await tempDir(), deriveKey: failing }).dataKey(), /firmware refused .* \(status 0x16\)/);
});

/**
 * A simulated key-release service. It reads REPORTDATA and MRTD at their TDX quote v4 offsets
 * (48-byte header, then the TD report body: MRTD at +136, REPORTDATA at +520) from a quote built on
 * the real v4 sample in test/fixtures/tee-vectors; it does not check the quote's signature (the lead's
 * attestation verifier does that), only the policy and the key binding.
 */
const sampleQuote = readVector('tdx-quote-v4.bin');
const MRTD_AT = 48 + 136;
const REPORT_DATA_AT = 48 + 520;

function quoteFor(mrtd: Buffer) {
  return async (reportData: Buffer): Promise<Buffer> => {
    const quote = Buffer.from(sampleQuote);
    mrtd.copy(quote, MRTD_AT);
    reportData.copy(quote, REPORT_DATA_AT);
    return quote;
  };
}

function keyReleaseService(dataKey: Buffer, allowedMrtd: Buffer) {
  return async ({ quote, publicKey }: { quote: Buffer; publicKey: Buffer }) => {
    if (!quote.subarray(MRTD_AT, MRTD_AT + 48).equals(allowedMrtd)) throw new Error('key release denied: MRTD not allowed');
    const reportData = quote.subarray(REPORT_DATA_AT, REPORT_DATA_AT + 64);
    if (!reportData.equals(keyReleaseReportData(publicKey))) throw new Error('key release denied: REPORTDATA does not bind this key');
    return sealToRecipient(dataKey, publicKey);
  };
}

test('tdx: the real sample quote has the v4 layout the service reads (version 4, TEE type TDX)', () => {
  assert.equal(sampleQuote.readUInt16LE(0), 4);
  assert.equal(sampleQuote.readUInt32LE(4), 0x81);
});

test('tdx: a TD with the allowed MRTD gets the data key, bound to its fresh key', async () => {
  const dataKey = crypto.randomBytes(32);
  const mrtd = crypto.randomBytes(48);
  const provider = createTdxKeyProvider({ getQuote: quoteFor(mrtd), releaseKey: keyReleaseService(dataKey, mrtd) });
  assert.deepEqual(await provider.dataKey(), dataKey);
});

test('tdx: another MRTD is denied, and a response relayed to another TD cannot be opened', async () => {
  const dataKey = crypto.randomBytes(32);
  const mrtd = crypto.randomBytes(48);
  const service = keyReleaseService(dataKey, mrtd);
  await assert.rejects(
    createTdxKeyProvider({ getQuote: quoteFor(crypto.randomBytes(48)), releaseKey: service }).dataKey(),
    /MRTD not allowed/,
  );
  // A man in the middle swaps in its own key: the quote no longer binds it.
  const attacker = crypto.generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' });
  const swapped = createTdxKeyProvider({ getQuote: quoteFor(mrtd), releaseKey: (request) => service({ ...request, publicKey: attacker }) });
  await assert.rejects(swapped.dataKey(), /REPORTDATA does not bind this key/);
  // Or it replays an answer sealed to some other TD's key: this TD cannot open it.
  const stale = sealToRecipient(dataKey, attacker);
  const replayed = createTdxKeyProvider({ getQuote: quoteFor(mrtd), releaseKey: async () => stale });
  await assert.rejects(replayed.dataKey(), /does not decrypt with this TD's key-release key/);
});
