/**
 * The `kms` provider (apiVersion v2) of an EncryptionConfiguration, backed by the server's own
 * data-key provider (`serve --key-provider`) instead of a gRPC plugin: the TEE (or KMS) that
 * releases the data key plays the KMS. As upstream's KMS v2 envelope:
 *
 *  - a DEK (AES-256) is made at start and encrypts values: nonce(12) | ciphertext | tag, the
 *    object's location as associated data;
 *  - the DEK is stored with every value wrapped by the key-encryption key (here derived from the
 *    data key, so only a process holding the data key can unwrap it) — `encryptedDEKSource`;
 *  - the stored value is `k8s:enc:kms:v2:<name>:` followed by upstream's protobuf
 *    EncryptedObject {1 encryptedData, 2 keyID, 3 encryptedDEKSource, 4 annotations,
 *    5 encryptedDEKSourceType (0 = AES_GCM_KEY, the one used and accepted here)}.
 *
 * Unwrapped DEKs are cached by their wrapped form, as upstream; a fresh DEK replaces the current
 * one after DEK_WRITES encryptions, well inside AES-GCM's limit for random nonces.
 */
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { openAesGcm, sealAesGcm } from '../aead.js';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

const DEK_WRITES = 1 << 24;
const MAX_CACHED_DEKS = 1024;
const AES_GCM_KEY = 0;

export interface EncryptedObject {
  encryptedData: Uint8Array;
  keyID: string;
  encryptedDEKSource: Uint8Array;
  annotations: Map<string, Uint8Array>;
  encryptedDEKSourceType: number;
}

export function encodeEncryptedObject(object: EncryptedObject): Uint8Array {
  const writer = new BinaryWriter();
  writer.tag(1, WireType.LengthDelimited).bytes(object.encryptedData);
  writer.tag(2, WireType.LengthDelimited).string(object.keyID);
  writer.tag(3, WireType.LengthDelimited).bytes(object.encryptedDEKSource);
  for (const [key, value] of object.annotations) {
    writer.tag(4, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(key).tag(2, WireType.LengthDelimited).bytes(value).join();
  }
  if (object.encryptedDEKSourceType !== 0) writer.tag(5, WireType.Varint).int32(object.encryptedDEKSourceType);
  return writer.finish();
}

export function decodeEncryptedObject(bytes: Uint8Array): EncryptedObject {
  const reader = new BinaryReader(bytes);
  const object: EncryptedObject = { encryptedData: new Uint8Array(), keyID: '', encryptedDEKSource: new Uint8Array(), annotations: new Map(), encryptedDEKSourceType: 0 };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) object.encryptedData = reader.bytes();
    else if (field === 2 && wireType === WireType.LengthDelimited) object.keyID = reader.string();
    else if (field === 3 && wireType === WireType.LengthDelimited) object.encryptedDEKSource = reader.bytes();
    else if (field === 4 && wireType === WireType.LengthDelimited) {
      const entry = new BinaryReader(reader.bytes());
      let key = '';
      let value: Uint8Array = new Uint8Array();
      while (entry.pos < entry.len) {
        const [entryField, entryType] = entry.tag();
        if (entryField === 1 && entryType === WireType.LengthDelimited) key = entry.string();
        else if (entryField === 2 && entryType === WireType.LengthDelimited) value = entry.bytes();
        else entry.skip(entryType);
      }
      object.annotations.set(key, value);
    } else if (field === 5 && wireType === WireType.Varint) object.encryptedDEKSourceType = reader.int32();
    else reader.skip(wireType);
  }
  return object;
}

/** Upstream's ValidateEncryptedObject limits. */
function validate(object: EncryptedObject): string | undefined {
  if (object.encryptedData.length === 0) return 'encrypted data is empty';
  if (object.keyID === '' || object.keyID.length > 128) return 'keyID is empty or longer than 128 characters';
  if (object.encryptedDEKSource.length === 0 || object.encryptedDEKSource.length > 1024) return 'encryptedDEKSource is empty or longer than 1024 bytes';
  if (object.encryptedDEKSourceType !== AES_GCM_KEY) return `encryptedDEKSourceType ${object.encryptedDEKSourceType} is not AES_GCM_KEY, the only one this server writes`;
  return undefined;
}

export class KmsV2Envelope {
  readonly prefix: Buffer;
  private readonly kek: Buffer;
  /** Names the key-encryption key, as a KMS plugin's key ID does; it changes with the data key. */
  readonly keyID: string;
  private dek!: Buffer;
  private wrappedDek!: Buffer;
  private writes = 0;
  private readonly deks = new Map<string, Buffer>();

  constructor(readonly name: string, dataKey: Buffer) {
    this.prefix = Buffer.from(`k8s:enc:kms:v2:${name}:`);
    this.kek = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'nautilus kms v2 key-encryption key', 32));
    this.keyID = `nautilus-data-key-${createHash('sha256').update(this.kek).digest('hex').slice(0, 16)}`;
    this.rotateDek();
  }

  /** The stored form (without the prefix) of `plaintext` at `location`. */
  seal(location: string, plaintext: Uint8Array): Buffer {
    if (++this.writes > DEK_WRITES) this.rotateDek();
    return Buffer.from(encodeEncryptedObject({
      encryptedData: sealAesGcm(this.dek, Buffer.from(location), plaintext),
      keyID: this.keyID,
      encryptedDEKSource: this.wrappedDek,
      annotations: new Map(),
      encryptedDEKSourceType: AES_GCM_KEY,
    }));
  }

  /** The plaintext of a stored form (without the prefix); throws with the reason. */
  open(location: string, body: Uint8Array): Buffer {
    let object: EncryptedObject;
    try {
      object = decodeEncryptedObject(body);
    } catch {
      throw new Error('the stored value is not a KMS v2 EncryptedObject');
    }
    const invalid = validate(object);
    if (invalid) throw new Error(`invalid KMS v2 EncryptedObject: ${invalid}`);
    if (object.keyID !== this.keyID) throw new Error(`the DEK was wrapped under key ${JSON.stringify(object.keyID)}, not this data key's ${JSON.stringify(this.keyID)}`);
    const cacheKey = Buffer.from(object.encryptedDEKSource).toString('base64');
    let dek = this.deks.get(cacheKey);
    if (!dek) {
      try {
        dek = openAesGcm(this.kek, Buffer.from(object.keyID), object.encryptedDEKSource);
      } catch {
        throw new Error('the wrapped DEK does not open with this data key');
      }
      if (this.deks.size >= MAX_CACHED_DEKS) this.deks.delete(this.deks.keys().next().value!);
      this.deks.set(cacheKey, dek);
    }
    try {
      return openAesGcm(dek, Buffer.from(location), object.encryptedData);
    } catch {
      throw new Error('the value does not decrypt with its DEK (damaged, or moved from another object)');
    }
  }

  private rotateDek(): void {
    this.dek = randomBytes(32);
    this.wrappedDek = sealAesGcm(this.kek, Buffer.from(this.keyID), this.dek);
    this.deks.set(this.wrappedDek.toString('base64'), this.dek);
    this.writes = 0;
  }
}
