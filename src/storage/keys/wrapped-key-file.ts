import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { writeFileAtomic } from '../wal/files.js';
import { DATA_KEY_BYTES } from './key-provider.js';

/**
 * The data key kept on disk wrapped (AES-256-GCM: nonce | ciphertext | tag) under a key-encryption
 * key that only the TEE can produce. Made on first start; `binding` (e.g. the key request) is the
 * AAD, so a blob made for one request is not accepted for another.
 */
export async function unwrapOrCreateDataKey(file: string, kek: Buffer, binding: Buffer, provider: string): Promise<Buffer> {
  let wrapped: Buffer | undefined;
  try {
    wrapped = await fs.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (wrapped) {
    if (wrapped.length !== 12 + DATA_KEY_BYTES + 16) throw new Error(`${provider}: wrapped key ${file} has a wrong size (${wrapped.length} bytes)`);
    const decipher = crypto.createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, 12));
    decipher.setAAD(binding);
    decipher.setAuthTag(wrapped.subarray(12 + DATA_KEY_BYTES));
    try {
      return Buffer.concat([decipher.update(wrapped.subarray(12, 12 + DATA_KEY_BYTES)), decipher.final()]);
    } catch {
      throw new Error(
        `${provider}: the TEE-derived key does not unwrap ${file}: this is not the same platform, measurement or ` +
          'policy the data was sealed under (or the file was altered)',
      );
    }
  }
  const dataKey = crypto.randomBytes(DATA_KEY_BYTES);
  const nonce = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', kek, nonce);
  cipher.setAAD(binding);
  const sealed = Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  await writeFileAtomic(file, sealed);
  return dataKey;
}
