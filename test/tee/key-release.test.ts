import { X509Certificate, randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VerificationError } from '../../src/tee/errors.js';
import { generateEphemeralKeyPair, openDataKey, releaseDataKey, type KeyReleaseRequest } from '../../src/tee/key-release.js';
import { parsePolicy } from '../../src/tee/policy.js';
import { createSimulatedProvider, simulatedPcrs } from '../../src/tee/simulated.js';

const provider = await createSimulatedProvider();
const simulatedRoot = new X509Certificate(provider.rootPem);
const pcrs = await simulatedPcrs();
const policy = parsePolicy(`format: simulated\npcrs: {0: "${pcrs.get(0)!.toString('hex')}"}\n`);
const dataKey = randomBytes(32);
const rejects = (fn: () => unknown, message: RegExp): void => assert.throws(fn, (error: unknown) => error instanceof VerificationError && message.test(error.message));

async function newcomerRequest(nonce: Buffer): Promise<{ request: KeyReleaseRequest; keys: ReturnType<typeof generateEphemeralKeyPair> }> {
  const keys = generateEphemeralKeyPair();
  const evidence = await provider.evidence({ publicKeySpkiDer: keys.publicKeySpkiDer, nonce });
  return { request: { format: 'simulated', evidence, publicKeySpkiDer: keys.publicKeySpkiDer }, keys };
}

describe('key release between replicas', () => {
  it('releases the data key to a newcomer whose evidence satisfies the policy', async () => {
    const nonce = randomBytes(32);
    const { request, keys } = await newcomerRequest(nonce);
    const { response } = releaseDataKey(request, dataKey, { policy, nonce, allowSimulated: true, simulatedRoot });
    assert.notDeepEqual(response.ciphertext, dataKey);
    assert.deepEqual(openDataKey(response, keys), dataKey);
  });

  it('refuses a newcomer whose measurements differ', async () => {
    const nonce = randomBytes(32);
    const { request } = await newcomerRequest(nonce);
    const strict = parsePolicy(`format: simulated\npcrs: {0: "${'ee'.repeat(48)}"}\n`);
    rejects(() => releaseDataKey(request, dataKey, { policy: strict, nonce, allowSimulated: true, simulatedRoot }), /does not satisfy the policy: PCR0/);
  });

  it('refuses when the host swaps in its own key or replays old evidence', async () => {
    const nonce = randomBytes(32);
    const { request } = await newcomerRequest(nonce);
    const attacker = generateEphemeralKeyPair();
    rejects(() => releaseDataKey({ ...request, publicKeySpkiDer: attacker.publicKeySpkiDer }, dataKey, { policy, nonce, allowSimulated: true, simulatedRoot }), /different public key than the one presented/);
    rejects(() => releaseDataKey(request, dataKey, { policy, nonce: randomBytes(32), allowSimulated: true, simulatedRoot }), /different nonce/);
  });

  it('detects a tampered wrapped key and a wrong recipient', async () => {
    const nonce = randomBytes(32);
    const { request, keys } = await newcomerRequest(nonce);
    const { response } = releaseDataKey(request, dataKey, { policy, nonce, allowSimulated: true, simulatedRoot });
    const tampered = { ...response, ciphertext: Buffer.from(response.ciphertext.map((byte, index) => (index === 0 ? byte ^ 1 : byte))) };
    rejects(() => openDataKey(tampered, keys), /fails authentication/);
    rejects(() => openDataKey(response, generateEphemeralKeyPair()), /fails authentication/);
  });
});
