import { X509Certificate } from 'node:crypto';
import { DER_TAG, derChildren, derInteger, derOid, readDer } from './der.js';
import { check } from './errors.js';
import { certificateExtensions } from './x509-extensions.js';

// Intel's SGX extension of PCK certificates ("SGX PCK Certificate and CRL Profile").
const SGX_EXTENSIONS_OID = '1.2.840.113741.1.13.1';
const TCB_OID = `${SGX_EXTENSIONS_OID}.2`;
const PCESVN_OID = `${TCB_OID}.17`;
const PCE_ID_OID = `${SGX_EXTENSIONS_OID}.3`;
const FMSPC_OID = `${SGX_EXTENSIONS_OID}.4`;
const TCB_COMPONENT_COUNT = 16;

/** The platform TCB the PCK certificate was issued for. */
export interface PckPlatform {
  /** SGX TCB component SVNs 1..16 (the CPUSVN, component-wise). */
  readonly tcbComponents: readonly number[];
  readonly pceSvn: number;
  /** Upper-case hex, as in TCB info. */
  readonly fmspc: string;
  readonly pceId: string;
}

export function readPckPlatform(pck: X509Certificate): PckPlatform {
  const value = certificateExtensions(pck, 'dcap: PCK certificate').get(SGX_EXTENSIONS_OID);
  check(value, `dcap: PCK certificate lacks the SGX extension ${SGX_EXTENSIONS_OID}`);
  const entries = new Map(
    derChildren(readDer(value, 'dcap: PCK SGX extension'), 'dcap: PCK SGX extension').map((entry) => {
      const [oid, item] = derChildren(entry, 'dcap: PCK SGX extension entry');
      check(oid && item, 'dcap: PCK SGX extension entry must be (OID, value)');
      return [derOid(oid, 'dcap: PCK SGX extension OID'), item] as const;
    }),
  );
  const tcb = entries.get(TCB_OID);
  check(tcb, 'dcap: PCK SGX extension lacks the TCB entry');
  const tcbValues = new Map(
    derChildren(tcb, 'dcap: PCK TCB').map((entry) => {
      const [oid, item] = derChildren(entry, 'dcap: PCK TCB entry');
      check(oid && item, 'dcap: PCK TCB entry must be (OID, value)');
      return [derOid(oid, 'dcap: PCK TCB OID'), item] as const;
    }),
  );
  const svn = (oid: string): number => {
    const node = tcbValues.get(oid);
    check(node, `dcap: PCK TCB lacks ${oid}`);
    return derInteger(node, `dcap: PCK TCB ${oid}`);
  };
  const octets = (oid: string, length: number, name: string): string => {
    const node = entries.get(oid);
    check(node?.tag === DER_TAG.octetString && node.contents.length === length, `dcap: PCK SGX extension ${name} must be ${length} bytes`);
    return node.contents.toString('hex').toUpperCase();
  };
  return {
    tcbComponents: Array.from({ length: TCB_COMPONENT_COUNT }, (_, index) => svn(`${TCB_OID}.${index + 1}`)),
    pceSvn: svn(PCESVN_OID),
    fmspc: octets(FMSPC_OID, 6, 'FMSPC'),
    pceId: octets(PCE_ID_OID, 2, 'PCE-ID'),
  };
}
