import { X509Certificate, createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { attestationResponse } from '../../src/tee/attestation-endpoint.js';
import { bindingReportData } from '../../src/tee/binding.js';
import { VerificationError } from '../../src/tee/errors.js';
import { verifyNitroDocument } from '../../src/tee/nitro.js';
import { selectProvider } from '../../src/tee/provider.js';
import { createSimulatedProvider, simulatedPcrs } from '../../src/tee/simulated.js';
import { checkEvidenceBinding, verifyEvidence } from '../../src/tee/verify-evidence.js';

const tlsKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
const nonce = randomBytes(32);
const rejects = (fn: () => unknown, message: RegExp): void => assert.throws(fn, (error: unknown) => error instanceof VerificationError && message.test(error.message));
const dataDir = await mkdtemp(path.join(tmpdir(), 'nautilus-tee-'));
after(() => rm(dataDir, { recursive: true, force: true }));

describe('simulated provider (Nitro format under a local root)', () => {
  it('binds SHA-256(SPKI) || SHA-256(nonce) into 64 bytes of report data', () => {
    const data = bindingReportData({ publicKeySpkiDer: tlsKey, nonce });
    assert.deepEqual(data.subarray(0, 32), createHash('sha256').update(tlsKey).digest());
    assert.deepEqual(data.subarray(32), createHash('sha256').update(nonce).digest());
    assert.deepEqual(bindingReportData({ publicKeySpkiDer: tlsKey }).subarray(32), createHash('sha256').update('').digest());
  });

  it('issues documents the Nitro verifier accepts only with allowSimulated and the simulated root', async () => {
    const provider = await createSimulatedProvider();
    const document = await provider.evidence({ publicKeySpkiDer: tlsKey, nonce });
    const root = new X509Certificate(provider.rootPem);
    rejects(() => verifyNitroDocument(document), /comes from the simulated provider; refusing without allowSimulated/);
    rejects(() => verifyNitroDocument(document, { root }), /simulated root; refusing without allowSimulated/);
    // allowSimulated never makes the AWS root accept a simulated chain.
    rejects(() => verifyNitroDocument(document, { allowSimulated: true }), /cabundle\[0\] is not the pinned root/);
    const result = verifyNitroDocument(document, { root, allowSimulated: true });
    assert.equal(result.simulated, true);
    assert.equal(result.debug, false);
    assert.deepEqual(result.publicKey, tlsKey);
    assert.deepEqual(result.nonce, nonce);
    checkEvidenceBinding(result, { publicKeySpkiDer: tlsKey, nonce });
    rejects(() => checkEvidenceBinding(result, { publicKeySpkiDer: tlsKey, nonce: randomBytes(32) }), /different nonce/);
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    rejects(() => checkEvidenceBinding(result, { publicKeySpkiDer: otherKey, nonce }), /different public key than the one presented/);
  });

  it('reports the PCRs that simulatedPcrs computes for the running code', async () => {
    const provider = await createSimulatedProvider();
    const root = new X509Certificate(provider.rootPem);
    const result = verifyNitroDocument(await provider.evidence({ publicKeySpkiDer: tlsKey }), { root, allowSimulated: true });
    const expected = await simulatedPcrs();
    for (const index of [0, 1, 2]) assert.deepEqual(result.pcrs.get(index), expected.get(index));
    assert.equal(expected.get(0)?.length, 48);
  });

  it('keeps its root in the data directory across restarts', async () => {
    const first = await selectProvider('simulated', { dataDir });
    const second = await selectProvider('simulated', { dataDir });
    assert.ok(first && second && 'rootPem' in first && 'rootPem' in second);
    assert.equal(first.rootPem, second.rootPem);
    const root = new X509Certificate(first.rootPem as string);
    const result = verifyNitroDocument(await second.evidence({ publicKeySpkiDer: tlsKey }), { root, allowSimulated: true });
    assert.equal(result.simulated, true);
  });
});

describe('GET /attestation response', () => {
  it('returns evidence bound to the TLS key and echoed nonce', async () => {
    const provider = await createSimulatedProvider();
    const response = await attestationResponse(provider, tlsKey, nonce.toString('hex').toUpperCase());
    assert.equal(response.statusCode, 200);
    if (response.statusCode !== 200) return;
    assert.equal(response.body.apiVersion, 'nautilus.dev/v1');
    assert.equal(response.body.kind, 'AttestationDocument');
    assert.equal(response.body.format, 'simulated');
    assert.equal(response.body.nonce, nonce.toString('hex'));
    const result = verifyEvidence('simulated', Buffer.from(response.body.document, 'base64'), {
      allowSimulated: true,
      simulatedRoot: new X509Certificate(provider.rootPem),
    });
    checkEvidenceBinding(result, { publicKeySpkiDer: tlsKey, nonce });
  });

  it('refuses simulated evidence in verifyEvidence without allowSimulated', async () => {
    const provider = await createSimulatedProvider();
    const document = await provider.evidence({ publicKeySpkiDer: tlsKey });
    rejects(() => verifyEvidence('simulated', document, { simulatedRoot: new X509Certificate(provider.rootPem) }), /refused unless allowSimulated/);
    rejects(() => verifyEvidence('nitro', document), /comes from the simulated provider/);
  });

  it('answers 400 for a malformed nonce and 404 without a provider', async () => {
    const provider = await createSimulatedProvider();
    for (const bad of ['xyz', 'abc', 'ab'.repeat(65)]) {
      const response = await attestationResponse(provider, tlsKey, bad);
      assert.equal(response.statusCode, 400, bad);
    }
    const none = await attestationResponse(undefined, tlsKey, '00');
    assert.equal(none.statusCode, 404);
  });
});

describe('provider selection', () => {
  it('"none" disables attestation; "nitro" without the NSM helper explains the gap', async () => {
    assert.equal(await selectProvider('none'), undefined);
    await assert.rejects(selectProvider('nitro', { nsmHelper: '' }), /NAUTILUS_NSM_HELPER/);
  });

  it('"tdx" and "sev-snp" need configfs-tsm', async () => {
    await assert.rejects(selectProvider('tdx', { tsmRoot: path.join(dataDir, 'no-tsm') }), /configfs-tsm/);
    await assert.rejects(selectProvider('sev-snp', { tsmRoot: path.join(dataDir, 'no-tsm') }), /configfs-tsm/);
  });
});
