import { X509Certificate, verify as verifySignature } from 'node:crypto';
import { AWS_NITRO_ROOT_G1_PEM } from './anchors.js';
import { decodeCbor, encodeCbor, isBytes, isTag } from './cbor.js';
import { check } from './errors.js';
import { parseCertificate, verifyChainToRoot } from './x509-chain.js';

/** Organization of every certificate the simulated provider makes; how such documents are recognised. */
export const SIMULATED_ORGANIZATION = 'Nautilus Simulated TEE (NOT SECURE)';

const COSE_SIGN1_TAG = 18;
const COSE_ALG_LABEL = 1;
const COSE_ALG_ES384 = -35;
const ES384_SIGNATURE_BYTES = 96;
// AWS's spec allows 512 bytes for user_data and nonce, but real NSM documents carry up to 1024
// (the blocky/nitrite production vector has 1024 of each), so the larger bound is enforced.
const MAX_BINDING_FIELD_BYTES = 1024;
const MAX_CERTIFICATE_BYTES = 1024;
const PCR_COUNT = 32;
const PCR_LENGTHS = new Set([32, 48, 64]);

export interface NitroAttestation {
  readonly format: 'nitro';
  readonly moduleId: string;
  readonly timestamp: Date;
  readonly digest: 'SHA384';
  readonly pcrs: Map<number, Buffer>;
  readonly publicKey?: Buffer;
  readonly userData?: Buffer;
  readonly nonce?: Buffer;
  /** An enclave started with --debug-mode reports PCR0, PCR1 and PCR2 as all zeros. */
  readonly debug: boolean;
  /** True when the document chains to a simulated root (only possible with allowSimulated). */
  readonly simulated: boolean;
  readonly certificate: X509Certificate;
}

export interface NitroVerifyOptions {
  /** Time at which certificates must be valid; defaults to now. */
  readonly at?: Date;
  /** Trust anchor; defaults to the pinned AWS Nitro Enclaves Root-G1. */
  readonly root?: X509Certificate;
  /** Accept documents from the simulated provider (given its root). Never for production. */
  readonly allowSimulated?: boolean;
}

interface CoseSign1 {
  readonly protectedHeader: Buffer;
  readonly payload: Buffer;
  readonly signature: Buffer;
}

export const awsNitroRoot = (): X509Certificate => parseCertificate(AWS_NITRO_ROOT_G1_PEM, 'AWS Nitro root');

export function isSimulatedCertificate(certificate: X509Certificate): boolean {
  return certificate.subject.split('\n').includes(`O=${SIMULATED_ORGANIZATION}`);
}

/** Verifies an attestation document from the Nitro Secure Module (COSE_Sign1, tagged or not). */
export function verifyNitroDocument(document: Buffer, options: NitroVerifyOptions = {}): NitroAttestation {
  const at = options.at ?? new Date();
  const root = options.root ?? awsNitroRoot();
  const simulated = isSimulatedCertificate(root);
  check(!simulated || options.allowSimulated, 'nitro: the trust anchor is a simulated root; refusing without allowSimulated');

  const cose = parseCoseSign1(document);
  const fields = parsePayload(cose.payload);
  const leaf = parseCertificate(fields.certificate, 'nitro: certificate');
  const bundle = fields.cabundle.map((der, index) => parseCertificate(der, `nitro: cabundle[${index}]`));
  check(
    !isSimulatedCertificate(bundle[0]!) || options.allowSimulated,
    'nitro: document comes from the simulated provider; refusing without allowSimulated',
  );
  // The cabundle lists the root first, the leaf's issuer last; chain checks want leaf first.
  const chain = [leaf, ...[...bundle].reverse()];
  const names = ['certificate', ...bundle.map((_, index) => `cabundle[${index}]`).reverse()];
  check(bundle[0]!.raw.equals(root.raw), `nitro: cabundle[0] is not the pinned root (got ${bundle[0]!.subject.replace(/\n/g, ', ')})`);
  verifyChainToRoot({ chain, root, at, what: 'nitro: certificate chain', names });
  verifyCoseSignature(cose, leaf);
  // The NSM signs with a leaf minted for the document; a timestamp outside its life is forged or stale.
  const timestamp = new Date(fields.timestampMs);
  check(timestamp >= new Date(leaf.validFrom) && timestamp <= new Date(leaf.validTo), `nitro: timestamp ${timestamp.toISOString()} lies outside the leaf certificate's validity`);

  const zeroPcr = (index: number): boolean => fields.pcrs.get(index)?.every((byte) => byte === 0) ?? false;
  return {
    format: 'nitro',
    moduleId: fields.moduleId,
    timestamp,
    digest: 'SHA384',
    pcrs: fields.pcrs,
    ...(fields.publicKey && { publicKey: fields.publicKey }),
    ...(fields.userData && { userData: fields.userData }),
    ...(fields.nonce && { nonce: fields.nonce }),
    debug: zeroPcr(0) && zeroPcr(1) && zeroPcr(2),
    simulated,
    certificate: leaf,
  };
}

