import { createHash } from 'node:crypto';
import { check } from './errors.js';

/** Report data size shared by TDX (REPORTDATA), SEV-SNP (REPORT_DATA) and SGX. */
export const REPORT_DATA_BYTES = 64;

/** What attestation evidence vouches for: the server's TLS key and the verifier's fresh nonce. */
export interface EvidenceBinding {
  readonly publicKeySpkiDer: Buffer;
  readonly nonce?: Buffer;
}

/**
 * The 64 bytes every provider puts into its report data: SHA-256(TLS SPKI DER) || SHA-256(nonce,
 * or the empty string). One definition for providers and verifiers, so the two cannot drift.
 */
export function bindingReportData(binding: EvidenceBinding): Buffer {
  const sha256 = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();
  return Buffer.concat([sha256(binding.publicKeySpkiDer), sha256(binding.nonce ?? Buffer.alloc(0))]);
}

/** Checks report data against the expected binding, saying which half differs. */
export function checkBinding(reportData: Buffer | undefined, binding: EvidenceBinding): void {
  check(reportData && reportData.length === REPORT_DATA_BYTES, `binding: evidence carries no ${REPORT_DATA_BYTES}-byte report data`);
  const expected = bindingReportData(binding);
  check(reportData.subarray(0, 32).equals(expected.subarray(0, 32)), 'binding: evidence is bound to a different public key than the one presented (for a server: its TLS key)');
  check(reportData.subarray(32).equals(expected.subarray(32)), 'binding: evidence is bound to a different nonce than the one sent');
}
