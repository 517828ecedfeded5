import { check } from './errors.js';

// Binary layouts from Intel's "SGX ECDSA Quote Library API" (quote v3) and "TDX DCAP Quoting
// Library API" (quote v4) specifications. All integers are little-endian.
const HEADER_BYTES = 48;
const SGX_REPORT_BYTES = 384;
const TD10_REPORT_BYTES = 584;
const ECDSA_P256_SIGNATURE_BYTES = 64;
const ECDSA_P256_PUBLIC_KEY_BYTES = 64;
const ATTESTATION_KEY_ECDSA_P256 = 2;
const CERT_DATA_PCK_CHAIN_PEM = 5;
const CERT_DATA_QE_REPORT = 6;
const TEE_TYPE = { sgx: 0x00, tdx: 0x81 } as const;
const INTEL_QE_VENDOR_ID = Buffer.from('939a7233f79c4ca9940a0db3957f0607', 'hex');

export interface QuoteHeader {
  readonly version: 3 | 4;
  readonly teeType: number;
  readonly qeSvn: number;
  readonly pceSvn: number;
  readonly qeVendorId: Buffer;
}

/** An SGX enclave REPORT body (also the layout of the Quoting Enclave's own report). */
export interface SgxReportBody {
  readonly cpuSvn: Buffer;
  readonly miscSelect: number;
  readonly attributes: Buffer;
  readonly mrEnclave: Buffer;
  readonly mrSigner: Buffer;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly reportData: Buffer;
  readonly raw: Buffer;
}

/** A TDX 1.0 TD report body (TDREPORT's TDINFO and TEE TCB parts as quoted). */
export interface TdReportBody {
  readonly teeTcbSvn: Buffer;
  readonly mrSeam: Buffer;
  readonly mrSignerSeam: Buffer;
  readonly seamAttributes: Buffer;
  readonly tdAttributes: Buffer;
  readonly xfam: Buffer;
  readonly mrTd: Buffer;
  readonly mrConfigId: Buffer;
  readonly mrOwner: Buffer;
  readonly mrOwnerConfig: Buffer;
  readonly rtmrs: readonly [Buffer, Buffer, Buffer, Buffer];
  readonly reportData: Buffer;
}

export interface DcapQuote {
  readonly header: QuoteHeader;
  readonly body: { readonly kind: 'sgx'; readonly report: SgxReportBody } | { readonly kind: 'tdx'; readonly report: TdReportBody };
  /** Header plus body: the bytes the attestation key signs. */
  readonly signedBytes: Buffer;
  readonly signature: Buffer;
  /** Raw X || Y of the P-256 attestation key. */
  readonly attestationKey: Buffer;
  readonly qeReport: SgxReportBody;
  readonly qeReportSignature: Buffer;
  readonly qeAuthData: Buffer;
  /** PEM text of PCK leaf, intermediate CA and root. */
  readonly pckChainPem: string;
}

/** A bounds-checked cursor so that truncated quotes fail with the field that was cut off. */
class Reader {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}
  take(length: number, field: string): Buffer {
    check(this.offset + length <= this.bytes.length, `dcap: quote truncated while reading ${field} (need ${length} bytes at offset ${this.offset}, have ${this.bytes.length - this.offset})`);
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }
  u16(field: string): number {
    return this.take(2, field).readUInt16LE(0);
  }
  u32(field: string): number {
    return this.take(4, field).readUInt32LE(0);
  }
  get position(): number {
    return this.offset;
  }
}

