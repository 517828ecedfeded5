import { X509Certificate } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AWS_NITRO_ROOT_G1_PEM, INTEL_SGX_ROOT_CA_PEM } from '../../src/tee/anchors.js';
import { parseCollateralJson } from '../../src/tee/dcap-collateral.js';
import { verifyDcapQuote } from '../../src/tee/dcap.js';
import { VerificationError } from '../../src/tee/errors.js';
import { SGX, TDX, flipByte, readCollateral, readVector } from './vectors.js';

const sgxQuote = readVector(SGX.quote);
const sgxCollateral = readCollateral(SGX.collateral);
const tdxQuote = readVector(TDX.quote);
const tdxCollateral = readCollateral(TDX.collateral);
const rejects = (fn: () => unknown, message: RegExp): void => assert.throws(fn, (error: unknown) => error instanceof VerificationError && message.test(error.message));
const HEADER_BYTES = 48;
const SGX_REPORT_DATA_OFFSET = HEADER_BYTES + 320;
const TDX_MRTD_OFFSET = HEADER_BYTES + 136;
const SIGNATURE_OFFSET_SGX = HEADER_BYTES + 384 + 4;

describe('Intel DCAP quote verifier', () => {
  it('pins the Intel SGX Root CA exactly as published', () => {
    assert.deepEqual(new X509Certificate(INTEL_SGX_ROOT_CA_PEM).raw, readVector('intel-sgx-root-ca.der'));
  });

  it('verifies the SGX v3 quote: ConfigurationAndSWHardeningNeeded with INTEL-SA-00289 and INTEL-SA-00615', () => {
    const result = verifyDcapQuote(sgxQuote, { collateral: sgxCollateral, at: SGX.at });
    assert.equal(result.format, 'sgx');
    assert.equal(result.tcbStatus, 'ConfigurationAndSWHardeningNeeded');
    assert.deepEqual([...result.advisoryIds].sort(), ['INTEL-SA-00289', 'INTEL-SA-00615']);
    assert.equal(result.fmspc, '00A067110000');
    assert.equal(result.debug, false);
    if (result.format !== 'sgx') return;
    assert.deepEqual(result.mrEnclave, sgxQuote.subarray(HEADER_BYTES + 64, HEADER_BYTES + 96));
  });

  it('verifies the TDX v4 quote: UpToDate without advisories', () => {
    const result = verifyDcapQuote(tdxQuote, { collateral: tdxCollateral, at: TDX.at });
    assert.equal(result.format, 'tdx');
    assert.equal(result.tcbStatus, 'UpToDate');
    assert.deepEqual(result.advisoryIds, []);
    assert.equal(result.fmspc, 'B0C06F000000');
    assert.equal(result.debug, false);
    if (result.format !== 'tdx') return;
    assert.deepEqual(result.mrTd, tdxQuote.subarray(TDX_MRTD_OFFSET, TDX_MRTD_OFFSET + 48));
    assert.equal(result.rtmrs.length, 4);
  });

  it('rejects a flipped report byte (quote signature)', () => {
    rejects(() => verifyDcapQuote(flipByte(sgxQuote, SGX_REPORT_DATA_OFFSET), { collateral: sgxCollateral, at: SGX.at }), /quote signature does not verify/);
    rejects(() => verifyDcapQuote(flipByte(tdxQuote, TDX_MRTD_OFFSET), { collateral: tdxCollateral, at: TDX.at }), /quote signature does not verify/);
  });

  it('rejects a flipped quote signature byte', () => {
    rejects(() => verifyDcapQuote(flipByte(sgxQuote, SIGNATURE_OFFSET_SGX), { collateral: sgxCollateral, at: SGX.at }), /quote signature does not verify/);
  });

  it('rejects a flipped attestation key byte (QE report binding)', () => {
    rejects(() => verifyDcapQuote(flipByte(sgxQuote, SIGNATURE_OFFSET_SGX + 64), { collateral: sgxCollateral, at: SGX.at }), /QE report data is not SHA-256|attestation key is not a valid P-256 point/);
  });

  it('rejects a flipped QE report byte (PCK signature)', () => {
    rejects(() => verifyDcapQuote(flipByte(sgxQuote, SIGNATURE_OFFSET_SGX + 128 + 10), { collateral: sgxCollateral, at: SGX.at }), /QE report signature does not verify/);
  });

  it('rejects a wrong root', () => {
    const root = new X509Certificate(AWS_NITRO_ROOT_G1_PEM);
    rejects(() => verifyDcapQuote(sgxQuote, { collateral: sgxCollateral, at: SGX.at, root }), /was not issued by root/);
  });

  it('rejects a time outside the collateral validity', () => {
    rejects(() => verifyDcapQuote(sgxQuote, { collateral: sgxCollateral, at: new Date('2025-08-01T00:00:00Z') }), /TCB info is not current at 2025-08-01/);
    rejects(() => verifyDcapQuote(tdxQuote, { collateral: tdxCollateral, at: new Date('2025-06-19T10:20:00Z') }), /QE identity is not current/);
  });

  it('rejects tampered collateral and collateral for another platform', () => {
    // Raising the evaluation data number would make stale TCB info look fresh.
    const tamperedTcbInfo = sgxCollateral.tcb_info.replace('"tcbEvaluationDataNumber":17', '"tcbEvaluationDataNumber":18');
    assert.notEqual(tamperedTcbInfo, sgxCollateral.tcb_info);
    const tampered = parseCollateralJson(JSON.stringify({ ...sgxCollateral, tcb_info: tamperedTcbInfo }));
    rejects(() => verifyDcapQuote(sgxQuote, { collateral: tampered, at: SGX.at }), /TCB info signature does not verify/);
    rejects(() => verifyDcapQuote(sgxQuote, { collateral: tdxCollateral, at: SGX.at }), /PCK CRL is issued by a different CA|TCB info is for TDX/);
  });

  it('rejects truncated quotes, naming the field that was cut', () => {
    rejects(() => verifyDcapQuote(sgxQuote.subarray(0, 40), { collateral: sgxCollateral, at: SGX.at }), /truncated while reading header/);
    rejects(() => verifyDcapQuote(sgxQuote.subarray(0, 1000), { collateral: sgxCollateral, at: SGX.at }), /truncated while reading signature data/);
    rejects(() => verifyDcapQuote(tdxQuote.subarray(0, 600), { collateral: tdxCollateral, at: TDX.at }), /truncated while reading TD report body/);
  });
});
