import { X509Certificate, verify as verifySignature } from 'node:crypto';
import { AMD_ARK_MILAN_PEM, AMD_ASK_MILAN_PEM } from './anchors.js';
import { derInteger, readDer } from './der.js';
import { check } from './errors.js';
import { certificateExtensions } from './x509-extensions.js';
import { parseCertificate, verifyChainToRoot } from './x509-chain.js';

// Layout of ATTESTATION_REPORT from AMD's SEV-SNP firmware ABI specification (table "ATTESTATION_REPORT").
const REPORT_BYTES = 0x4a0;
const OFFSET = {
  version: 0x00,
  guestSvn: 0x04,
  policy: 0x08,
  familyId: 0x10,
  imageId: 0x20,
  vmpl: 0x30,
  signatureAlgorithm: 0x34,
  currentTcb: 0x38,
  platformInfo: 0x40,
  reportData: 0x50,
  measurement: 0x90,
  hostData: 0xc0,
  idKeyDigest: 0xe0,
  authorKeyDigest: 0x110,
  reportId: 0x140,
  reportIdMa: 0x160,
  reportedTcb: 0x180,
  chipId: 0x1a0,
  committedTcb: 0x1e0,
  launchTcb: 0x1f0,
  signature: 0x2a0,
} as const;
const SIGNATURE_ALGORITHM_ECDSA_P384_SHA384 = 1;
// Each of r and s occupies 72 little-endian bytes; P-384 uses the low 48.
const SIGNATURE_COMPONENT_BYTES = 72;
const P384_SCALAR_BYTES = 48;
const POLICY_RESERVED_MUST_BE_ONE = 1n << 17n;
const POLICY_DEBUG = 1n << 19n;

// VCEK extensions (AMD "Versioned Chip Endorsement Key" spec): the TCB the key was derived for.
const VCEK_OID = {
  bootloader: '1.3.6.1.4.1.3704.1.3.1',
  tee: '1.3.6.1.4.1.3704.1.3.2',
  snp: '1.3.6.1.4.1.3704.1.3.3',
  microcode: '1.3.6.1.4.1.3704.1.3.8',
  hardwareId: '1.3.6.1.4.1.3704.1.4',
} as const;

/** A TCB_VERSION: security patch levels of each firmware component (Milan/Genoa layout). */
export interface SnpTcbVersion {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  readonly raw: bigint;
}

export interface SevSnpAttestation {
  readonly format: 'sev-snp';
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: bigint;
  readonly debug: boolean;
  readonly vmpl: number;
  readonly familyId: Buffer;
  readonly imageId: Buffer;
  readonly reportData: Buffer;
  readonly measurement: Buffer;
  readonly hostData: Buffer;
  readonly idKeyDigest: Buffer;
  readonly authorKeyDigest: Buffer;
  readonly reportId: Buffer;
  readonly chipId: Buffer;
  readonly currentTcb: SnpTcbVersion;
  readonly reportedTcb: SnpTcbVersion;
  readonly committedTcb: SnpTcbVersion;
  readonly launchTcb: SnpTcbVersion;
}

export interface SevSnpVerifyOptions {
  /** The chip's VCEK (DER or PEM), e.g. from AMD KDS or the host's certificate table. */
  readonly vcek: Buffer | string;
  /** AMD SEV Key; defaults to the pinned Milan ASK. */
  readonly ask?: X509Certificate;
  /** AMD Root Key (trust anchor); defaults to the pinned Milan ARK. */
  readonly ark?: X509Certificate;
  readonly at?: Date;
}

/** Verifies an SEV-SNP attestation report against its VCEK and the AMD chain VCEK <- ASK <- ARK. */
export function verifySevSnpReport(report: Buffer, options: SevSnpVerifyOptions): SevSnpAttestation {
  const at = options.at ?? new Date();
  const parsed = parseSevSnpReport(report);
  const vcek = parseCertificate(options.vcek, 'sev-snp: VCEK');
  const issuer = vcek.issuer.split('\n').find((part) => part.startsWith('CN=')) ?? vcek.issuer;
  check(options.ask || issuer === 'CN=SEV-Milan', `sev-snp: VCEK is issued by ${issuer}; only AMD's Milan chain is pinned (pass ask and ark for other processor families)`);
  const ask = options.ask ?? parseCertificate(AMD_ASK_MILAN_PEM, 'AMD ASK');
  const ark = options.ark ?? parseCertificate(AMD_ARK_MILAN_PEM, 'AMD ARK');
  // Node verifies RSASSA-PSS certificate signatures (AMD's ASK and ARK use PSS/SHA-384, salt 48).
  verifyChainToRoot({ chain: [vcek, ask], root: ark, at, what: 'sev-snp: AMD certificate chain', names: ['VCEK', 'ASK'] });
  verifyReportSignature(report, vcek);
  checkVcekMatchesReport(vcek, parsed);
  return parsed;
}

