import crypto from 'node:crypto';
import { promisify } from 'node:util';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../wal/files.js';
import { openEnvelopedData } from './cms-recipient.js';
import { DATA_KEY_BYTES, DATA_KEY_FILES, type KeyProvider } from './key-provider.js';

/**
 * AWS Nitro Enclaves: the data key is a KMS data key. Its KMS-encrypted blob lives in the data
 * directory (useless without KMS); at start the enclave asks KMS to decrypt it, passing an
 * attestation document that carries a fresh RSA public key. KMS checks the document's PCRs against
 * the key policy (kms:RecipientAttestation:PCR0 …) and returns the key only as
 * CiphertextForRecipient, encrypted to that RSA key, so the parent instance relaying the call
 * never sees it.
 *
 * Request and response objects are the KMS JSON API shapes (TrentService.Decrypt /
 * GenerateDataKey). Signing and sending them (SigV4, through the vsock proxy) is the `kms`
 * function's job, as is talking to /dev/nsm for `attest` — both are injected.
 */
export interface KmsRecipient {
  KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256';
  /** Base64 of the COSE_Sign1 attestation document from the NSM. */
  AttestationDocument: string;
}

export interface KmsDecryptRequest {
  CiphertextBlob: string;
  KeyId: string;
  EncryptionContext?: Record<string, string>;
  Recipient: KmsRecipient;
}

export interface KmsGenerateDataKeyRequest {
  KeyId: string;
  KeySpec: 'AES_256';
  EncryptionContext?: Record<string, string>;
  Recipient: KmsRecipient;
}

export interface KmsResponse {
  KeyId?: string;
  CiphertextBlob?: string;
  CiphertextForRecipient?: string;
  Plaintext?: string;
}

export interface KmsClient {
  decrypt(request: KmsDecryptRequest): Promise<KmsResponse>;
  generateDataKey(request: KmsGenerateDataKeyRequest): Promise<KmsResponse>;
}

export interface NitroKmsOptions {
  dataDir: string;
  /** KMS key ARN or alias whose policy admits only this enclave's PCRs. */
  keyId: string;
  encryptionContext?: Record<string, string>;
  /** Returns an NSM attestation document whose public_key is `publicKeyDer` (SPKI DER). */
  attest(publicKeyDer: Buffer): Promise<Buffer>;
  kms: KmsClient;
}

const generateKeyPair = promisify(crypto.generateKeyPair);

export function createNitroKmsKeyProvider(options: NitroKmsOptions): KeyProvider {
  const blobFile = path.join(options.dataDir, DATA_KEY_FILES['nitro-kms']);
  return {
    name: 'nitro-kms',
    async dataKey() {
      // A fresh recipient key per start: it lives only in enclave memory.
      const { publicKey, privateKey } = await generateKeyPair('rsa', { modulusLength: 2048 });
      const attestation = await options.attest(publicKey.export({ format: 'der', type: 'spki' }));
      const recipient: KmsRecipient = { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: attestation.toString('base64') };
      const context = options.encryptionContext ? { EncryptionContext: options.encryptionContext } : {};
      const blob = await fs.readFile(blobFile).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      const response = blob
        ? await options.kms.decrypt({ CiphertextBlob: blob.toString('base64'), KeyId: options.keyId, ...context, Recipient: recipient })
        : await options.kms.generateDataKey({ KeyId: options.keyId, KeySpec: 'AES_256', ...context, Recipient: recipient });
      if (response.Plaintext) {
        throw new Error('nitro-kms: KMS returned the data key in plaintext; refusing a key the parent instance could have read');
      }
      if (!response.CiphertextForRecipient) throw new Error('nitro-kms: KMS response has no CiphertextForRecipient');
      const key = openEnvelopedData(Buffer.from(response.CiphertextForRecipient, 'base64'), privateKey);
      if (key.length !== DATA_KEY_BYTES) throw new Error(`nitro-kms: data key has ${key.length} bytes, expected ${DATA_KEY_BYTES}`);
      if (!blob) {
        if (!response.CiphertextBlob) throw new Error('nitro-kms: GenerateDataKey response has no CiphertextBlob');
        // Written only after the key was unwrapped, so a failed first start leaves nothing behind.
        await fs.mkdir(options.dataDir, { recursive: true, mode: 0o700 });
        await writeFileAtomic(blobFile, Buffer.from(response.CiphertextBlob, 'base64'));
      }
      return key;
    },
  };
}