export function parseDcapQuote(quote: Buffer): DcapQuote {
  const reader = new Reader(quote);
  const header = parseHeader(reader.take(HEADER_BYTES, 'header'));
  const isTdx = header.teeType === TEE_TYPE.tdx;
  const body = isTdx
    ? { kind: 'tdx' as const, report: parseTdReport(reader.take(TD10_REPORT_BYTES, 'TD report body')) }
    : { kind: 'sgx' as const, report: parseSgxReport(reader.take(SGX_REPORT_BYTES, 'SGX report body')) };
  const signedBytes = quote.subarray(0, reader.position);
  const signatureDataLength = reader.u32('signature data length');
  const signatureData = new Reader(reader.take(signatureDataLength, 'signature data'));
  const signature = signatureData.take(ECDSA_P256_SIGNATURE_BYTES, 'quote signature');
  const attestationKey = signatureData.take(ECDSA_P256_PUBLIC_KEY_BYTES, 'attestation key');
  // Quote v4 wraps the QE report and PCK chain in a certification data item of type 6.
  const qeSection = header.version === 4 ? new Reader(certificationData(signatureData, CERT_DATA_QE_REPORT)) : signatureData;
  const qeReport = parseSgxReport(qeSection.take(SGX_REPORT_BYTES, 'QE report'));
  const qeReportSignature = qeSection.take(ECDSA_P256_SIGNATURE_BYTES, 'QE report signature');
  const qeAuthData = qeSection.take(qeSection.u16('QE auth data length'), 'QE auth data');
  const pckChainPem = certificationData(qeSection, CERT_DATA_PCK_CHAIN_PEM).toString('latin1').replace(/\0+$/, '');
  return { header, body, signedBytes, signature, attestationKey, qeReport, qeReportSignature, qeAuthData, pckChainPem };
}

function certificationData(reader: Reader, expectedType: number): Buffer {
  const type = reader.u16('certification data type');
  check(type === expectedType, `dcap: certification data type ${type}, expected ${expectedType}`);
  return reader.take(reader.u32('certification data size'), 'certification data');
}

function parseHeader(bytes: Buffer): QuoteHeader {
  const version = bytes.readUInt16LE(0);
  check(version === 3 || version === 4, `dcap: unsupported quote version ${version} (need 3 or 4)`);
  const keyType = bytes.readUInt16LE(2);
  check(keyType === ATTESTATION_KEY_ECDSA_P256, `dcap: unsupported attestation key type ${keyType} (need 2 = ECDSA-P256)`);
  // Quote v3 has no TEE type field (the bytes are reserved and zero): it is always SGX.
  const teeType = version === 3 ? TEE_TYPE.sgx : bytes.readUInt32LE(4);
  check(teeType === TEE_TYPE.sgx || teeType === TEE_TYPE.tdx, `dcap: unknown TEE type 0x${teeType.toString(16)}`);
  const qeVendorId = Buffer.from(bytes.subarray(12, 28));
  check(qeVendorId.equals(INTEL_QE_VENDOR_ID), `dcap: QE vendor ID ${qeVendorId.toString('hex')} is not Intel's`);
  return { version, teeType, qeSvn: bytes.readUInt16LE(8), pceSvn: bytes.readUInt16LE(10), qeVendorId };
}

function parseSgxReport(bytes: Buffer): SgxReportBody {
  const slice = (offset: number, length: number): Buffer => Buffer.from(bytes.subarray(offset, offset + length));
  return {
    cpuSvn: slice(0, 16),
    miscSelect: bytes.readUInt32LE(16),
    attributes: slice(48, 16),
    mrEnclave: slice(64, 32),
    mrSigner: slice(128, 32),
    isvProdId: bytes.readUInt16LE(256),
    isvSvn: bytes.readUInt16LE(258),
    reportData: slice(320, 64),
    raw: Buffer.from(bytes),
  };
}

function parseTdReport(bytes: Buffer): TdReportBody {
  const slice = (offset: number, length: number): Buffer => Buffer.from(bytes.subarray(offset, offset + length));
  return {
    teeTcbSvn: slice(0, 16),
    mrSeam: slice(16, 48),
    mrSignerSeam: slice(64, 48),
    seamAttributes: slice(112, 8),
    tdAttributes: slice(120, 8),
    xfam: slice(128, 8),
    mrTd: slice(136, 48),
    mrConfigId: slice(184, 48),
    mrOwner: slice(232, 48),
    mrOwnerConfig: slice(280, 48),
    rtmrs: [slice(328, 48), slice(376, 48), slice(424, 48), slice(472, 48)],
    reportData: slice(520, 64),
  };
}

/** SGX ATTRIBUTES.DEBUG is bit 1 of the flags (first byte). */
export const sgxDebug = (attributes: Buffer): boolean => (attributes[0]! & 0x02) !== 0;
/** TD_ATTRIBUTES.DEBUG (TUD.DEBUG) is bit 0. */
export const tdDebug = (tdAttributes: Buffer): boolean => (tdAttributes[0]! & 0x01) !== 0;
