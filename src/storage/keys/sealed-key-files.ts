import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, readIfExists, writeFileAtomic } from '../wal/files.js';
import { DATA_KEY_BYTES } from './key-provider.js';
import { GCM_NONCE_BYTES, GCM_TAG_BYTES, openAesGcm, sealAesGcm } from '../aead.js';

/**
 * The private keys of pki/ (cluster CA, front-proxy CA and client, service-account signer, admin
 * client) sealed with the data key, as the WAL is: `<name>.sealed` holds MAGIC | nonce | AES-256-GCM
 * ciphertext | tag under a key derived from the data key for this purpose only, with the file's
 * path inside pki/ as associated data (so one sealed key cannot stand in for another). Certificates
 * stay plain. A plain key file an older Nautilus left is sealed on first read and removed.
 */
const MAGIC = Buffer.from('NSK1');
const SUFFIX = '.sealed';
const HKDF_INFO = 'nautilus sealed private keys v1';

export class SealedKeyFiles {
  private readonly key: Buffer;

  /** `root` is the pki/ directory. */
  constructor(readonly root: string, dataKey: Buffer) {
    if (dataKey.length !== DATA_KEY_BYTES) throw new Error(`sealed keys: the data key has ${dataKey.length} bytes, expected ${DATA_KEY_BYTES}`);
    this.key = Buffer.from(crypto.hkdfSync('sha256', dataKey, Buffer.alloc(0), HKDF_INFO, 32));
  }

  /** The PEM at `relative` (e.g. "ca.key", "front-proxy/ca.key"), or undefined if there is none. */
  async read(relative: string): Promise<string | undefined> {
    const plainFile = path.join(this.root, relative);
    const sealed = await readIfExists(plainFile + SUFFIX);
    if (sealed) {
      const pem = this.open(relative, sealed);
      // A migration cut short after sealing: the plain copy must not linger.
      if (await readIfExists(plainFile)) await this.removePlain(plainFile);
      return pem;
    }
    const plain = await readIfExists(plainFile);
    if (!plain) return undefined;
    await this.write(relative, plain.toString('utf8'));
    await this.removePlain(plainFile);
    return plain.toString('utf8');
  }

  async write(relative: string, pem: string): Promise<void> {
    const file = path.join(this.root, relative) + SUFFIX;
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, Buffer.concat([MAGIC, sealAesGcm(this.key, this.aad(relative), Buffer.from(pem, 'utf8'))]));
  }

  /** The key at `relative`, made by `create` (and sealed) if there is none yet. */
  async loadOrCreate(relative: string, create: () => Promise<string>): Promise<string> {
    const existing = await this.read(relative);
    if (existing !== undefined) return existing;
    const pem = await create();
    await this.write(relative, pem);
    return pem;
  }

  private open(relative: string, sealed: Buffer): string {
    const file = path.join(this.root, relative) + SUFFIX;
    if (sealed.length < MAGIC.length + GCM_NONCE_BYTES + GCM_TAG_BYTES || !sealed.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new Error(`sealed key ${file} is not a sealed key file (damaged or of another version)`);
    }
    try {
      return openAesGcm(this.key, this.aad(relative), sealed.subarray(MAGIC.length)).toString('utf8');
    } catch {
      throw new Error(`sealed key ${file} does not open with this data key: it was sealed under another key provider or data key, or altered`);
    }
  }

  private aad(relative: string): Buffer {
    return Buffer.concat([MAGIC, Buffer.from(relative.split(path.sep).join('/'))]);
  }

  private async removePlain(file: string): Promise<void> {
    await fs.rm(file, { force: true });
    await fsyncDir(path.dirname(file));
  }
}
