import crypto from 'node:crypto';
import type { KeyProvider } from './key-provider.js';
import { DATA_KEY_BYTES } from './key-provider.js';

/**
 * Intel TDX has no sealing key: a TD cannot derive a key of its own that survives a restart. The
 * data key therefore lives with a key-release service (a KMS that verifies TDX quotes, or a peer
 * replica that already holds it) and is released to a TD that proves its identity:
 *
 *  1. the TD makes a fresh X25519 key pair and asks for a quote whose REPORTDATA is
 *     SHA-512(domain || public key) — binding the key to this TD's measurement (MRTD, RTMRs);
 *  2. the service verifies the quote and its policy, then answers with the data key sealed to that
 *     public key (X25519 ECDH with its own ephemeral key, HKDF-SHA256, AES-256-GCM).
 *
 * `getQuote` (configfs-tsm or the TDX guest device) and `releaseKey` (the network call) are
 * injected; the binding and the unwrap are here.
 */
export interface TdxKeyReleaseResponse {
  /** SPKI DER of the service's ephemeral X25519 key. */
  servicePublicKey: Buffer;
  /** nonce (12) | ciphertext | tag (16) of the data key. */
  sealedKey: Buffer;
}

export interface TdxOptions {
  getQuote(reportData: Buffer): Promise<Buffer>;
  releaseKey(request: { quote: Buffer; publicKey: Buffer }): Promise<TdxKeyReleaseResponse>;
}

const REPORT_DATA_DOMAIN = Buffer.from('nautilus-tdx-key-release-v1\0');
const WRAP_INFO = 'nautilus tdx key release v1';

/** The 64-byte REPORTDATA that binds a key-release public key to a quote. */
export function keyReleaseReportData(publicKeyDer: Buffer): Buffer {
  return crypto.createHash('sha512').update(REPORT_DATA_DOMAIN).update(publicKeyDer).digest();
}

/** The service side of the wrap, shared so both ends use one definition of the KDF. */
export function sealToRecipient(dataKey: Buffer, recipientPublicKeyDer: Buffer): TdxKeyReleaseResponse {
  const recipient = crypto.createPublicKey({ key: recipientPublicKeyDer, format: 'der', type: 'spki' });
  const ephemeral = crypto.generateKeyPairSync('x25519');
  const servicePublicKey = ephemeral.publicKey.export({ format: 'der', type: 'spki' });
  const kek = wrappingKey(crypto.diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient }), servicePublicKey, recipientPublicKeyDer);
  const nonce = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', kek, nonce);
  const sealedKey = Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  return { servicePublicKey, sealedKey };
}

function wrappingKey(shared: Buffer, servicePublicKey: Buffer, recipientPublicKey: Buffer): Buffer {
  const salt = Buffer.concat([servicePublicKey, recipientPublicKey]);
  return Buffer.from(crypto.hkdfSync('sha256', shared, salt, WRAP_INFO, 32));
}

export function createTdxKeyProvider(options: TdxOptions): KeyProvider {
  return {
    name: 'tdx',
    async dataKey() {
      const { publicKey, privateKey } = crypto.generateKeyPairSync('x25519');
      const publicKeyDer = publicKey.export({ format: 'der', type: 'spki' });
      const quote = await options.getQuote(keyReleaseReportData(publicKeyDer));
      const response = await options.releaseKey({ quote, publicKey: publicKeyDer });
      const service = crypto.createPublicKey({ key: response.servicePublicKey, format: 'der', type: 'spki' });
      const kek = wrappingKey(crypto.diffieHellman({ privateKey, publicKey: service }), response.servicePublicKey, publicKeyDer);
      const sealed = response.sealedKey;
      if (sealed.length !== 12 + DATA_KEY_BYTES + 16) throw new Error(`tdx: released key has a wrong size (${sealed.length} bytes)`);
      const decipher = crypto.createDecipheriv('aes-256-gcm', kek, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(12 + DATA_KEY_BYTES));
      try {
        return Buffer.concat([decipher.update(sealed.subarray(12, 12 + DATA_KEY_BYTES)), decipher.final()]);
      } catch {
        throw new Error('tdx: the released key does not decrypt with this TD\'s key-release key (wrong recipient or altered)');
      }
    },
  };
}