export function parseCoseSign1(document: Buffer): CoseSign1 {
  let item = decodeCbor(document, 'nitro: COSE_Sign1');
  if (isTag(item, COSE_SIGN1_TAG)) item = item.value;
  check(Array.isArray(item) && item.length === 4, 'nitro: COSE_Sign1 must be an array of 4 items');
  const [protectedHeader, unprotectedHeader, payload, signature] = item as unknown[];
  check(isBytes(protectedHeader), 'nitro: COSE protected header must be a byte string');
  check(unprotectedHeader instanceof Map, 'nitro: COSE unprotected header must be a map');
  check(isBytes(payload), 'nitro: COSE payload must be a byte string');
  check(isBytes(signature), 'nitro: COSE signature must be a byte string');
  const header = decodeCbor(protectedHeader, 'nitro: COSE protected header');
  check(header instanceof Map, 'nitro: COSE protected header must encode a map');
  check(header.get(COSE_ALG_LABEL) === COSE_ALG_ES384, `nitro: COSE algorithm must be ES384 (-35), got ${String(header.get(COSE_ALG_LABEL))}`);
  check(signature.length === ES384_SIGNATURE_BYTES, `nitro: ES384 signature must be ${ES384_SIGNATURE_BYTES} bytes, got ${signature.length}`);
  return { protectedHeader: Buffer.from(protectedHeader), payload: Buffer.from(payload), signature: Buffer.from(signature) };
}

/** The bytes COSE signs (RFC 9052 §4.4): ["Signature1", protected, external_aad = h'', payload]. */
export function coseSign1SigStructure(protectedHeader: Buffer, payload: Buffer): Buffer {
  return encodeCbor(['Signature1', protectedHeader, Buffer.alloc(0), payload]);
}

function verifyCoseSignature(cose: CoseSign1, leaf: X509Certificate): void {
  const details = leaf.publicKey.asymmetricKeyDetails;
  check(leaf.publicKey.asymmetricKeyType === 'ec' && details?.namedCurve === 'secp384r1', 'nitro: leaf certificate key is not ECDSA P-384');
  const signed = coseSign1SigStructure(cose.protectedHeader, cose.payload);
  const valid = verifySignature('sha384', signed, { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' }, cose.signature);
  check(valid, 'nitro: COSE_Sign1 signature does not verify with the leaf certificate key');
}

interface NitroPayload {
  readonly moduleId: string;
  readonly timestampMs: number;
  readonly pcrs: Map<number, Buffer>;
  readonly certificate: Buffer;
  readonly cabundle: Buffer[];
  readonly publicKey?: Buffer;
  readonly userData?: Buffer;
  readonly nonce?: Buffer;
}

function parsePayload(payload: Buffer): NitroPayload {
  const map = decodeCbor(payload, 'nitro: attestation document');
  check(map instanceof Map, 'nitro: attestation document must be a CBOR map');
  const moduleId = map.get('module_id');
  check(typeof moduleId === 'string' && moduleId.length > 0, 'nitro: module_id must be a non-empty text string');
  check(map.get('digest') === 'SHA384', `nitro: digest must be "SHA384", got ${JSON.stringify(map.get('digest'))}`);
  const timestamp = map.get('timestamp');
  check((typeof timestamp === 'number' || typeof timestamp === 'bigint') && timestamp > 0, 'nitro: timestamp must be a positive integer (ms since epoch)');
  const certificate = map.get('certificate');
  check(isBytes(certificate) && certificate.length >= 1 && certificate.length <= MAX_CERTIFICATE_BYTES, `nitro: certificate must be 1..${MAX_CERTIFICATE_BYTES} bytes`);
  const cabundle = map.get('cabundle');
  check(Array.isArray(cabundle) && cabundle.length > 0, 'nitro: cabundle must be a non-empty array');
  cabundle.forEach((entry: unknown, index) =>
    check(isBytes(entry) && entry.length >= 1 && entry.length <= MAX_CERTIFICATE_BYTES, `nitro: cabundle[${index}] must be 1..${MAX_CERTIFICATE_BYTES} bytes`),
  );
  return {
    moduleId,
    timestampMs: Number(timestamp),
    pcrs: parsePcrs(map.get('pcrs')),
    certificate: Buffer.from(certificate),
    cabundle: (cabundle as Uint8Array[]).map((entry) => Buffer.from(entry)),
    ...optionalBytes(map, 'public_key', 1),
    ...optionalBytes(map, 'user_data', 0),
    ...optionalBytes(map, 'nonce', 0),
  };
}

function parsePcrs(value: unknown): Map<number, Buffer> {
  check(value instanceof Map && value.size >= 1 && value.size <= PCR_COUNT, `nitro: pcrs must be a map of 1..${PCR_COUNT} entries`);
  const pcrs = new Map<number, Buffer>();
  for (const [index, digest] of value) {
    check(Number.isInteger(index) && index >= 0 && index < PCR_COUNT, `nitro: PCR index ${String(index)} is out of range 0..${PCR_COUNT - 1}`);
    check(isBytes(digest) && PCR_LENGTHS.has(digest.length), `nitro: PCR${index} must be 32, 48 or 64 bytes`);
    pcrs.set(index as number, Buffer.from(digest));
  }
  return pcrs;
}

const FIELD_NAMES = { public_key: 'publicKey', user_data: 'userData', nonce: 'nonce' } as const;

function optionalBytes(map: Map<unknown, unknown>, key: keyof typeof FIELD_NAMES, minLength: number): Partial<Record<(typeof FIELD_NAMES)[typeof key], Buffer>> {
  const value = map.get(key);
  if (value === undefined || value === null) return {};
  check(isBytes(value) && value.length >= minLength && value.length <= MAX_BINDING_FIELD_BYTES, `nitro: ${key} must be ${minLength}..${MAX_BINDING_FIELD_BYTES} bytes`);
  return { [FIELD_NAMES[key]]: Buffer.from(value) };
}
