import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { signCheckpointKey, verifyCheckpointKey } from '../../src/tee/checkpoint-key.js';
import { VerificationError } from '../../src/tee/errors.js';

const tls = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const checkpoint = generateKeyPairSync('ed25519');
const tlsPem = tls.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

test('the attested TLS key vouches for the checkpoint key', () => {
  const statement = signCheckpointKey(checkpoint.publicKey, tlsPem);
  const key = verifyCheckpointKey(statement, tls.publicKey);
  assert.ok(key.equals(createPublicKey(checkpoint.privateKey)));
});

test('a statement signed by another key, or about another checkpoint key, is refused', () => {
  const statement = signCheckpointKey(checkpoint.publicKey, tlsPem);
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assert.throws(() => verifyCheckpointKey(statement, other.publicKey), VerificationError);
  const swapped = { ...statement, publicKey: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }).toString('base64') };
  assert.throws(() => verifyCheckpointKey(swapped, tls.publicKey), /not signed by the attested TLS key/);
  assert.throws(() => verifyCheckpointKey({ ...statement, signature: 'AAAA' }, tls.publicKey), VerificationError);
});
