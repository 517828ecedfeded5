import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyDcapQuote } from '../../src/tee/dcap.js';
import { verifyNitroDocument } from '../../src/tee/nitro.js';
import { PolicyError, checkPolicy, parsePolicy } from '../../src/tee/policy.js';
import { verifySevSnpReport } from '../../src/tee/sev-snp.js';
import { NITRO_DEBUG, NITRO_PROD, SEV_SNP, SGX, TDX, readBase64Vector, readCollateral, readVector } from './vectors.js';

const nitroProd = verifyNitroDocument(readBase64Vector(NITRO_PROD.file), { at: NITRO_PROD.at });
const nitroDebug = verifyNitroDocument(readBase64Vector(NITRO_DEBUG.file), { at: NITRO_DEBUG.at });
const sevSnp = verifySevSnpReport(readVector(SEV_SNP.report), { vcek: readVector(SEV_SNP.vcek), at: SEV_SNP.at });
const sgx = verifyDcapQuote(readVector(SGX.quote), { collateral: readCollateral(SGX.collateral), at: SGX.at });
const tdx = verifyDcapQuote(readVector(TDX.quote), { collateral: readCollateral(TDX.collateral), at: TDX.at });
const hex = (buffer: Buffer | undefined): string => buffer!.toString('hex');

describe('attestation policy', () => {
  it('accepts the production Nitro document when its PCRs match', () => {
    const policy = parsePolicy(`format: nitro\npcrs:\n  0: "${hex(nitroProd.pcrs.get(0))}"\n  1: "${hex(nitroProd.pcrs.get(1))}"\n  2: "${hex(nitroProd.pcrs.get(2))}"\n`);
    assert.deepEqual(checkPolicy(nitroProd, policy), []);
  });

  it('rejects a PCR mismatch naming the register', () => {
    const policy = parsePolicy(`format: nitro\npcrs: {0: "${'ab'.repeat(48)}"}\n`);
    const failures = checkPolicy(nitroProd, policy);
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /^PCR0: expected abab/);
  });

  it('rejects debug mode unless allowDebug', () => {
    assert.deepEqual(checkPolicy(nitroDebug, parsePolicy('format: nitro\n')), ['debug: the TEE runs in debug mode, which the policy does not allow']);
    assert.deepEqual(checkPolicy(nitroDebug, parsePolicy('format: nitro\nallowDebug: true\n')), []);
    assert.match(checkPolicy(sevSnp, parsePolicy(`format: sev-snp\nmeasurement: "${hex(sevSnp.measurement)}"\n`)).join(), /debug mode/);
  });

  it('checks SEV-SNP measurement', () => {
    const matching = parsePolicy(`format: sev-snp\nallowDebug: true\nmeasurement: "${hex(sevSnp.measurement)}"\n`);
    assert.deepEqual(checkPolicy(sevSnp, matching), []);
    const other = parsePolicy(`format: sev-snp\nallowDebug: true\nmeasurement: "${'00'.repeat(48)}"\n`);
    assert.match(checkPolicy(sevSnp, other).join(), /^measurement: expected 0000/);
  });

  it('checks the Intel TCB status: UpToDate by default, minTcbStatus and allowedTcbStatuses', () => {
    const mrenclave = hex(sgx.format === 'sgx' ? sgx.mrEnclave : undefined);
    assert.match(checkPolicy(sgx, parsePolicy(`format: sgx\nmrenclave: "${mrenclave}"\n`)).join(), /tcbStatus: ConfigurationAndSWHardeningNeeded is not allowed.*INTEL-SA-00289/);
    assert.deepEqual(checkPolicy(sgx, parsePolicy(`format: sgx\nmrenclave: "${mrenclave}"\nminTcbStatus: ConfigurationAndSWHardeningNeeded\n`)), []);
    assert.deepEqual(checkPolicy(sgx, parsePolicy('format: sgx\nallowedTcbStatuses: [SWHardeningNeeded]\n')).length, 1);
    assert.deepEqual(checkPolicy(tdx, parsePolicy('format: tdx\n')), []);
  });

  it('checks TDX MRTD and RTMRs', () => {
    if (tdx.format !== 'tdx') assert.fail('expected a TDX result');
    const policy = parsePolicy(`format: tdx\nmrtd: "${hex(tdx.mrTd)}"\nrtmr:\n  0: "${hex(tdx.rtmrs[0])}"\n  3: "${'11'.repeat(48)}"\n`);
    assert.deepEqual(checkPolicy(tdx, policy).map((failure) => failure.split(':')[0]), ['rtmr3']);
  });

  it('rejects a format mismatch', () => {
    assert.match(checkPolicy(sgx, parsePolicy('format: tdx\n')).join(), /format: policy requires tdx, evidence is sgx/);
  });

  it('refuses malformed policies with specific messages', () => {
    const cases: [string, RegExp][] = [
      ['format: tpm\n', /format must be one of/],
      ['format: nitro\nmeasurement: "00"\n', /measurement does not apply to format nitro/],
      ['pcrs: {0: "zz"}\n', /pcrs\[0\] must be 32 or 48 or 64 bytes of hex/],
      ['pcrs: {40: "' + '00'.repeat(48) + '"}\n', /index 40 is out of range/],
      [`pcrs: {0: ${'0'.repeat(96)}}\n`, /read as a number; quote the hex digest/],
      ['allowDebug: yes please\n', /allowDebug must be true or false/],
      ['minTcbStatus: Great\n', /minTcbStatus Great is not one of/],
      ['colour: blue\n', /unknown key "colour"/],
      ['- a\n- b\n', /must be a YAML mapping/],
      ['a: [\n', /not valid YAML/],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => parsePolicy(text), (error: unknown) => error instanceof PolicyError && message.test(error.message), text);
    }
  });
});
