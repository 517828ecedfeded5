import type { AttestationProvider, EvidenceFormat } from './provider.js';
import type { CheckpointKeyStatement } from './checkpoint-key.js';

/** Body of GET /attestation: evidence bound to the server's TLS key and the caller's nonce. */
export interface AttestationDocumentBody {
  readonly apiVersion: 'nautilus.dev/v1';
  readonly kind: 'AttestationDocument';
  readonly format: EvidenceFormat;
  /** Base64 of the evidence (COSE_Sign1 for nitro/simulated, quote for tdx, CBOR envelope for sev-snp). */
  readonly document: string;
  /** The nonce as received (lower-case hex), empty when none was sent. */
  readonly nonce: string;
  /** The durable state's checkpoint-signing key, vouched for by the attested TLS key. */
  readonly checkpointKey?: CheckpointKeyStatement;
}

export type AttestationResponse =
  | { readonly statusCode: 200; readonly body: AttestationDocumentBody }
  | { readonly statusCode: 400 | 404; readonly reason: 'BadRequest' | 'NotFound'; readonly message: string };

/** Long enough for any fresh random challenge, short enough to fit every TEE's nonce field. */
export const MAX_NONCE_BYTES = 64;

/**
 * Answers GET /attestation?nonce=<hex>. Pure apart from asking the provider for evidence; the
 * server maps non-200 answers to a Kubernetes Status with the given reason and message.
 */
export async function attestationResponse(
  provider: AttestationProvider | undefined,
  tlsSpkiDer: Buffer,
  nonceHex?: string,
  checkpointKey?: CheckpointKeyStatement,
): Promise<AttestationResponse> {
  if (!provider) return { statusCode: 404, reason: 'NotFound', message: 'attestation is not enabled on this server (no TEE provider)' };
  const nonceText = (nonceHex ?? '').toLowerCase();
  if (!/^([0-9a-f]{2})*$/.test(nonceText) || nonceText.length / 2 > MAX_NONCE_BYTES) {
    return { statusCode: 400, reason: 'BadRequest', message: `nonce must be an even-length hex string of at most ${MAX_NONCE_BYTES} bytes` };
  }
  const nonce = nonceText ? Buffer.from(nonceText, 'hex') : undefined;
  const evidence = await provider.evidence({ publicKeySpkiDer: tlsSpkiDer, ...(nonce && { nonce }) });
  return {
    statusCode: 200,
    body: {
      apiVersion: 'nautilus.dev/v1',
      kind: 'AttestationDocument',
      format: provider.format,
      document: evidence.toString('base64'),
      nonce: nonceText,
      ...(checkpointKey && { checkpointKey }),
    },
  };
}
