import { X509Certificate, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as peculiar from '@peculiar/x509';
import { decodeCbor, encodeCbor } from '../../src/tee/cbor.js';
import { checkCrl, checkNotRevoked, parseCrl } from '../../src/tee/crl.js';
import { VerificationError } from '../../src/tee/errors.js';
import { decodeEvidenceFile, detectEvidenceFormat } from '../../src/tee/evidence-input.js';
import { decodeNsmAttestationResponse, encodeNsmAttestationRequest } from '../../src/tee/nsm.js';
import { decodeSevSnpEvidence, encodeSevSnpEvidence, vcekFromCertificateTable } from '../../src/tee/sev-snp-evidence.js';
import { parsePemChain } from '../../src/tee/x509-chain.js';
import { NITRO_PROD, SEV_SNP, SGX, TDX, readBase64Vector, readCollateral, readVector, vectorPath } from './vectors.js';

const rejects = (fn: () => unknown, message: RegExp): void => assert.throws(fn, (error: unknown) => error instanceof VerificationError && message.test(error.message));

describe('evidence file input', () => {
  it('decodes base64, hex and raw files and recognises each vector format', () => {
    const nitro = readBase64Vector(NITRO_PROD.file);
    assert.deepEqual(decodeEvidenceFile(readFileSync(vectorPath(NITRO_PROD.file))), nitro);
    assert.deepEqual(decodeEvidenceFile(Buffer.from(`${nitro.toString('hex')}\n`)), nitro);
    assert.deepEqual(decodeEvidenceFile(readVector(SGX.quote)), readVector(SGX.quote));
    assert.equal(detectEvidenceFormat(nitro), 'nitro');
    assert.equal(detectEvidenceFormat(readVector(SGX.quote)), 'sgx');
    assert.equal(detectEvidenceFormat(readVector(TDX.quote)), 'tdx');
    assert.equal(detectEvidenceFormat(readVector(SEV_SNP.report)), 'sev-snp');
    assert.throws(() => detectEvidenceFormat(Buffer.alloc(64, 0xff)), /pass --format/);
  });
});

describe('NSM request encoding', () => {
  it('encodes the Attestation request as plain CBOR maps and decodes the answer', () => {
    const request = decodeCbor(encodeNsmAttestationRequest({ publicKey: Buffer.from([1]), nonce: Buffer.from([2]) }), 'test');
    assert.ok(request instanceof Map);
    const fields = request.get('Attestation') as Map<string, unknown>;
    assert.deepEqual([...fields.keys()].sort(), ['nonce', 'public_key', 'user_data']);
    assert.deepEqual(Buffer.from(fields.get('public_key') as Uint8Array), Buffer.from([1]));
    assert.equal(fields.get('user_data'), null);
    const document = Buffer.from([0x84, 0x40]);
    assert.deepEqual(decodeNsmAttestationResponse(encodeCbor(new Map([['Attestation', new Map([['document', document]])]]))), document);
    assert.throws(() => decodeNsmAttestationResponse(encodeCbor(new Map([['Error', 'InvalidArgument']]))), /NSM returned error InvalidArgument/);
  });
});

describe('SEV-SNP evidence envelope', () => {
  it('round-trips report and VCEK and finds the VCEK in a host certificate table', () => {
    const report = readVector(SEV_SNP.report);
    const vcek = readVector(SEV_SNP.vcek);
    assert.deepEqual(decodeSevSnpEvidence(encodeSevSnpEvidence({ report, vcek })), { report, vcek });
    assert.deepEqual(decodeSevSnpEvidence(report), { report });
    // Table: one entry (GUID, offset, length), a zero terminator, then the certificate.
    const entry = Buffer.alloc(24);
    Buffer.from('8d75da6364e66445adc5f4b93be8accd', 'hex').copy(entry);
    entry.writeUInt32LE(48, 16);
    entry.writeUInt32LE(vcek.length, 20);
    const table = Buffer.concat([entry, Buffer.alloc(24), vcek]);
    assert.deepEqual(vcekFromCertificateTable(table), vcek);
    assert.equal(vcekFromCertificateTable(Buffer.alloc(48)), undefined);
  });
});

describe('certificate revocation lists', () => {
  const collateral = readCollateral(TDX.collateral);
  const crlDer = Buffer.from(collateral.pck_crl, 'hex');
  const issuer = parsePemChain(collateral.pck_crl_issuer_chain, 'issuer chain')[0]!;

  it('reads every revoked serial of Intel\'s PCK Platform CRL (cross-checked with @peculiar/x509)', () => {
    const crl = parseCrl(crlDer, 'PCK CRL');
    const reference = new peculiar.X509Crl(crlDer);
    const referenceSerials = reference.entries.map((entry) => entry.serialNumber.toUpperCase().replace(/^0+/, ''));
    assert.equal(crl.revokedSerials.size, 44);
    assert.deepEqual([...crl.revokedSerials].sort(), referenceSerials.sort());
    assert.equal(crl.thisUpdate.toISOString(), reference.thisUpdate.toISOString());
    checkCrl(crl, issuer, TDX.at, 'PCK CRL');
    rejects(() => checkCrl(crl, issuer, new Date('2025-08-01T00:00:00Z'), 'PCK CRL'), /PCK CRL: expired/);
    rejects(() => checkCrl(crl, new X509Certificate(readVector('intel-sgx-root-ca.der')), TDX.at, 'PCK CRL'), /signature does not verify/);
  });

  it('refuses a certificate whose serial is listed', async () => {
    const crl = parseCrl(crlDer, 'PCK CRL');
    // A serial whose DER INTEGER needs no sign padding, so the generated certificate carries it verbatim.
    const revokedSerial = [...crl.revokedSerials].find((serial) => /^[1-7]/.test(serial) && serial.length % 2 === 0)!;
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
    const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
    const make = async (serialNumber: string): Promise<X509Certificate> => {
      const generated = await peculiar.X509CertificateGenerator.createSelfSigned({ serialNumber, name: 'CN=test', keys, signingAlgorithm: algorithm }, webcrypto as unknown as Crypto);
      return new X509Certificate(Buffer.from(generated.rawData));
    };
    const revoked = await make(revokedSerial);
    rejects(() => checkNotRevoked(revoked, crl, 'PCK certificate'), new RegExp(`PCK certificate: certificate serial ${revokedSerial} is revoked`, 'i'));
    checkNotRevoked(await make('0123'), crl, 'PCK certificate');
  });
});
