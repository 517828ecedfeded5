import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCollateralJson, type DcapCollateralJson } from '../../src/tee/dcap-collateral.js';

/** Real attestation evidence from test/fixtures/tee-vectors (see its README.txt for provenance and times). */
export const VECTORS_DIR = fileURLToPath(new URL('../../../test/fixtures/tee-vectors/', import.meta.url));
export const vectorPath = (name: string): string => path.join(VECTORS_DIR, name);
export const readVector = (name: string): Buffer => readFileSync(vectorPath(name));
export const readBase64Vector = (name: string): Buffer => Buffer.from(readFileSync(vectorPath(name), 'utf8').trim(), 'base64');
export const readCollateral = (name: string): DcapCollateralJson => parseCollateralJson(readFileSync(vectorPath(name), 'utf8'));

export const NITRO_PROD = { file: 'nitro-blocky-prod.cose.b64', at: new Date('2024-09-07T14:37:39.545Z') };
export const NITRO_DEBUG = { file: 'nitro-evervault-ga-debug.cose.b64', at: new Date('2023-09-18T15:03:30.860Z') };
export const SEV_SNP = { report: 'sev-snp-report-v2-milan.bin', vcek: 'sev-snp-vcek-milan.der', at: new Date('2024-06-01T00:00:00Z') };
export const SGX = { quote: 'sgx-dcap-quote-v3.bin', collateral: 'sgx-dcap-quote-v3.collateral.json', at: new Date('2025-07-01T00:00:00Z') };
export const TDX = { quote: 'tdx-quote-v4.bin', collateral: 'tdx-quote-v4.collateral.json', at: new Date('2025-07-01T00:00:00Z') };

/** A copy with one byte XOR-ed, to prove a signature covers that byte. */
export function flipByte(bytes: Buffer, offset: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset]! ^= 0x01;
  return copy;
}
