/**
 * Binds the durable state's checkpoint-signing key to the attested TLS key: the serving key
 * (which the TEE evidence vouches for) signs the checkpoint key's public half. A verifier who
 * trusts the evidence then knows which key signs this server's checkpoints and snapshots.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { VerificationError } from './errors.js';

const STATEMENT_DOMAIN = Buffer.from('nautilus checkpoint key v1\0');

export interface CheckpointKeyStatement {
  /** Base64 of the checkpoint key's public half (DER SubjectPublicKeyInfo, Ed25519). */
  readonly publicKey: string;
  /** Base64 signature of the statement by the attested TLS key (ECDSA with SHA-256). */
  readonly signature: string;
}

function statement(checkpointSpki: Buffer): Buffer {
  return Buffer.concat([STATEMENT_DOMAIN, checkpointSpki]);
}

export function signCheckpointKey(checkpointPublicKey: KeyObject, tlsPrivateKeyPem: string): CheckpointKeyStatement {
  const spki = checkpointPublicKey.export({ type: 'spki', format: 'der' });
  return { publicKey: spki.toString('base64'), signature: sign('sha256', statement(spki), tlsPrivateKeyPem).toString('base64') };
}

/** Checks the statement against the attested TLS public key; returns the checkpoint public key. */
export function verifyCheckpointKey(claim: CheckpointKeyStatement, tlsPublicKey: KeyObject): KeyObject {
  const spki = Buffer.from(claim.publicKey, 'base64');
  let valid = false;
  try {
    valid = verify('sha256', statement(spki), tlsPublicKey, Buffer.from(claim.signature, 'base64'));
  } catch {
    valid = false;
  }
  if (!valid) throw new VerificationError('checkpoint key: the statement is not signed by the attested TLS key');
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}
