import { decodeCbor, encodeCbor, isBytes } from './cbor.js';
import { check } from './errors.js';

/**
 * SEV-SNP evidence on the wire: the report alone does not name its VCEK, so the provider ships the
 * VCEK the host offers next to it. CBOR map {"report": bstr, "vcek": bstr (DER, optional)}.
 */
export interface SevSnpEvidence {
  readonly report: Buffer;
  readonly vcek?: Buffer;
}

// GUID of the VCEK entry in the host's certificate table (GHCB spec, extended guest request),
// in its little-endian binary form.
const VCEK_GUID = Buffer.from('8d75da6364e66445adc5f4b93be8accd', 'hex');
const TABLE_ENTRY_BYTES = 24;

export function encodeSevSnpEvidence(evidence: SevSnpEvidence): Buffer {
  return encodeCbor(new Map<string, Buffer>([['report', evidence.report], ...(evidence.vcek ? [['vcek', evidence.vcek] as [string, Buffer]] : [])]));
}

/** Accepts the CBOR envelope or a bare ATTESTATION_REPORT (which starts with its version, not a CBOR map). */
export function decodeSevSnpEvidence(bytes: Buffer): SevSnpEvidence {
  const isEnvelope = bytes.length > 0 && bytes[0]! >= 0xa1 && bytes[0]! <= 0xbf;
  if (!isEnvelope) return { report: bytes };
  const map = decodeCbor(bytes, 'sev-snp evidence');
  check(map instanceof Map && isBytes(map.get('report')), 'sev-snp evidence: CBOR map must have a byte string "report"');
  const vcek = map.get('vcek');
  check(vcek === undefined || isBytes(vcek), 'sev-snp evidence: "vcek" must be a byte string');
  return { report: Buffer.from(map.get('report') as Uint8Array), ...(vcek && { vcek: Buffer.from(vcek) }) };
}

/** The VCEK from the host's certificate table (configfs-tsm auxblob), if the host put one there. */
export function vcekFromCertificateTable(table: Buffer): Buffer | undefined {
  for (let offset = 0; offset + TABLE_ENTRY_BYTES <= table.length; offset += TABLE_ENTRY_BYTES) {
    const guid = table.subarray(offset, offset + 16);
    if (guid.every((byte) => byte === 0)) return undefined;
    if (!guid.equals(VCEK_GUID)) continue;
    const start = table.readUInt32LE(offset + 16);
    const length = table.readUInt32LE(offset + 20);
    return start + length <= table.length ? Buffer.from(table.subarray(start, start + length)) : undefined;
  }
  return undefined;
}
