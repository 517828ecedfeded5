import fs from 'node:fs/promises';
import path from 'node:path';
import { DATA_KEY_FILES, type KeyProvider } from './key-provider.js';
import { unwrapOrCreateDataKey } from './wrapped-key-file.js';

/**
 * AMD SEV-SNP: the firmware derives a key from a chip root key (VCEK) or the VM root key (VMRK),
 * mixed with the guest fields selected — by default the launch measurement and the policy, so
 * only this exact build under this policy on this chip gets it. That key wraps the data key
 * stored in the data directory. A VCEK-derived key exists on this one chip only: the data cannot
 * move to another host (for that, use VMRK with a migration agent, or key release as on TDX).
 *
 * The kernel interface is the SNP_GET_DERIVED_KEY ioctl on /dev/sev-guest
 * (struct snp_guest_request_ioctl pointing at struct snp_derived_key_req / _resp). Node has no
 * ioctl, so `deriveKey` — which sends the 32-byte request and returns the 64-byte response — must
 * come from a native addon or helper binary; configfs-tsm (/sys/kernel/config/tsm) offers reports
 * only, not derived keys. Everything else here is real: request encoding, response parsing, wrapping.
 */
export interface SnpGuestFields {
  policy: boolean;
  imageId: boolean;
  familyId: boolean;
  measurement: boolean;
  guestSvn: boolean;
  tcbVersion: boolean;
}

export interface SnpDerivedKeyRequest {
  rootKey: 'vcek' | 'vmrk';
  fields: SnpGuestFields;
  /** Must be at least the VMPL the guest runs at (0..3). */
  vmpl: number;
  guestSvn: number;
  tcbVersion: bigint;
}

export const DEFAULT_SNP_REQUEST: SnpDerivedKeyRequest = {
  rootKey: 'vcek',
  fields: { policy: true, imageId: false, familyId: false, measurement: true, guestSvn: false, tcbVersion: false },
  vmpl: 0,
  guestSvn: 0,
  tcbVersion: 0n,
};

/** The order of GUEST_FIELD_SELECT bits, least significant first (SNP ABI, MSG_KEY_REQ). */
const FIELD_BITS: (keyof SnpGuestFields)[] = ['policy', 'imageId', 'familyId', 'measurement', 'guestSvn', 'tcbVersion'];

/** struct snp_derived_key_req, little-endian: root_key_select, rsvd, guest_field_select, vmpl, guest_svn, tcb_version. */
export function encodeDerivedKeyRequest(request: SnpDerivedKeyRequest): Buffer {
  if (!Number.isInteger(request.vmpl) || request.vmpl < 0 || request.vmpl > 3) throw new RangeError('sev-snp: vmpl must be 0..3');
  const out = Buffer.alloc(32);
  out.writeUInt32LE(request.rootKey === 'vmrk' ? 1 : 0, 0);
  let select = 0n;
  FIELD_BITS.forEach((field, bit) => {
    if (request.fields[field]) select |= 1n << BigInt(bit);
  });
  out.writeBigUInt64LE(select, 8);
  out.writeUInt32LE(request.vmpl, 16);
  out.writeUInt32LE(request.guestSvn, 20);
  out.writeBigUInt64LE(request.tcbVersion, 24);
  return out;
}

/** struct snp_derived_key_resp carries MSG_KEY_RSP: u32 status, 28 reserved bytes, 32-byte key. */
export function decodeDerivedKeyResponse(response: Buffer): Buffer {
  if (response.length !== 64) throw new Error(`sev-snp: derived key response has ${response.length} bytes, expected 64`);
  const status = response.readUInt32LE(0);
  if (status !== 0) throw new Error(`sev-snp: firmware refused the derived key request (status 0x${status.toString(16)})`);
  return Buffer.from(response.subarray(32, 64));
}

export interface SevSnpOptions {
  dataDir: string;
  /** Performs SNP_GET_DERIVED_KEY: 32-byte snp_derived_key_req in, 64-byte snp_derived_key_resp out. */
  deriveKey(request: Buffer): Promise<Buffer>;
  request?: SnpDerivedKeyRequest;
}

export function createSevSnpKeyProvider(options: SevSnpOptions): KeyProvider {
  const request = encodeDerivedKeyRequest(options.request ?? DEFAULT_SNP_REQUEST);
  return {
    name: 'sev-snp',
    async dataKey() {
      const kek = decodeDerivedKeyResponse(await options.deriveKey(request));
      await fs.mkdir(options.dataDir, { recursive: true, mode: 0o700 });
      return unwrapOrCreateDataKey(path.join(options.dataDir, DATA_KEY_FILES['sev-snp']), kek, request, 'sev-snp');
    },
  };
}
