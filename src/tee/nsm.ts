import { callDeviceHelper } from './device-helper.js';
import { decodeCbor, encodeCbor, isBytes } from './cbor.js';

/**
 * The Nitro Secure Module is reached through an ioctl on /dev/nsm that plain Node cannot issue.
 * The request/response are CBOR (as in AWS's nsm-api): Nautilus encodes them here and hands the
 * ioctl to a small helper executable (NAUTILUS_NSM_HELPER) that copies stdin to the device and
 * the device's answer to stdout.
 */
export interface NsmAttestationRequest {
  readonly publicKey?: Buffer;
  readonly userData?: Buffer;
  readonly nonce?: Buffer;
}

export function encodeNsmAttestationRequest(request: NsmAttestationRequest): Buffer {
  // Maps, not objects, so the encoder can never choose its record extension over plain CBOR maps.
  const fields = new Map<string, Buffer | null>([
    ['user_data', request.userData ?? null],
    ['nonce', request.nonce ?? null],
    ['public_key', request.publicKey ?? null],
  ]);
  return encodeCbor(new Map([['Attestation', fields]]));
}

/** Extracts the COSE_Sign1 document from an NSM response, or throws with the NSM's error code. */
export function decodeNsmAttestationResponse(response: Buffer): Buffer {
  const decoded = decodeCbor(response, 'NSM response');
  if (decoded instanceof Map && decoded.has('Error')) throw new Error(`NSM returned error ${String(decoded.get('Error'))}`);
  const attestation = decoded instanceof Map ? decoded.get('Attestation') : undefined;
  const document = attestation instanceof Map ? attestation.get('document') : undefined;
  if (!isBytes(document)) throw new Error('NSM response has no Attestation.document');
  return Buffer.from(document);
}

export function callNsmHelper(helperPath: string, request: Buffer): Promise<Buffer> {
  return callDeviceHelper(helperPath, request, 'NSM');
}
