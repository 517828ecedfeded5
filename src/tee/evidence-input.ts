import { decodeCbor, isBytes } from './cbor.js';
import { check } from './errors.js';
import { isSimulatedCertificate, parseCoseSign1 } from './nitro.js';
import { parseCertificate } from './x509-chain.js';
import type { DocumentFormat } from './verify-evidence.js';

/** Evidence files come raw, base64 or hex (as copied from logs and JSON); this undoes the encoding. */
export function decodeEvidenceFile(contents: Buffer): Buffer {
  const isText = contents.every((byte) => (byte >= 0x20 && byte < 0x7f) || byte === 0x09 || byte === 0x0a || byte === 0x0d);
  if (!isText) return contents;
  const text = contents.toString('latin1').replace(/\s+/g, '');
  if (/^([0-9a-fA-F]{2})+$/.test(text)) return Buffer.from(text, 'hex');
  // Node's base64 decoder also takes the URL-safe alphabet.
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return Buffer.from(text, 'base64');
  return contents;
}

/** Guesses the evidence format from its first bytes, so the CLI needs --format only when it is ambiguous. */
export function detectEvidenceFormat(evidence: Buffer): DocumentFormat {
  check(evidence.length >= 8, 'evidence is too short to recognise');
  const first = evidence[0]!;
  // COSE_Sign1: an array of 4 (0x84), optionally behind tag 18 (0xd2).
  if (first === 0x84 || (first === 0xd2 && evidence[1] === 0x84)) return isSimulatedDocument(evidence) ? 'simulated' : 'nitro';
  // The SEV-SNP CBOR envelope is a map.
  if (first >= 0xa1 && first <= 0xbf) return 'sev-snp';
  const quoteVersion = evidence.readUInt16LE(0);
  const attestationKeyType = evidence.readUInt16LE(2);
  if ((quoteVersion === 3 || quoteVersion === 4) && attestationKeyType === 2) {
    return quoteVersion === 4 && evidence.readUInt32LE(4) === 0x81 ? 'tdx' : 'sgx';
  }
  const reportVersion = evidence.readUInt32LE(0);
  if (reportVersion >= 2 && reportVersion <= 5 && evidence.length >= 0x4a0) return 'sev-snp';
  throw new Error('cannot tell the evidence format from its bytes; pass --format');
}

function isSimulatedDocument(document: Buffer): boolean {
  const payload = decodeCbor(parseCoseSign1(document).payload, 'nitro: attestation document');
  const cabundle = payload instanceof Map ? payload.get('cabundle') : undefined;
  const root: unknown = Array.isArray(cabundle) ? cabundle[0] : undefined;
  return isBytes(root) && isSimulatedCertificate(parseCertificate(Buffer.from(root), 'nitro: cabundle[0]'));
}
