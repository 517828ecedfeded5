import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AWS_NITRO_ROOT_G1_PEM, INTEL_SGX_ROOT_CA_PEM } from '../../src/tee/anchors.js';
import { VerificationError } from '../../src/tee/errors.js';
import { decodeCbor, encodeCbor } from '../../src/tee/cbor.js';
import { verifyNitroDocument } from '../../src/tee/nitro.js';
import { NITRO_DEBUG, NITRO_PROD, flipByte, readBase64Vector, vectorPath } from './vectors.js';

const prod = readBase64Vector(NITRO_PROD.file);
const debug = readBase64Vector(NITRO_DEBUG.file);
const rejects = (fn: () => unknown, message: RegExp): void => assert.throws(fn, (error: unknown) => error instanceof VerificationError && message.test(error.message));

describe('Nitro attestation document verifier', () => {
  it('pins the AWS Nitro Enclaves Root-G1 exactly as published', () => {
    assert.equal(AWS_NITRO_ROOT_G1_PEM.trim(), readFileSync(vectorPath('aws-nitro-root-G1.pem'), 'utf8').trim());
    const fingerprint = createHash('sha256').update(new X509Certificate(AWS_NITRO_ROOT_G1_PEM).raw).digest('hex');
    assert.equal(fingerprint, '64:1A:03:21:A3:E2:44:EF:E4:56:46:31:95:D6:06:31:7E:D7:CD:CC:3C:17:56:E0:98:93:F3:C6:8F:79:BB:5B'.replace(/:/g, '').toLowerCase());
  });

  it('verifies a production-mode document at its timestamp', () => {
    const result = verifyNitroDocument(prod, { at: NITRO_PROD.at });
    assert.equal(result.moduleId, 'i-0a22e5c5f24d22174-enc0191cceb4289903f');
    assert.equal(result.timestamp.getTime(), 1725719859545);
    assert.equal(result.debug, false);
    assert.equal(result.simulated, false);
    assert.equal(result.pcrs.get(0)?.length, 48);
    for (const field of [result.publicKey, result.userData, result.nonce]) {
      assert.deepEqual(field, Buffer.alloc(1024, 0x01));
    }
  });

  it('verifies a debug-mode document and reports debug (PCR0..2 all zero)', () => {
    const result = verifyNitroDocument(debug, { at: NITRO_DEBUG.at });
    assert.equal(result.debug, true);
    assert.equal(result.userData?.length, 91);
    assert.equal(result.nonce?.length, 256);
    assert.equal(result.publicKey, undefined);
    // user_data is a DER SPKI of a P-256 key
    assert.equal(result.userData?.subarray(0, 2).toString('hex'), '3059');
  });

  it('accepts the tagged (tag 18) COSE_Sign1 form', () => {
    const tagged = Buffer.concat([Buffer.from([0xd2]), prod]);
    assert.equal(verifyNitroDocument(tagged, { at: NITRO_PROD.at }).moduleId, 'i-0a22e5c5f24d22174-enc0191cceb4289903f');
  });

  it('rejects a flipped payload byte', () => {
    const offset = prod.indexOf(Buffer.from('i-0a22e5c5f24d22174'));
    assert.ok(offset > 0);
    rejects(() => verifyNitroDocument(flipByte(prod, offset + 5), { at: NITRO_PROD.at }), /COSE_Sign1 signature does not verify/);
  });

  it('rejects a flipped signature byte', () => {
    rejects(() => verifyNitroDocument(flipByte(prod, prod.length - 1), { at: NITRO_PROD.at }), /COSE_Sign1 signature does not verify/);
  });

  it('rejects a document under a different root', () => {
    const intelRoot = new X509Certificate(INTEL_SGX_ROOT_CA_PEM);
    rejects(() => verifyNitroDocument(prod, { at: NITRO_PROD.at, root: intelRoot }), /cabundle\[0\] is not the pinned root/);
  });

  it('rejects a time outside the certificates validity', () => {
    rejects(() => verifyNitroDocument(prod, { at: new Date('2024-09-07T18:00:00Z') }), /certificate: not valid at 2024-09-07T18:00:00.000Z/);
    rejects(() => verifyNitroDocument(debug, { at: NITRO_PROD.at }), /not valid at/);
  });

  it('rejects truncated input and non-COSE input with specific messages', () => {
    rejects(() => verifyNitroDocument(prod.subarray(0, prod.length - 10), { at: NITRO_PROD.at }), /malformed CBOR/);
    rejects(() => verifyNitroDocument(Buffer.from([0x83, 0x01, 0x02, 0x03]), { at: NITRO_PROD.at }), /array of 4 items/);
    rejects(() => verifyNitroDocument(Buffer.alloc(0), { at: NITRO_PROD.at }), /malformed CBOR/);
  });

  it('checks the document fields as AWS specifies, before any signature', () => {
    // Re-encode the real document with one field changed; the field check must fire first.
    const withPayload = (change: (payload: Map<string, unknown>) => void): Buffer => {
      const [protectedHeader, unprotected, payload, signature] = decodeCbor(prod, 'test') as [Buffer, Map<unknown, unknown>, Buffer, Buffer];
      const fields = decodeCbor(payload, 'test') as Map<string, unknown>;
      change(fields);
      return encodeCbor([protectedHeader, unprotected, encodeCbor(fields), signature]);
    };
    const cases: [(payload: Map<string, unknown>) => void, RegExp][] = [
      [(p) => p.set('digest', 'SHA256'), /digest must be "SHA384"/],
      [(p) => p.set('module_id', ''), /module_id must be a non-empty text string/],
      [(p) => p.set('timestamp', 0), /timestamp must be a positive integer/],
      [(p) => (p.get('pcrs') as Map<number, Buffer>).set(3, Buffer.alloc(20)), /PCR3 must be 32, 48 or 64 bytes/],
      [(p) => (p.get('pcrs') as Map<number, Buffer>).set(32, Buffer.alloc(48)), /PCR index 32 is out of range/],
      [(p) => p.set('cabundle', []), /cabundle must be a non-empty array/],
      [(p) => p.set('user_data', Buffer.alloc(1025)), /user_data must be 0..1024 bytes/],
      [(p) => p.set('public_key', Buffer.alloc(0)), /public_key must be 1..1024 bytes/],
      [(p) => p.set('certificate', 'not bytes'), /certificate must be 1..1024 bytes/],
    ];
    for (const [change, message] of cases) rejects(() => verifyNitroDocument(withPayload(change), { at: NITRO_PROD.at }), message);
    // A well-formed change is caught by the signature; an unchanged re-encoding still verifies,
    // so the failures above come from the checks, not from the re-encoding.
    rejects(() => verifyNitroDocument(withPayload((p) => p.set('nonce', Buffer.alloc(4))), { at: NITRO_PROD.at }), /COSE_Sign1 signature does not verify/);
    assert.equal(verifyNitroDocument(withPayload(() => undefined), { at: NITRO_PROD.at }).moduleId, 'i-0a22e5c5f24d22174-enc0191cceb4289903f');
  });
});
