import { KeyObject, createCipheriv, createDecipheriv, createHash, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import { check } from './errors.js';
import { checkPolicy, type AttestationPolicy } from './policy.js';
import { checkEvidenceBinding, verifyEvidence, type DocumentFormat, type EvidenceVerifyOptions, type VerifiedEvidence } from './verify-evidence.js';

/**
 * Key release between replicas: a newcomer proves, by attestation, that it runs the expected code
 * in a TEE and that it alone holds an ephemeral X25519 key (bound into its report data); only then
 * does a replica encrypt the shared data key to that X25519 key. The host relaying the messages
 * sees ciphertext only.
 */
export interface KeyReleaseRequest {
  readonly format: DocumentFormat;
  readonly evidence: Buffer;
  /** SPKI DER of the newcomer's ephemeral X25519 key; the evidence binds exactly these bytes. */
  readonly publicKeySpkiDer: Buffer;
}

export interface KeyReleaseResponse {
  /** SPKI DER of the releasing replica's ephemeral X25519 key. */
  readonly ephemeralPublicKeySpkiDer: Buffer;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

const HKDF_INFO = Buffer.from('nautilus key release v1');
const IV_BYTES = 12;

export interface EphemeralKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKeySpkiDer: Buffer;
}

export function generateEphemeralKeyPair(): EphemeralKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKeySpkiDer: publicKey.export({ type: 'spki', format: 'der' }) };
}

export interface ReleaseOptions extends EvidenceVerifyOptions {
  readonly policy: AttestationPolicy;
  /** The challenge this replica gave the newcomer; its evidence must carry it. */
  readonly nonce: Buffer;
}

/** Verifies the newcomer's evidence, binding and policy; encrypts the data key to it only if all pass. */
export function releaseDataKey(request: KeyReleaseRequest, dataKey: Buffer, options: ReleaseOptions): { response: KeyReleaseResponse; evidence: VerifiedEvidence } {
  const evidence = verifyEvidence(request.format, request.evidence, options);
  checkEvidenceBinding(evidence, { publicKeySpkiDer: request.publicKeySpkiDer, nonce: options.nonce });
  const failures = checkPolicy(evidence, options.policy);
  check(failures.length === 0, `key release: evidence does not satisfy the policy: ${failures.join('; ')}`);

  const recipient = x25519PublicKey(request.publicKeySpkiDer);
  const ephemeral = generateEphemeralKeyPair();
  const key = deriveKey(diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient }), request.publicKeySpkiDer, ephemeral.publicKeySpkiDer);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(request.publicKeySpkiDer);
  const ciphertext = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return { response: { ephemeralPublicKeySpkiDer: ephemeral.publicKeySpkiDer, iv, ciphertext, tag: cipher.getAuthTag() }, evidence };
}

/** The newcomer's side: decrypts the data key with its ephemeral private key. */
export function openDataKey(response: KeyReleaseResponse, recipient: EphemeralKeyPair): Buffer {
  const sender = x25519PublicKey(response.ephemeralPublicKeySpkiDer);
  const key = deriveKey(diffieHellman({ privateKey: recipient.privateKey, publicKey: sender }), recipient.publicKeySpkiDer, response.ephemeralPublicKeySpkiDer);
  check(response.iv.length === IV_BYTES, `key release: IV must be ${IV_BYTES} bytes`);
  const decipher = createDecipheriv('aes-256-gcm', key, response.iv);
  decipher.setAAD(recipient.publicKeySpkiDer);
  decipher.setAuthTag(response.tag);
  try {
    return Buffer.concat([decipher.update(response.ciphertext), decipher.final()]);
  } catch {
    check(false, 'key release: the wrapped data key fails authentication (tampered or not for this key)');
  }
}

// Both public keys go into the salt so a key is only ever derived for this exact pair.
function deriveKey(sharedSecret: Buffer, recipientSpki: Buffer, senderSpki: Buffer): Buffer {
  const salt = createHash('sha256').update(recipientSpki).update(senderSpki).digest();
  return Buffer.from(hkdfSync('sha256', sharedSecret, salt, HKDF_INFO, 32));
}

function x25519PublicKey(spkiDer: Buffer): KeyObject {
  let key: KeyObject | undefined;
  try {
    key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch {
    key = undefined;
  }
  check(key?.asymmetricKeyType === 'x25519', 'key release: public key must be an X25519 SPKI');
  return key;
}
