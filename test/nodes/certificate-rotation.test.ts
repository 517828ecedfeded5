/**
 * When a node renews its client certificate: upstream's 70–90 % jitter of the lifetime, never
 * sooner than halfway through what is left on arrival (a short, backdated certificate would
 * otherwise be due at once, forever); a renewal applies the new certificate; a failure retries.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { createCa, createCertificateRequest, signCertificateRequest, type KeyAndCert } from '../../src/auth/pki.js';
import { ClientCertificateRotation, rotationDeadline } from '../../src/nodes/certificate-rotation.js';

async function certificate(ca: KeyAndCert, lifetimeMs: number): Promise<KeyAndCert> {
  const { keyPem, requestPem } = await createCertificateRequest({ commonName: 'system:node:n', organizations: ['system:nodes'] });
  return { keyPem, certPem: await signCertificateRequest(ca, requestPem, { usages: ['digital signature', 'client auth'], notAfter: new Date(Date.now() + lifetimeMs) }) };
}

describe('kubelet client certificate rotation', () => {
  it('renews between 70 % and 90 % of a long certificate\'s lifetime', async () => {
    const ca = await createCa('test');
    const { certPem } = await certificate(ca, 30 * 24 * 3600_000);
    const parsed = new X509Certificate(certPem);
    const notBefore = Date.parse(parsed.validFrom);
    const lifetime = Date.parse(parsed.validTo) - notBefore;
    assert.equal(rotationDeadline(certPem, () => 0), notBefore + 0.7 * lifetime);
    assert.equal(rotationDeadline(certPem, () => 1), notBefore + 0.9 * lifetime);
  });

  it('a short certificate, backdated by the signer, is renewed halfway through what is left, not at once', async () => {
    const ca = await createCa('test');
    const now = Date.now();
    const { certPem } = await certificate(ca, 30_000);
    const notAfter = Date.parse(new X509Certificate(certPem).validTo);
    assert.equal(rotationDeadline(certPem, () => 1, now), now + (notAfter - now) / 2);
  });

  it('applies the renewed certificate when due, and retries a failed renewal', async () => {
    const ca = await createCa('test');
    const current = await certificate(ca, 2_000);
    const next = await certificate(ca, 3_600_000);
    const applied: string[] = [];
    const errors: string[] = [];
    let attempts = 0;
    const done = new Promise<void>((resolve) => {
      const rotation = new ClientCertificateRotation(current, {
        async renew() {
          attempts++;
          if (attempts === 1) throw new Error('signer busy');
          return next;
        },
        apply(certificate) {
          applied.push(certificate.certPem);
          rotation.stop();
          resolve();
        },
        onError: (error) => errors.push(error.message),
      });
    });
    // The rotation's timers do not hold the process open (a node process has its own reasons to live).
    const keepAlive = setInterval(() => {}, 1_000);
    await done;
    clearInterval(keepAlive);
    assert.deepEqual(errors, ['signer busy']);
    assert.deepEqual(applied, [next.certPem]);
    assert.equal(attempts, 2);
  });
});