export function parseSevSnpReport(report: Buffer): SevSnpAttestation {
  check(report.length >= REPORT_BYTES, `sev-snp: report must be ${REPORT_BYTES} bytes, got ${report.length}`);
  const version = report.readUInt32LE(OFFSET.version);
  check(version >= 2, `sev-snp: unsupported report version ${version} (need 2 or later)`);
  const algorithm = report.readUInt32LE(OFFSET.signatureAlgorithm);
  check(algorithm === SIGNATURE_ALGORITHM_ECDSA_P384_SHA384, `sev-snp: unsupported signature algorithm ${algorithm} (need 1 = ECDSA P-384 with SHA-384)`);
  const policy = report.readBigUInt64LE(OFFSET.policy);
  check((policy & POLICY_RESERVED_MUST_BE_ONE) !== 0n, 'sev-snp: guest policy bit 17 (reserved, must be one) is zero');
  const bytes = (offset: number, length: number): Buffer => Buffer.from(report.subarray(offset, offset + length));
  return {
    format: 'sev-snp',
    version,
    guestSvn: report.readUInt32LE(OFFSET.guestSvn),
    policy,
    debug: (policy & POLICY_DEBUG) !== 0n,
    vmpl: report.readUInt32LE(OFFSET.vmpl),
    familyId: bytes(OFFSET.familyId, 16),
    imageId: bytes(OFFSET.imageId, 16),
    reportData: bytes(OFFSET.reportData, 64),
    measurement: bytes(OFFSET.measurement, 48),
    hostData: bytes(OFFSET.hostData, 32),
    idKeyDigest: bytes(OFFSET.idKeyDigest, 48),
    authorKeyDigest: bytes(OFFSET.authorKeyDigest, 48),
    reportId: bytes(OFFSET.reportId, 32),
    chipId: bytes(OFFSET.chipId, 64),
    currentTcb: tcbVersion(report.readBigUInt64LE(OFFSET.currentTcb)),
    reportedTcb: tcbVersion(report.readBigUInt64LE(OFFSET.reportedTcb)),
    committedTcb: tcbVersion(report.readBigUInt64LE(OFFSET.committedTcb)),
    launchTcb: tcbVersion(report.readBigUInt64LE(OFFSET.launchTcb)),
  };
}

function tcbVersion(raw: bigint): SnpTcbVersion {
  const byte = (index: number): number => Number((raw >> BigInt(index * 8)) & 0xffn);
  return { bootloader: byte(0), tee: byte(1), snp: byte(6), microcode: byte(7), raw };
}

function verifyReportSignature(report: Buffer, vcek: X509Certificate): void {
  const details = vcek.publicKey.asymmetricKeyDetails;
  check(vcek.publicKey.asymmetricKeyType === 'ec' && details?.namedCurve === 'secp384r1', 'sev-snp: VCEK key is not ECDSA P-384');
  const component = (offset: number): Buffer => {
    const bigEndian = Buffer.from(report.subarray(offset, offset + SIGNATURE_COMPONENT_BYTES)).reverse();
    const padding = bigEndian.subarray(0, SIGNATURE_COMPONENT_BYTES - P384_SCALAR_BYTES);
    check(padding.every((byte) => byte === 0), 'sev-snp: signature component exceeds 384 bits');
    return bigEndian.subarray(SIGNATURE_COMPONENT_BYTES - P384_SCALAR_BYTES);
  };
  const signature = Buffer.concat([component(OFFSET.signature), component(OFFSET.signature + SIGNATURE_COMPONENT_BYTES)]);
  const valid = verifySignature('sha384', report.subarray(0, OFFSET.signature), { key: vcek.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  check(valid, 'sev-snp: report signature does not verify with the VCEK');
}

/** A VCEK is derived for one chip at one TCB; it must describe exactly what the report claims. */
function checkVcekMatchesReport(vcek: X509Certificate, report: SevSnpAttestation): void {
  const extensions = certificateExtensions(vcek, 'sev-snp: VCEK');
  const spl = (name: keyof typeof VCEK_OID): number => {
    const value = extensions.get(VCEK_OID[name]);
    check(value, `sev-snp: VCEK lacks the ${name} SPL extension ${VCEK_OID[name]}`);
    return derInteger(readDer(value, `sev-snp: VCEK ${name} SPL`), `sev-snp: VCEK ${name} SPL`);
  };
  for (const name of ['bootloader', 'tee', 'snp', 'microcode'] as const) {
    check(spl(name) === report.reportedTcb[name], `sev-snp: VCEK ${name} SPL ${spl(name)} differs from the report's reported_tcb ${report.reportedTcb[name]}`);
  }
  const hardwareId = extensions.get(VCEK_OID.hardwareId);
  check(hardwareId, 'sev-snp: VCEK lacks the hardware ID extension');
  // A guest launched with MASK_CHIP_ID reports zeros; then only the signature ties it to the chip.
  const chipIdMasked = report.chipId.every((byte) => byte === 0);
  check(chipIdMasked || hardwareId.equals(report.chipId), 'sev-snp: report chip_id differs from the VCEK hardware ID');
}
