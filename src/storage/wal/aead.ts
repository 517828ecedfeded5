import crypto from 'node:crypto';
import { writeU64 } from './bytes.js';

const TAG_BYTES = 16;
export const SALT_BYTES = 16;

/**
 * AES-256-GCM under a key derived from the data key and a fresh random salt. Every writer epoch
 * (each boot, each snapshot file) draws a new salt, so its key is new and a plain counter is a
 * safe nonce: a truncated log that gets rewritten after a restart is sealed under a different key,
 * and no (key, nonce) pair can repeat.
 */
export class SealingKey {
  private readonly key: crypto.KeyObject;

  constructor(dataKey: Buffer, readonly salt: Buffer, purpose: string) {
    const derived = crypto.hkdfSync('sha256', dataKey, salt, `nautilus ${purpose} v1`, 32);
    this.key = crypto.createSecretKey(Buffer.from(derived));
  }

  /**
   * Returns `headroom` unused bytes (for the caller's header), then the ciphertext of the parts
   * concatenated, then the 16-byte tag — one allocation, because sealing is on every append's path.
   */
  seal(counter: number, aad: Uint8Array, parts: readonly Uint8Array[], headroom = 0): Buffer {
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, counterNonce(counter));
    cipher.setAAD(aad);
    let length = 0;
    for (const part of parts) length += part.length;
    const out = Buffer.allocUnsafe(headroom + length + TAG_BYTES);
    let at = headroom;
    for (const part of parts) at += cipher.update(part).copy(out, at);
    at += cipher.final().copy(out, at);
    cipher.getAuthTag().copy(out, at);
    return out;
  }

  /** Returns the plaintext, or undefined when the ciphertext, tag, AAD or key do not match. */
  open(counter: number, aad: Uint8Array, sealed: Uint8Array): Buffer | undefined {
    if (sealed.length < TAG_BYTES) return undefined;
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, counterNonce(counter));
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    try {
      decipher.final(); // GCM is a stream mode: final() only checks the tag and returns nothing
      return plaintext;
    } catch {
      return undefined;
    }
  }
}

export const SEALED_OVERHEAD = TAG_BYTES;

export function freshSalt(): Buffer {
  return crypto.randomBytes(SALT_BYTES);
}

function counterNonce(counter: number): Buffer {
  const nonce = Buffer.alloc(12);
  writeU64(nonce, 4, counter);
  return nonce;
}
