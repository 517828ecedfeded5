import { X509Certificate, verify as verifySignature } from 'node:crypto';
import { DER_TAG, derChildren, derOid, derTime, readDer, type DerNode } from './der.js';
import { check } from './errors.js';

/** The parts of an X.509 CRL (RFC 5280 §5) a verifier needs. */
export interface CertificateRevocationList {
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** Revoked serial numbers as upper-case hex without leading zeros. */
  readonly revokedSerials: ReadonlySet<string>;
  readonly hash: 'sha256' | 'sha384';
  readonly tbs: Buffer;
  readonly signature: Buffer;
}

const ECDSA_HASHES: Record<string, 'sha256' | 'sha384'> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
};

function normalizeSerial(hex: string): string {
  return hex.toUpperCase().replace(/^0+(?=.)/, '');
}

export function parseCrl(der: Buffer, what: string): CertificateRevocationList {
  const [tbsNode, algorithmNode, signatureNode] = derChildren(readDer(der, what), what);
  check(tbsNode && algorithmNode && signatureNode?.tag === DER_TAG.bitString, `${what}: not a CertificateList`);
  const [algorithmOid] = derChildren(algorithmNode, `${what} signatureAlgorithm`);
  check(algorithmOid, `${what}: empty signatureAlgorithm`);
  const algorithm = derOid(algorithmOid, `${what} signatureAlgorithm`);
  const hash = ECDSA_HASHES[algorithm];
  check(hash, `${what}: unsupported signature algorithm ${algorithm} (need ECDSA with SHA-256/384)`);
  const fields = derChildren(tbsNode, `${what} tbsCertList`);
  // tbsCertList: [version INTEGER], signature AlgorithmIdentifier, issuer Name, thisUpdate, [nextUpdate], [revoked], [0] extensions
  let index = fields[0]?.tag === DER_TAG.integer ? 3 : 2;
  check(fields[index], `${what}: tbsCertList lacks thisUpdate`);
  const thisUpdate = derTime(fields[index++]!, `${what} thisUpdate`);
  const isTime = (node: DerNode | undefined): boolean => node?.tag === DER_TAG.utcTime || node?.tag === DER_TAG.generalizedTime;
  const nextUpdate = isTime(fields[index]) ? derTime(fields[index++]!, `${what} nextUpdate`) : undefined;
  const revokedSerials = new Set<string>();
  if (fields[index]?.tag === DER_TAG.sequence) {
    for (const entry of derChildren(fields[index]!, `${what} revokedCertificates`)) {
      const serial = derChildren(entry, `${what} revoked entry`)[0];
      check(serial?.tag === DER_TAG.integer, `${what}: revoked entry without serial number`);
      revokedSerials.add(normalizeSerial(serial.contents.toString('hex')));
    }
  }
  // BIT STRING contents start with the count of unused bits, always 0 for signatures.
  return { thisUpdate, ...(nextUpdate && { nextUpdate }), revokedSerials, hash, tbs: tbsNode.raw, signature: signatureNode.contents.subarray(1) };
}

/** Checks a CRL's signature by its issuer and that it is current at the given time. */
export function checkCrl(crl: CertificateRevocationList, issuer: X509Certificate, at: Date, what: string): void {
  check(verifySignature(crl.hash, crl.tbs, issuer.publicKey, crl.signature), `${what}: signature does not verify with its issuer's key`);
  check(at >= crl.thisUpdate, `${what}: not yet valid at ${at.toISOString()} (thisUpdate ${crl.thisUpdate.toISOString()})`);
  check(!crl.nextUpdate || at <= crl.nextUpdate, `${what}: expired at ${at.toISOString()} (nextUpdate ${crl.nextUpdate?.toISOString()})`);
}

export function checkNotRevoked(certificate: X509Certificate, crl: CertificateRevocationList, what: string): void {
  check(!crl.revokedSerials.has(normalizeSerial(certificate.serialNumber)), `${what}: certificate serial ${certificate.serialNumber} is revoked`);
}
