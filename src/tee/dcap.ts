import { KeyObject, X509Certificate, createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { INTEL_SGX_ROOT_CA_PEM } from './anchors.js';
import { checkCrl, checkNotRevoked } from './crl.js';
import { verifyCollateral, type DcapCollateralJson, type TcbStatus } from './dcap-collateral.js';
import { readPckPlatform } from './dcap-pck.js';
import { parseDcapQuote, sgxDebug, tdDebug, type DcapQuote } from './dcap-quote.js';
import { convergeTcb, matchPlatformTcb, matchQeIdentity, matchTdxModule, type TcbVerdict } from './dcap-tcb.js';
import { VerificationError, check } from './errors.js';
import { parseCertificate, parsePemChain, verifyChainToRoot } from './x509-chain.js';

interface DcapTcbResult {
  readonly tcbStatus: TcbStatus;
  readonly advisoryIds: readonly string[];
  readonly fmspc: string;
}

export interface SgxAttestation extends DcapTcbResult {
  readonly format: 'sgx';
  readonly mrEnclave: Buffer;
  readonly mrSigner: Buffer;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly attributes: Buffer;
  readonly debug: boolean;
  readonly reportData: Buffer;
}

export interface TdxAttestation extends DcapTcbResult {
  readonly format: 'tdx';
  readonly mrTd: Buffer;
  readonly rtmrs: readonly [Buffer, Buffer, Buffer, Buffer];
  readonly mrConfigId: Buffer;
  readonly mrOwner: Buffer;
  readonly mrOwnerConfig: Buffer;
  readonly mrSeam: Buffer;
  readonly teeTcbSvn: Buffer;
  readonly tdAttributes: Buffer;
  readonly xfam: Buffer;
  readonly debug: boolean;
  readonly reportData: Buffer;
}

export interface DcapVerifyOptions {
  readonly collateral: DcapCollateralJson;
  /** Trust anchor; defaults to the pinned Intel SGX Root CA. */
  readonly root?: X509Certificate;
  readonly at?: Date;
}

export const intelSgxRoot = (): X509Certificate => parseCertificate(INTEL_SGX_ROOT_CA_PEM, 'Intel SGX root CA');

/**
 * Verifies an Intel DCAP ECDSA quote (v3 SGX, v4 TDX) with its collateral: quote signature by the
 * attestation key, the key's binding in the Quoting Enclave report, the QE report signature by the
 * PCK certificate, the PCK chain and CRLs to the Intel root, then the TCB status from TCB info
 * and QE identity.
 */
export function verifyDcapQuote(quoteBytes: Buffer, options: DcapVerifyOptions): SgxAttestation | TdxAttestation {
  const at = options.at ?? new Date();
  const root = options.root ?? intelSgxRoot();
  const quote = parseDcapQuote(quoteBytes);
  const collateral = verifyCollateral(options.collateral, root, at);

  const pckChain = parsePemChain(quote.pckChainPem, 'dcap: PCK certificate chain');
  verifyChainToRoot({ chain: pckChain, root, at, what: 'dcap: PCK certificate chain', names: ['PCK certificate', 'PCK CA', 'root'] });
  const [pck, pckCa] = pckChain;
  check(pck && pckCa, 'dcap: PCK certificate chain must include the PCK CA');
  check(pckCa.raw.equals(collateral.pckCrlIssuer.raw), 'dcap: the PCK CRL is issued by a different CA than the PCK certificate (wrong collateral for this quote?)');
  checkCrl(collateral.rootCrl, root, at, 'dcap: root CA CRL');
  checkCrl(collateral.pckCrl, pckCa, at, 'dcap: PCK CRL');
  checkNotRevoked(pck, collateral.pckCrl, 'dcap: PCK certificate');
  collateral.intermediates.forEach((certificate) => checkNotRevoked(certificate, collateral.rootCrl, `dcap: intermediate CA ${certificate.subject.replace(/\n/g, ', ')}`));

  verifyQeReport(quote, pck);
  verifyQuoteSignature(quote);

  const { tcbInfo, qeIdentity } = collateral;
  const platform = readPckPlatform(pck);
  const isTdx = quote.body.kind === 'tdx';
  check(tcbInfo.id === (isTdx ? 'TDX' : 'SGX'), `dcap: TCB info is for ${tcbInfo.id} but the quote is ${isTdx ? 'TDX' : 'SGX'}`);
  check(qeIdentity.id === (isTdx ? 'TD_QE' : 'QE'), `dcap: QE identity ${qeIdentity.id} does not fit a ${isTdx ? 'TDX' : 'SGX'} quote`);
  check(tcbInfo.fmspc.toUpperCase() === platform.fmspc, `dcap: TCB info is for FMSPC ${tcbInfo.fmspc} but the PCK certificate has ${platform.fmspc}`);
  check(tcbInfo.pceId.toUpperCase() === platform.pceId, `dcap: TCB info is for PCE-ID ${tcbInfo.pceId} but the PCK certificate has ${platform.pceId}`);
  const qeVerdict = matchQeIdentity(qeIdentity, quote.qeReport);

  if (quote.body.kind === 'sgx') {
    const verdict = convergeTcb(matchPlatformTcb(tcbInfo, platform), qeVerdict);
    const report = quote.body.report;
    return {
      format: 'sgx',
      mrEnclave: report.mrEnclave,
      mrSigner: report.mrSigner,
      isvProdId: report.isvProdId,
      isvSvn: report.isvSvn,
      attributes: report.attributes,
      debug: sgxDebug(report.attributes),
      reportData: report.reportData,
      ...tcbResult(verdict, platform.fmspc),
    };
  }
  const report = quote.body.report;
  const moduleVerdict = matchTdxModule(tcbInfo, report);
  let verdict = convergeTcb(matchPlatformTcb(tcbInfo, platform, report.teeTcbSvn), qeVerdict);
  if (moduleVerdict) verdict = convergeTcb(verdict, moduleVerdict);
  return {
    format: 'tdx',
    mrTd: report.mrTd,
    rtmrs: report.rtmrs,
    mrConfigId: report.mrConfigId,
    mrOwner: report.mrOwner,
    mrOwnerConfig: report.mrOwnerConfig,
    mrSeam: report.mrSeam,
    teeTcbSvn: report.teeTcbSvn,
    tdAttributes: report.tdAttributes,
    xfam: report.xfam,
    debug: tdDebug(report.tdAttributes),
    reportData: report.reportData,
    ...tcbResult(verdict, platform.fmspc),
  };
}

const tcbResult = (verdict: TcbVerdict, fmspc: string): DcapTcbResult => ({ tcbStatus: verdict.status, advisoryIds: verdict.advisoryIds, fmspc });

/** The QE vouches for the attestation key: its report (signed by the PCK key) carries the key's hash. */
function verifyQeReport(quote: DcapQuote, pck: X509Certificate): void {
  const valid = verifySignature('sha256', quote.qeReport.raw, { key: pck.publicKey, dsaEncoding: 'ieee-p1363' }, quote.qeReportSignature);
  check(valid, 'dcap: QE report signature does not verify with the PCK certificate key');
  const expected = createHash('sha256').update(quote.attestationKey).update(quote.qeAuthData).digest();
  const reportData = quote.qeReport.reportData;
  check(reportData.subarray(0, 32).equals(expected), 'dcap: QE report data is not SHA-256(attestation key || QE auth data)');
  check(reportData.subarray(32).every((byte) => byte === 0), 'dcap: QE report data must be zero after the key hash');
}

function verifyQuoteSignature(quote: DcapQuote): void {
  const valid = verifySignature('sha256', quote.signedBytes, { key: attestationPublicKey(quote.attestationKey), dsaEncoding: 'ieee-p1363' }, quote.signature);
  check(valid, 'dcap: quote signature does not verify with the attestation key');
}

function attestationPublicKey(rawXY: Buffer): KeyObject {
  try {
    const coordinate = (offset: number): string => rawXY.subarray(offset, offset + 32).toString('base64url');
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: coordinate(0), y: coordinate(32) }, format: 'jwk' });
  } catch (error) {
    throw new VerificationError(`dcap: attestation key is not a valid P-256 point (${(error as Error).message})`);
  }
}
