import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AMD_ARK_MILAN_PEM, AMD_ASK_MILAN_PEM, AWS_NITRO_ROOT_G1_PEM } from '../../src/tee/anchors.js';
import { VerificationError } from '../../src/tee/errors.js';
import { verifySevSnpReport } from '../../src/tee/sev-snp.js';
import { SEV_SNP, flipByte, readVector, vectorPath } from './vectors.js';

const report = readVector(SEV_SNP.report);
const vcek = readVector(SEV_SNP.vcek);
const rejects = (fn: () => unknown, message: RegExp): void => assert.throws(fn, (error: unknown) => error instanceof VerificationError && message.test(error.message));
const MEASUREMENT_OFFSET = 0x90;
const SIGNATURE_OFFSET = 0x2a0;

describe('SEV-SNP attestation report verifier', () => {
  it('pins the AMD Milan ARK and ASK exactly as published by AMD KDS', () => {
    const published = readFileSync(vectorPath('amd-ask-ark-milan.pem'), 'utf8');
    assert.ok(published.includes(AMD_ASK_MILAN_PEM.trim()));
    assert.ok(published.includes(AMD_ARK_MILAN_PEM.trim()));
  });

  it('verifies the real Milan report with its VCEK and the pinned AMD chain', () => {
    const result = verifySevSnpReport(report, { vcek, at: SEV_SNP.at });
    assert.equal(result.version, 2);
    assert.equal(result.reportData.subarray(0, 5).toString('hex'), '0102030405');
    assert.equal(result.measurement.length, 48);
    assert.deepEqual(result.measurement, report.subarray(MEASUREMENT_OFFSET, MEASUREMENT_OFFSET + 48));
    // The VCEK was issued for blSPL=2 teeSPL=0 snpSPL=5 ucodeSPL=68.
    assert.deepEqual(
      [result.reportedTcb.bootloader, result.reportedTcb.tee, result.reportedTcb.snp, result.reportedTcb.microcode],
      [2, 0, 5, 68],
    );
    assert.equal(result.debug, true, 'this test report was launched with the DEBUG policy bit (policy 0xb0000)');
  });

  it('rejects a flipped measurement byte', () => {
    rejects(() => verifySevSnpReport(flipByte(report, MEASUREMENT_OFFSET), { vcek, at: SEV_SNP.at }), /report signature does not verify/);
  });

  it('rejects a flipped signature byte', () => {
    rejects(() => verifySevSnpReport(flipByte(report, SIGNATURE_OFFSET), { vcek, at: SEV_SNP.at }), /report signature does not verify/);
  });

  it('rejects a VCEK that does not chain to the pinned ARK, and a wrong root', () => {
    rejects(() => verifySevSnpReport(report, { vcek: AWS_NITRO_ROOT_G1_PEM, at: SEV_SNP.at }), /VCEK is issued by CN=aws.nitro-enclaves; only AMD's Milan chain is pinned/);
    const ask = new X509Certificate(AMD_ASK_MILAN_PEM);
    rejects(() => verifySevSnpReport(report, { vcek: AWS_NITRO_ROOT_G1_PEM, ask, at: SEV_SNP.at }), /VCEK was not issued by ASK/);
    const wrongRoot = new X509Certificate(AWS_NITRO_ROOT_G1_PEM);
    rejects(() => verifySevSnpReport(report, { vcek, ark: wrongRoot, at: SEV_SNP.at }), /ASK was not issued by root/);
  });

  it('rejects a time outside the VCEK validity', () => {
    rejects(() => verifySevSnpReport(report, { vcek, at: new Date('2030-01-01T00:00:00Z') }), /VCEK: not valid at 2030/);
    rejects(() => verifySevSnpReport(report, { vcek, at: new Date('2022-01-01T00:00:00Z') }), /VCEK: not valid at 2022/);
  });

  it('rejects truncated input and malformed certificates', () => {
    rejects(() => verifySevSnpReport(report.subarray(0, 0x2a0), { vcek, at: SEV_SNP.at }), /report must be 1184 bytes, got 672/);
    rejects(() => verifySevSnpReport(report, { vcek: vcek.subarray(0, 100), at: SEV_SNP.at }), /VCEK: not a valid X.509 certificate/);
  });

  it('rejects unsupported report versions', () => {
    const unsupported = Buffer.from(report);
    unsupported.writeUInt32LE(1, 0);
    rejects(() => verifySevSnpReport(unsupported, { vcek, at: SEV_SNP.at }), /unsupported report version 1/);
  });
});
