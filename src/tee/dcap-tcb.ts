import { check } from './errors.js';
import type { IdentityTcbLevel, QeIdentity, TcbInfo, TcbLevel, TcbStatus } from './dcap-collateral.js';
import type { SgxReportBody, TdReportBody } from './dcap-quote.js';
import type { PckPlatform } from './dcap-pck.js';

export interface TcbVerdict {
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
}

/**
 * The platform's TCB level: the first level (TCB info lists them newest first) whose every SGX
 * component and PCESVN the platform meets; for TDX the same level must also be met by the TEE TCB
 * SVN of the TD report.
 */
export function matchPlatformTcb(tcbInfo: TcbInfo, platform: PckPlatform, teeTcbSvn?: Buffer): TcbVerdict {
  const level = tcbInfo.tcbLevels.find((candidate) => meetsSgxLevel(platform, candidate) && (!teeTcbSvn || meetsTdxLevel(teeTcbSvn, candidate)));
  check(level, `dcap: platform TCB (components ${platform.tcbComponents.join(',')}, PCESVN ${platform.pceSvn}${teeTcbSvn ? `, TEE TCB SVN ${teeTcbSvn.toString('hex')}` : ''}) matches no TCB level; the platform is not supported`);
  return { status: level.tcbStatus, advisoryIds: level.advisoryIDs ?? [] };
}

function meetsSgxLevel(platform: PckPlatform, level: TcbLevel): boolean {
  const components = level.tcb.sgxtcbcomponents;
  return components.length === platform.tcbComponents.length
    && components.every((component, index) => platform.tcbComponents[index]! >= component.svn)
    && platform.pceSvn >= level.tcb.pcesvn;
}

function meetsTdxLevel(teeTcbSvn: Buffer, level: TcbLevel): boolean {
  const components = level.tcb.tdxtcbcomponents;
  if (!components || components.length !== teeTcbSvn.length) return false;
  // With a TDX module version in byte 1, bytes 0-1 are judged by the module identity instead.
  const first = teeTcbSvn[1]! > 0 ? 2 : 0;
  return components.every((component, index) => index < first || teeTcbSvn[index]! >= component.svn);
}

/** The Quoting Enclave must be Intel's (signer, product, masked attributes) at a known ISVSVN. */
export function matchQeIdentity(identity: QeIdentity, qeReport: SgxReportBody): TcbVerdict {
  check(qeReport.mrSigner.equals(hexToBytes(identity.mrsigner)), 'dcap: QE report MRSIGNER is not the one in the QE identity');
  check(qeReport.isvProdId === identity.isvprodid, `dcap: QE ISVPRODID ${qeReport.isvProdId} differs from the QE identity's ${identity.isvprodid}`);
  const miscMask = Number.parseInt(identity.miscselectMask, 16);
  check(((qeReport.miscSelect & miscMask) >>> 0) === Number.parseInt(identity.miscselect, 16), 'dcap: QE MISCSELECT does not match the QE identity');
  check(maskedEquals(qeReport.attributes, identity.attributes, identity.attributesMask), 'dcap: QE ATTRIBUTES do not match the QE identity');
  return matchIdentityLevel(identity.tcbLevels, qeReport.isvSvn, 'QE');
}

/**
 * TDX module identity: module version (TEE TCB SVN byte 1) selects an identity "TDX_<version>"
 * whose levels are judged by the module SVN (byte 0); version 0 modules are only checked against
 * tdxModule's signer and attributes and carry no status of their own.
 */
export function matchTdxModule(tcbInfo: TcbInfo, report: TdReportBody): TcbVerdict | undefined {
  const [moduleSvn, moduleVersion] = [report.teeTcbSvn[0]!, report.teeTcbSvn[1]!];
  if (moduleVersion === 0) {
    check(tcbInfo.tdxModule, 'dcap: TDX TCB info lacks tdxModule');
    checkSeamIdentity(report, tcbInfo.tdxModule);
    return undefined;
  }
  const id = `TDX_${moduleVersion.toString(16).padStart(2, '0').toUpperCase()}`;
  const identity = tcbInfo.tdxModuleIdentities?.find((candidate) => candidate.id.toUpperCase() === id);
  check(identity, `dcap: TCB info has no identity ${id} for the TDX module`);
  checkSeamIdentity(report, identity);
  return matchIdentityLevel(identity.tcbLevels, moduleSvn, `TDX module ${id}`);
}

function checkSeamIdentity(report: TdReportBody, identity: { mrsigner: string; attributes: string; attributesMask: string }): void {
  check(report.mrSignerSeam.equals(hexToBytes(identity.mrsigner)), 'dcap: TD report MRSIGNERSEAM is not the TDX module signer in TCB info');
  check(maskedEquals(report.seamAttributes, identity.attributes, identity.attributesMask), 'dcap: TD report SEAMATTRIBUTES do not match TCB info');
}

function matchIdentityLevel(levels: readonly IdentityTcbLevel[], isvSvn: number, what: string): TcbVerdict {
  const level = levels.find((candidate) => isvSvn >= candidate.tcb.isvsvn);
  check(level, `dcap: ${what} ISVSVN ${isvSvn} matches no TCB level`);
  return { status: level.tcbStatus, advisoryIds: level.advisoryIDs ?? [] };
}

/**
 * Combines the platform verdict with an enclave/module verdict the way Intel's quote verification
 * library does: an out-of-date QE or TDX module makes the whole result out of date, keeping the
 * "configuration needed" part of the platform status; revocation always wins.
 */
export function convergeTcb(platform: TcbVerdict, component: TcbVerdict): TcbVerdict {
  const advisoryIds = [...new Set([...platform.advisoryIds, ...component.advisoryIds])];
  if (component.status === 'Revoked') return { status: 'Revoked', advisoryIds };
  if (component.status === 'OutOfDate') {
    const status: TcbStatus =
      platform.status === 'UpToDate' || platform.status === 'SWHardeningNeeded' ? 'OutOfDate'
      : platform.status === 'ConfigurationNeeded' || platform.status === 'ConfigurationAndSWHardeningNeeded' ? 'OutOfDateConfigurationNeeded'
      : platform.status;
    return { status, advisoryIds };
  }
  return { status: platform.status, advisoryIds };
}

function maskedEquals(actual: Buffer, expectedHex: string, maskHex: string): boolean {
  const expected = hexToBytes(expectedHex);
  const mask = hexToBytes(maskHex);
  return expected.length === actual.length && mask.length === actual.length
    && actual.every((byte, index) => (byte & mask[index]!) === expected[index]);
}

function hexToBytes(hex: string): Buffer {
  check(/^([0-9a-fA-F]{2})*$/.test(hex), `dcap: collateral value ${hex} is not hex`);
  return Buffer.from(hex, 'hex');
}
