/**
 * AES-GCM as this code base stores it everywhere: nonce (12) | ciphertext | tag (16), with the
 * caller's associated data. One definition for the sealed private keys, the kms envelope and the
 * aesgcm provider (any AES key size).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;

const algorithm = (key: Buffer) => `aes-${key.length * 8}-gcm` as 'aes-256-gcm';

export function sealAesGcm(key: Buffer, aad: Buffer, plaintext: Uint8Array): Buffer {
  const nonce = randomBytes(GCM_NONCE_BYTES);
  const cipher = createCipheriv(algorithm(key), key, nonce, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** Throws when the data is too short, altered, or not for this key and associated data. */
export function openAesGcm(key: Buffer, aad: Buffer, sealed: Uint8Array): Buffer {
  const data = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (data.length < GCM_NONCE_BYTES + GCM_TAG_BYTES) throw new Error('sealed data too short');
  const decipher = createDecipheriv(algorithm(key), key, data.subarray(0, GCM_NONCE_BYTES), { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(data.subarray(data.length - GCM_TAG_BYTES));
  return Buffer.concat([decipher.update(data.subarray(GCM_NONCE_BYTES, data.length - GCM_TAG_BYTES)), decipher.final()]);
}
