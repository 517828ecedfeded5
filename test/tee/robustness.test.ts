import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyDcapQuote } from '../../src/tee/dcap.js';
import { VerificationError } from '../../src/tee/errors.js';
import { verifyNitroDocument } from '../../src/tee/nitro.js';
import { verifySevSnpReport } from '../../src/tee/sev-snp.js';
import { NITRO_PROD, SEV_SNP, SGX, TDX, flipByte, readBase64Vector, readCollateral, readVector } from './vectors.js';

/**
 * Corrupting any byte, or cutting the input anywhere, must end in a VerificationError (or, for
 * bytes no check covers, a successful result) — never in some other exception escaping.
 */
function assertOnlyVerificationErrors(name: string, input: Buffer, verify: (bytes: Buffer) => unknown, stride: number): void {
  const variants: [string, Buffer][] = [];
  for (let offset = 0; offset < input.length; offset += stride) {
    variants.push([`byte ${offset} flipped`, flipByte(input, offset)]);
    variants.push([`cut at ${offset}`, input.subarray(0, offset)]);
  }
  for (const [label, bytes] of variants) {
    try {
      verify(bytes);
    } catch (error) {
      assert.ok(error instanceof VerificationError, `${name}, ${label}: ${String(error)}`);
    }
  }
}

describe('verifiers on corrupted input', () => {
  it('Nitro', () => {
    assertOnlyVerificationErrors('nitro', readBase64Vector(NITRO_PROD.file), (bytes) => verifyNitroDocument(bytes, { at: NITRO_PROD.at }), 53);
  });

  it('SEV-SNP', () => {
    const vcek = readVector(SEV_SNP.vcek);
    assertOnlyVerificationErrors('sev-snp', readVector(SEV_SNP.report), (bytes) => verifySevSnpReport(bytes, { vcek, at: SEV_SNP.at }), 29);
    assertOnlyVerificationErrors('sev-snp vcek', vcek, (bytes) => verifySevSnpReport(readVector(SEV_SNP.report), { vcek: bytes, at: SEV_SNP.at }), 31);
  });

  it('DCAP SGX and TDX', () => {
    const sgxCollateral = readCollateral(SGX.collateral);
    assertOnlyVerificationErrors('sgx', readVector(SGX.quote), (bytes) => verifyDcapQuote(bytes, { collateral: sgxCollateral, at: SGX.at }), 41);
    const tdxCollateral = readCollateral(TDX.collateral);
    assertOnlyVerificationErrors('tdx', readVector(TDX.quote), (bytes) => verifyDcapQuote(bytes, { collateral: tdxCollateral, at: TDX.at }), 43);
    const crl = Buffer.from(tdxCollateral.pck_crl, 'hex');
    assertOnlyVerificationErrors('tdx pck crl', crl, (bytes) => verifyDcapQuote(readVector(TDX.quote), { collateral: { ...tdxCollateral, pck_crl: bytes.toString('hex') }, at: TDX.at }), 37);
  });
});
