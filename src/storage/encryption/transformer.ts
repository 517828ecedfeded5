/**
 * Encryption at rest of the resources an EncryptionConfiguration lists, as upstream does in etcd:
 * the store keeps and serves plaintext, and every value it hands to its durable log (WAL records,
 * snapshots, the etcd log) passes through `toStorage`; every value read back (recovery, a
 * follower applying the leader's writes) through `fromStorage`.
 *
 * Stored form, as upstream: `k8s:enc:<provider>:v1:<keyname>:` then
 *   aesgcm: a random 12-byte nonce, the ciphertext and the 16-byte tag; the object's location
 *           ("<group>/<plural>/<key>") is the additional authenticated data, so a value cannot be
 *           moved to another object;
 *   aescbc: a random 16-byte IV and the PKCS#7-padded ciphertext.
 * identity stores the JSON as it is. Reading tries the providers in order; a value read with
 * anything but the first provider's first key is `stale`: the registry then rewrites it on an
 * update even when nothing changed, so `kubectl replace` moves it to the new key (rotation).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionConfiguration, ProviderConfig, ProviderKey } from './configuration.js';

export interface ValueTransformer {
  /** The bytes to persist for this object of `resource` ("core/secrets", "apps/deployments"). */
  toStorage(resource: string, key: string, value: Uint8Array): Uint8Array;
  /** The object's JSON from the persisted bytes; throws when no provider can read them. */
  fromStorage(resource: string, key: string, value: Uint8Array): { value: Uint8Array; stale: boolean };
}

export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
}

const ENCRYPTED_PREFIX = Buffer.from('k8s:enc:');
const GCM_NONCE_BYTES = 12;
const GCM_TAG_BYTES = 16;
const CBC_IV_BYTES = 16;

interface KeyedProvider {
  kind: 'aesgcm' | 'aescbc';
  key: ProviderKey;
  prefix: Buffer;
}

/** The providers of one resources entry, in order. */
class ProviderChain {
  private readonly keyed: KeyedProvider[] = [];
  private readonly identity: boolean;
  private readonly writer: KeyedProvider | undefined;

  constructor(providers: readonly ProviderConfig[]) {
    for (const provider of providers) {
      if (provider.kind === 'identity') continue;
      for (const key of provider.keys) this.keyed.push({ kind: provider.kind, key, prefix: Buffer.from(`k8s:enc:${provider.kind}:v1:${key.name}:`) });
    }
    this.identity = providers.some((provider) => provider.kind === 'identity');
    // The first provider writes: identity first means writes stay plaintext.
    this.writer = providers[0].kind === 'identity' ? undefined : this.keyed[0];
  }

  encrypt(location: string, plaintext: Uint8Array): Uint8Array {
    const writer = this.writer;
    if (!writer) return plaintext;
    return Buffer.concat([writer.prefix, writer.kind === 'aesgcm' ? sealGcm(writer.key.secret, location, plaintext) : sealCbc(writer.key.secret, plaintext)]);
  }

  decrypt(location: string, stored: Uint8Array): { value: Uint8Array; stale: boolean } {
    const data = Buffer.isBuffer(stored) ? stored : Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    for (const provider of this.keyed) {
      if (!startsWith(data, provider.prefix)) continue;
      const body = data.subarray(provider.prefix.length);
      let value: Buffer;
      try {
        value = provider.kind === 'aesgcm' ? openGcm(provider.key.secret, location, body) : openCbc(provider.key.secret, body);
      } catch {
        throw new DecryptionError(`${location}: ${provider.kind} key ${JSON.stringify(provider.key.name)} cannot decrypt the stored value (wrong key or damaged data)`);
      }
      return { value, stale: provider !== this.writer };
    }
    if (startsWith(data, ENCRYPTED_PREFIX)) {
      const label = data.subarray(0, Math.min(data.length, 64)).toString('latin1').split(':').slice(0, 5).join(':');
      throw new DecryptionError(`${location}: no provider in the encryption config matches the stored prefix "${label}:"`);
    }
    if (this.identity) return { value: data, stale: this.writer !== undefined };
    throw new DecryptionError(`${location}: the stored value is not encrypted and the encryption config lists no identity provider to read it`);
  }
}

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.subarray(0, prefix.length).equals(prefix);
}

