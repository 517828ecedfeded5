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
 *   secretbox: a random 24-byte nonce, then NaCl's secretbox of the JSON (XSalsa20-Poly1305: the
 *           16-byte tag, then the ciphertext), as golang.org/x/crypto's secretbox.Seal writes it.
 *   kms:    `k8s:enc:kms:v2:<name>:` and upstream's KMS v2 EncryptedObject (kms-v2.ts), the DEK
 *           wrapped under a key derived from the data key.
 * identity stores the JSON as it is. Reading tries the providers in order; a value read with
 * anything but the first provider's first key is `stale`: the registry then rewrites it on an
 * update even when nothing changed, so `kubectl replace` moves it to the new key (rotation).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionConfiguration, ProviderConfig, ProviderKey } from './configuration.js';
import { KmsV2Envelope } from './kms-v2.js';
import { openAesGcm, sealAesGcm } from '../aead.js';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa';

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
const CBC_IV_BYTES = 16;
const SECRETBOX_NONCE_BYTES = 24;

/** One way values are sealed: a provider's key (aesgcm, aescbc, secretbox) or a kms provider's envelope. */
interface StorageCodec {
  prefix: Buffer;
  /** How errors name it: `aesgcm key "key1"`, `kms provider "tee"`. */
  label: string;
  seal(location: string, plaintext: Uint8Array): Buffer;
  open(location: string, body: Buffer): Buffer;
}

function codecsOf(provider: ProviderConfig, dataKey: Buffer | undefined): StorageCodec[] {
  if (provider.kind === 'identity') return [];
  if (provider.kind === 'kms') {
    if (!dataKey) throw new Error(`kms provider ${JSON.stringify(provider.name)} needs the server's data key`);
    const envelope = new KmsV2Envelope(provider.name!, dataKey);
    return [{ prefix: envelope.prefix, label: `kms provider ${JSON.stringify(provider.name)}`, seal: (location, plaintext) => envelope.seal(location, plaintext), open: (location, body) => envelope.open(location, body) }];
  }
  return provider.keys.map((key: ProviderKey): StorageCodec => ({
    prefix: Buffer.from(`k8s:enc:${provider.kind}:v1:${key.name}:`),
    label: `${provider.kind} key ${JSON.stringify(key.name)}`,
    ...keyCodec(provider.kind, key.secret),
  }));
}

function keyCodec(kind: ProviderConfig['kind'], secret: Buffer): Pick<StorageCodec, 'seal' | 'open'> {
  switch (kind) {
    case 'aesgcm':
      return { seal: (location, plaintext) => sealAesGcm(secret, Buffer.from(location), plaintext), open: (location, body) => openAesGcm(secret, Buffer.from(location), body) };
    case 'aescbc':
      return { seal: (_, plaintext) => sealCbc(secret, plaintext), open: (_, body) => openCbc(secret, body) };
    case 'secretbox':
      // As upstream, secretbox binds no location: only the key authenticates the value.
      return { seal: (_, plaintext) => sealSecretbox(secret, plaintext), open: (_, body) => openSecretbox(secret, body) };
    default:
      throw new Error(`provider ${kind} has no keys`);
  }
}

/** The providers of one resources entry, in order. */
class ProviderChain {
  private readonly codecs: StorageCodec[];
  private readonly identity: boolean;
  private readonly writer: StorageCodec | undefined;

  constructor(providers: readonly ProviderConfig[], dataKey: Buffer | undefined) {
    this.codecs = providers.flatMap((provider) => codecsOf(provider, dataKey));
    this.identity = providers.some((provider) => provider.kind === 'identity');
    // The first provider writes: identity first means writes stay plaintext.
    this.writer = providers[0].kind === 'identity' ? undefined : this.codecs[0];
  }

  encrypt(location: string, plaintext: Uint8Array): Uint8Array {
    const writer = this.writer;
    if (!writer) return plaintext;
    return Buffer.concat([writer.prefix, writer.seal(location, plaintext)]);
  }

  decrypt(location: string, stored: Uint8Array): { value: Uint8Array; stale: boolean } {
    const data = Buffer.isBuffer(stored) ? stored : Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    for (const codec of this.codecs) {
      if (!startsWith(data, codec.prefix)) continue;
      let value: Buffer;
      try {
        value = codec.open(location, data.subarray(codec.prefix.length));
      } catch (error) {
        const reason = codec.label.startsWith('kms') ? (error as Error).message : 'wrong key or damaged data';
        throw new DecryptionError(`${location}: ${codec.label} cannot decrypt the stored value (${reason})`);
      }
      return { value, stale: codec !== this.writer };
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

function cbcAlgorithm(key: Buffer): string {
  return `aes-${key.length * 8}-cbc`;
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

function sealSecretbox(key: Buffer, plaintext: Uint8Array): Buffer {
  const nonce = randomBytes(SECRETBOX_NONCE_BYTES);
  return Buffer.concat([nonce, xsalsa20poly1305(key, nonce).encrypt(plaintext)]);
}

function openSecretbox(key: Buffer, data: Buffer): Buffer {
  if (data.length < SECRETBOX_NONCE_BYTES + 16) throw new Error('bad length');
  // decrypt throws when the tag does not match (a wrong key or damaged bytes).
  const plaintext = xsalsa20poly1305(key, data.subarray(0, SECRETBOX_NONCE_BYTES)).decrypt(data.subarray(SECRETBOX_NONCE_BYTES));
  return Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
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

/** `dataKey` backs the kms providers (the server's data key, from serve --key-provider). */
export function createValueTransformer(config: EncryptionConfiguration, dataKey?: Buffer): ValueTransformer {
  const chains = config.rules.map((rule) => ({ resources: rule.resources, chain: new ProviderChain(rule.providers, dataKey) }));
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
