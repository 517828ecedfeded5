import { X509Certificate, verify as verifySignature } from 'node:crypto';
import { parseCrl, type CertificateRevocationList } from './crl.js';
import { VerificationError, check } from './errors.js';
import { parsePemChain, verifyChainToRoot } from './x509-chain.js';

/**
 * Verification collateral for an Intel DCAP quote, in the JSON shape of dcap-qvl's
 * QuoteCollateralV3 (what Intel PCS / a PCCS serve, gathered in one object).
 */
export interface DcapCollateralJson {
  readonly tcb_info_issuer_chain: string;
  readonly tcb_info: string;
  readonly tcb_info_signature: string;
  readonly qe_identity_issuer_chain: string;
  readonly qe_identity: string;
  readonly qe_identity_signature: string;
  readonly pck_crl_issuer_chain: string;
  readonly root_ca_crl: string;
  readonly pck_crl: string;
}

export type TcbStatus =
  | 'UpToDate'
  | 'SWHardeningNeeded'
  | 'ConfigurationNeeded'
  | 'ConfigurationAndSWHardeningNeeded'
  | 'OutOfDate'
  | 'OutOfDateConfigurationNeeded'
  | 'Revoked';

export interface TcbLevel {
  readonly tcb: {
    readonly sgxtcbcomponents: readonly { readonly svn: number }[];
    readonly pcesvn: number;
    readonly tdxtcbcomponents?: readonly { readonly svn: number }[];
  };
  readonly tcbStatus: TcbStatus;
  readonly advisoryIDs?: readonly string[];
}

export interface IdentityTcbLevel {
  readonly tcb: { readonly isvsvn: number };
  readonly tcbStatus: TcbStatus;
  readonly advisoryIDs?: readonly string[];
}

export interface TdxModuleIdentity {
  readonly id: string;
  readonly mrsigner: string;
  readonly attributes: string;
  readonly attributesMask: string;
  readonly tcbLevels: readonly IdentityTcbLevel[];
}

export interface TcbInfo {
  readonly id: 'SGX' | 'TDX';
  readonly version: number;
  readonly issueDate: string;
  readonly nextUpdate: string;
  readonly fmspc: string;
  readonly pceId: string;
  readonly tcbLevels: readonly TcbLevel[];
  readonly tdxModule?: { readonly mrsigner: string; readonly attributes: string; readonly attributesMask: string };
  readonly tdxModuleIdentities?: readonly TdxModuleIdentity[];
}

export interface QeIdentity {
  readonly id: 'QE' | 'TD_QE';
  readonly version: number;
  readonly issueDate: string;
  readonly nextUpdate: string;
  readonly miscselect: string;
  readonly miscselectMask: string;
  readonly attributes: string;
  readonly attributesMask: string;
  readonly mrsigner: string;
  readonly isvprodid: number;
  readonly tcbLevels: readonly IdentityTcbLevel[];
}

/** Collateral whose signatures, chains and validity windows have all been checked. */
export interface VerifiedCollateral {
  readonly tcbInfo: TcbInfo;
  readonly qeIdentity: QeIdentity;
  /** The CA that issues PCK certificates (Processor or Platform CA), as named by the CRL chain. */
  readonly pckCrlIssuer: X509Certificate;
  readonly pckCrl: CertificateRevocationList;
  readonly rootCrl: CertificateRevocationList;
  /** Certificates that must not appear in the root CA's CRL. */
  readonly intermediates: readonly X509Certificate[];
}

const COLLATERAL_FIELDS: readonly (keyof DcapCollateralJson)[] = [
  'tcb_info_issuer_chain', 'tcb_info', 'tcb_info_signature', 'qe_identity_issuer_chain', 'qe_identity',
  'qe_identity_signature', 'pck_crl_issuer_chain', 'root_ca_crl', 'pck_crl',
];

export function parseCollateralJson(text: string): DcapCollateralJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new VerificationError(`dcap collateral: not valid JSON (${(error as Error).message})`);
  }
  check(typeof value === 'object' && value !== null, 'dcap collateral: must be a JSON object');
  for (const field of COLLATERAL_FIELDS) {
    check(typeof (value as Record<string, unknown>)[field] === 'string', `dcap collateral: field ${field} must be a string`);
  }
  return value as DcapCollateralJson;
}

