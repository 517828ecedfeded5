import { X509Certificate } from 'node:crypto';
import * as peculiar from '@peculiar/x509';
import { VerificationError } from './errors.js';

/**
 * Every extension's raw extnValue keyed by OID. Node's X509Certificate does not expose
 * extensions, so the certificate is parsed a second time with @peculiar/x509.
 */
export function certificateExtensions(certificate: X509Certificate, what: string): Map<string, Buffer> {
  try {
    const parsed = new peculiar.X509Certificate(certificate.raw);
    return new Map(parsed.extensions.map((extension) => [extension.type, Buffer.from(extension.value)]));
  } catch (error) {
    throw new VerificationError(`${what}: cannot read certificate extensions (${(error as Error).message})`);
  }
}