function gcmAlgorithm(key: Buffer): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  return `aes-${key.length * 8}-gcm` as 'aes-256-gcm';
}

function cbcAlgorithm(key: Buffer): string {
  return `aes-${key.length * 8}-cbc`;
}

function sealGcm(key: Buffer, location: string, plaintext: Uint8Array): Buffer {
  const nonce = randomBytes(GCM_NONCE_BYTES);
  const cipher = createCipheriv(gcmAlgorithm(key), key, nonce, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(Buffer.from(location));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

function openGcm(key: Buffer, location: string, data: Buffer): Buffer {
  if (data.length < GCM_NONCE_BYTES + GCM_TAG_BYTES) throw new Error('too short');
  const decipher = createDecipheriv(gcmAlgorithm(key), key, data.subarray(0, GCM_NONCE_BYTES), { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(Buffer.from(location));
  decipher.setAuthTag(data.subarray(data.length - GCM_TAG_BYTES));
  return Buffer.concat([decipher.update(data.subarray(GCM_NONCE_BYTES, data.length - GCM_TAG_BYTES)), decipher.final()]);
}

function sealCbc(key: Buffer, plaintext: Uint8Array): Buffer {
  const iv = randomBytes(CBC_IV_BYTES);
  // Node's default padding is PKCS#7.
  const cipher = createCipheriv(cbcAlgorithm(key), key, iv);
  return Buffer.concat([iv, cipher.update(plaintext), cipher.final()]);
}

function openCbc(key: Buffer, data: Buffer): Buffer {
  if (data.length < CBC_IV_BYTES * 2 || data.length % CBC_IV_BYTES !== 0) throw new Error('bad length');
  const decipher = createDecipheriv(cbcAlgorithm(key), key, data.subarray(0, CBC_IV_BYTES));
  const plaintext = Buffer.concat([decipher.update(data.subarray(CBC_IV_BYTES)), decipher.final()]);
  // A wrong key yields random bytes that may pass the padding check; stored values are JSON objects.
  if (plaintext[0] !== 0x7b) throw new Error('not an object');
  return plaintext;
}

/** Whether a resources entry name ("secrets", "deployments.apps", "*.apps", "*.", "*.*") covers group/plural. */
function covers(name: string, group: string, plural: string): boolean {
  if (name === '*.*') return true;
  const dot = name.indexOf('.');
  const namePlural = dot < 0 ? name : name.slice(0, dot);
  const nameGroup = dot < 0 ? '' : name.slice(dot + 1);
  if (nameGroup !== group) return false;
  return namePlural === '*' || namePlural === plural;
}

export function createValueTransformer(config: EncryptionConfiguration): ValueTransformer {
  const chains = config.rules.map((rule) => ({ resources: rule.resources, chain: new ProviderChain(rule.providers) }));
  const byResource = new Map<string, ProviderChain | null>();
  const chainFor = (resource: string): ProviderChain | null => {
    let chain = byResource.get(resource);
    if (chain === undefined) {
      const slash = resource.indexOf('/');
      const group = resource.slice(0, slash) === 'core' ? '' : resource.slice(0, slash);
      const plural = resource.slice(slash + 1);
      // The first entry that names the resource decides, as upstream.
      chain = chains.find((entry) => entry.resources.some((name) => covers(name, group, plural)))?.chain ?? null;
      byResource.set(resource, chain);
    }
    return chain;
  };
  return {
    toStorage(resource, key, value) {
      const chain = chainFor(resource);
      return chain ? chain.encrypt(`${resource}/${key}`, value) : value;
    },
    fromStorage(resource, key, value) {
      const chain = chainFor(resource);
      return chain ? chain.decrypt(`${resource}/${key}`, value) : { value, stale: false };
    },
  };
}
