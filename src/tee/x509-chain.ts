import { X509Certificate } from 'node:crypto';
import { VerificationError, check } from './errors.js';

/** Parses one certificate (DER bytes or PEM text), naming it in the error when it is malformed. */
export function parseCertificate(input: Buffer | string, what: string): X509Certificate {
  try {
    return new X509Certificate(input);
  } catch (error) {
    throw new VerificationError(`${what}: not a valid X.509 certificate (${(error as Error).message})`);
  }
}

/** Every certificate of a PEM bundle, in file order. */
export function parsePemChain(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  check(blocks.length > 0, `${what}: no PEM certificate found`);
  return blocks.map((block, index) => parseCertificate(block, `${what}[${index}]`));
}

export function checkValidAt(certificate: X509Certificate, at: Date, what: string): void {
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  check(
    at >= notBefore && at <= notAfter,
    `${what}: not valid at ${at.toISOString()} (valid ${notBefore.toISOString()} .. ${notAfter.toISOString()})`,
  );
}

export interface ChainInput {
  /** Leaf first, then each issuer; the pinned root may or may not be included at the end. */
  readonly chain: readonly X509Certificate[];
  /** The pinned trust anchor. */
  readonly root: X509Certificate;
  readonly at: Date;
  /** Names the chain in error messages, e.g. "nitro certificate chain". */
  readonly what: string;
  /** Names of the chain's certificates for error messages, leaf first; defaults to chain[i]. */
  readonly names?: readonly string[];
}

/**
 * Verifies a certificate path to a pinned root: each signature, each issuer name, CA flags on
 * every issuer, and every validity window at the given time. The root is only trusted by equality
 * with the pinned certificate, never because a certificate claims to be self-signed.
 */
export function verifyChainToRoot({ chain, root, at, what, names }: ChainInput): void {
  check(chain.length > 0, `${what}: empty certificate chain`);
  const path = [...chain];
  // A presented copy of the root is dropped; any other top certificate must be issued by the root.
  if (path[path.length - 1]!.raw.equals(root.raw)) path.pop();
  const nameOf = (index: number): string => names?.[index] ?? `${what}[${index}]`;

  check(root.verify(root.publicKey), `${what}: pinned root signature does not verify`);
  checkValidAt(root, at, `${what}: root`);
  path.forEach((certificate, index) => {
    const issuer = index + 1 < path.length ? path[index + 1]! : root;
    const issuerName = index + 1 < path.length ? nameOf(index + 1) : 'root';
    check(issuer.ca, `${what}: ${issuerName} is not a CA certificate`);
    check(certificate.checkIssued(issuer), `${what}: ${nameOf(index)} was not issued by ${issuerName} (issuer name mismatch)`);
    let verified = false;
    try {
      verified = certificate.verify(issuer.publicKey);
    } catch {
      verified = false;
    }
    check(verified, `${what}: ${nameOf(index)} signature does not verify with ${issuerName}'s key`);
    checkValidAt(certificate, at, `${what}: ${nameOf(index)}`);
  });
}
