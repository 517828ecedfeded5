import { X509Certificate } from 'node:crypto';
import { checkBinding, type EvidenceBinding } from './binding.js';
import type { DcapCollateralJson } from './dcap-collateral.js';
import { verifyDcapQuote, type SgxAttestation, type TdxAttestation } from './dcap.js';
import { check } from './errors.js';
import { verifyNitroDocument, type NitroAttestation } from './nitro.js';
import { verifySevSnpReport, type SevSnpAttestation } from './sev-snp.js';
import { decodeSevSnpEvidence } from './sev-snp-evidence.js';

/** Evidence formats a verifier understands; "simulated" is the Nitro format under a simulated root. */
export type DocumentFormat = 'nitro' | 'simulated' | 'sev-snp' | 'tdx' | 'sgx';
export const DOCUMENT_FORMATS: readonly DocumentFormat[] = ['nitro', 'simulated', 'sev-snp', 'tdx', 'sgx'];

export type VerifiedEvidence = NitroAttestation | SevSnpAttestation | SgxAttestation | TdxAttestation;

export interface EvidenceVerifyOptions {
  readonly at?: Date;
  readonly allowSimulated?: boolean;
  /** Root of the simulated provider; required for "simulated" documents. */
  readonly simulatedRoot?: X509Certificate;
  /** Intel collateral; required for "tdx" and "sgx". */
  readonly collateral?: DcapCollateralJson;
  /** VCEK for SEV-SNP reports that do not carry one. */
  readonly vcek?: Buffer;
}

/** Verifies evidence of any supported format with the pinned vendor roots. */
export function verifyEvidence(format: DocumentFormat, evidence: Buffer, options: EvidenceVerifyOptions = {}): VerifiedEvidence {
  const at = options.at ?? new Date();
  switch (format) {
    case 'nitro':
      return verifyNitroDocument(evidence, { at });
    case 'simulated':
      check(options.allowSimulated, 'simulated evidence is refused unless allowSimulated (--allow-simulated) is set');
      check(options.simulatedRoot, 'simulated evidence needs the simulated root certificate (--ca-file)');
      return verifyNitroDocument(evidence, { at, root: options.simulatedRoot, allowSimulated: true });
    case 'sev-snp': {
      const { report, vcek } = decodeSevSnpEvidence(evidence);
      const chosen = options.vcek ?? vcek;
      check(chosen, 'sev-snp: no VCEK: the evidence carries none; supply one (--vcek) from AMD KDS');
      return verifySevSnpReport(report, { vcek: chosen, at });
    }
    case 'tdx':
    case 'sgx': {
      check(options.collateral, `${format}: verification needs Intel collateral (--collateral)`);
      const result = verifyDcapQuote(evidence, { collateral: options.collateral, at });
      check(result.format === format, `${format}: the quote is a ${result.format} quote`);
      return result;
    }
  }
}

/** The 64 bytes of report data the TEE signed (for Nitro, user_data). */
export function reportDataOf(result: VerifiedEvidence): Buffer | undefined {
  return result.format === 'nitro' ? result.userData : result.reportData;
}

/**
 * Checks that evidence vouches for this TLS key and nonce. Nitro also repeats both in its
 * public_key and nonce fields; when present they must agree too.
 */
export function checkEvidenceBinding(result: VerifiedEvidence, binding: EvidenceBinding): void {
  checkBinding(reportDataOf(result), binding);
  if (result.format !== 'nitro') return;
  check(!result.publicKey || result.publicKey.equals(binding.publicKeySpkiDer), 'binding: Nitro public_key differs from the presented public key');
  check(!result.nonce || (binding.nonce !== undefined && result.nonce.equals(binding.nonce)), 'binding: Nitro nonce differs from the nonce sent');
}