export function verifyCollateral(collateral: DcapCollateralJson, root: X509Certificate, at: Date): VerifiedCollateral {
  const tcbInfo = verifySignedJson<TcbInfo>(collateral.tcb_info, collateral.tcb_info_signature, collateral.tcb_info_issuer_chain, root, at, 'TCB info');
  check(tcbInfo.id === 'SGX' || tcbInfo.id === 'TDX', `dcap: TCB info id ${String(tcbInfo.id)} is not SGX or TDX`);
  check(tcbInfo.version === 3, `dcap: TCB info version ${tcbInfo.version} is not supported (need 3)`);
  check(Array.isArray(tcbInfo.tcbLevels), 'dcap: TCB info has no tcbLevels');
  check(typeof tcbInfo.fmspc === 'string' && typeof tcbInfo.pceId === 'string', 'dcap: TCB info lacks fmspc or pceId');
  check(tcbInfo.tcbLevels.every((level) => Array.isArray(level?.tcb?.sgxtcbcomponents)), 'dcap: a TCB info level lacks sgxtcbcomponents');
  const qeIdentity = verifySignedJson<QeIdentity>(collateral.qe_identity, collateral.qe_identity_signature, collateral.qe_identity_issuer_chain, root, at, 'QE identity');
  check(qeIdentity.id === 'QE' || qeIdentity.id === 'TD_QE', `dcap: QE identity id ${String(qeIdentity.id)} is not QE or TD_QE`);
  check(Array.isArray(qeIdentity.tcbLevels), 'dcap: QE identity has no tcbLevels');

  const [pckCrlIssuer, ...pckCrlRest] = parsePemChain(collateral.pck_crl_issuer_chain, 'dcap: PCK CRL issuer chain');
  verifyChainToRoot({ chain: [pckCrlIssuer!, ...pckCrlRest], root, at, what: 'dcap: PCK CRL issuer chain' });
  const tcbSigner = parsePemChain(collateral.tcb_info_issuer_chain, 'dcap: TCB info issuer chain')[0]!;
  const qeSigner = parsePemChain(collateral.qe_identity_issuer_chain, 'dcap: QE identity issuer chain')[0]!;
  return {
    tcbInfo,
    qeIdentity,
    pckCrlIssuer: pckCrlIssuer!,
    pckCrl: parseCrl(hexBytes(collateral.pck_crl, 'PCK CRL'), 'dcap: PCK CRL'),
    rootCrl: parseCrl(hexBytes(collateral.root_ca_crl, 'root CA CRL'), 'dcap: root CA CRL'),
    intermediates: [pckCrlIssuer!, tcbSigner, qeSigner],
  };
}

/**
 * TCB info and QE identity are JSON texts signed (ECDSA P-256, raw r||s) by Intel's TCB signing
 * key; the signature covers the exact text, so it is checked before the JSON is trusted.
 */
function verifySignedJson<T extends { issueDate: string; nextUpdate: string }>(
  text: string, signatureHex: string, issuerChainPem: string, root: X509Certificate, at: Date, what: string,
): T {
  const chain = parsePemChain(issuerChainPem, `dcap: ${what} issuer chain`);
  verifyChainToRoot({ chain, root, at, what: `dcap: ${what} issuer chain` });
  const signature = hexBytes(signatureHex, `${what} signature`);
  check(signature.length === 64, `dcap: ${what} signature must be 64 bytes`);
  const valid = verifySignature('sha256', Buffer.from(text, 'utf8'), { key: chain[0]!.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  check(valid, `dcap: ${what} signature does not verify with the TCB signing certificate`);
  let body: T;
  try {
    body = JSON.parse(text) as T;
  } catch (error) {
    throw new VerificationError(`dcap: ${what} is not valid JSON (${(error as Error).message})`);
  }
  const issueDate = new Date(body.issueDate);
  const nextUpdate = new Date(body.nextUpdate);
  check(!Number.isNaN(issueDate.getTime()) && !Number.isNaN(nextUpdate.getTime()), `dcap: ${what} has invalid issueDate/nextUpdate`);
  check(at >= issueDate && at <= nextUpdate, `dcap: ${what} is not current at ${at.toISOString()} (issued ${body.issueDate}, next update ${body.nextUpdate})`);
  return body;
}

function hexBytes(hex: string, what: string): Buffer {
  check(/^([0-9a-fA-F]{2})+$/.test(hex), `dcap collateral: ${what} must be hex`);
  return Buffer.from(hex, 'hex');
}
