/**
 * A stand-in for AWS KMS and the Nitro Secure Module, for tests: the "NSM" produces an attestation
 * document with the real COSE_Sign1/CBOR layout but no AWS signature (none can be made outside AWS),
 * and the "KMS" enforces a key policy on PCR0 and answers with a CMS EnvelopedData built here from
 * RFC 5652, independently of the parser under test.
 */
import crypto from 'node:crypto';
import { Decoder, encode } from 'cbor-x';
import type {
  KmsClient,
  KmsDecryptRequest,
  KmsGenerateDataKeyRequest,
  KmsRecipient,
  KmsResponse,
} from '../../../src/storage/keys/nitro-kms.js';

export function simulatedNsm(pcr0: Buffer) {
  return async (publicKeyDer: Buffer): Promise<Buffer> => {
    const payload = encode(
      new Map<string, unknown>([
        ['module_id', 'i-0123456789abcdef0-enc0123456789abcdef'],
        ['digest', 'SHA384'],
        ['timestamp', Date.now()],
        ['pcrs', new Map([[0, pcr0], [1, Buffer.alloc(48, 1)], [2, Buffer.alloc(48, 2)]])],
        ['certificate', Buffer.alloc(0)],
        ['cabundle', []],
        ['public_key', publicKeyDer],
        ['user_data', null],
        ['nonce', null],
      ]),
    );
    return encode([encode(new Map([[1, -35]])), new Map(), payload, Buffer.alloc(96)]);
  };
}

export type EnvelopeEncoding = 'der' | 'ber-indefinite';

export class SimulatedKms implements KmsClient {
  private readonly master = crypto.randomBytes(32);
  readonly calls: string[] = [];

  constructor(
    private readonly allowedPcr0: Buffer,
    private readonly encoding: EnvelopeEncoding = 'ber-indefinite',
  ) {}

  async generateDataKey(request: KmsGenerateDataKeyRequest): Promise<KmsResponse> {
    this.calls.push('GenerateDataKey');
    const recipient = this.admit(request.Recipient);
    const key = crypto.randomBytes(32);
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.master, iv);
    cipher.setAAD(Buffer.from(JSON.stringify(request.EncryptionContext ?? {})));
    const blob = Buffer.concat([iv, cipher.update(key), cipher.final(), cipher.getAuthTag()]);
    return {
      KeyId: request.KeyId,
      CiphertextBlob: blob.toString('base64'),
      CiphertextForRecipient: envelope(key, recipient, this.encoding).toString('base64'),
    };
  }

  async decrypt(request: KmsDecryptRequest): Promise<KmsResponse> {
    this.calls.push('Decrypt');
    const recipient = this.admit(request.Recipient);
    const blob = Buffer.from(request.CiphertextBlob, 'base64');
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.master, blob.subarray(0, 12));
    decipher.setAAD(Buffer.from(JSON.stringify(request.EncryptionContext ?? {})));
    decipher.setAuthTag(blob.subarray(blob.length - 16));
    let key: Buffer;
    try {
      key = Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]);
    } catch {
      throw new Error('InvalidCiphertextException: the ciphertext or encryption context is wrong');
    }
    return { KeyId: request.KeyId, CiphertextForRecipient: envelope(key, recipient, this.encoding).toString('base64') };
  }

  /** The key policy: only an enclave whose PCR0 matches gets anything. */
  private admit(recipient: KmsRecipient): crypto.KeyObject {
    const decoder = new Decoder({ mapsAsObjects: false });
    const [, , payload] = decoder.decode(Buffer.from(recipient.AttestationDocument, 'base64')) as [Buffer, unknown, Buffer];
    const document = decoder.decode(payload) as Map<string, unknown>;
    const pcr0 = (document.get('pcrs') as Map<number, Buffer>).get(0)!;
    if (!Buffer.from(pcr0).equals(this.allowedPcr0)) {
      throw new Error('AccessDeniedException: kms:RecipientAttestation:PCR0 does not match the key policy');
    }
    return crypto.createPublicKey({ key: Buffer.from(document.get('public_key') as Buffer), format: 'der', type: 'spki' });
  }
}

// --- a small DER/BER writer, from X.690 ---

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

function indefinite(tag: number, ...children: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from([tag, 0x80]), ...children, Buffer.from([0, 0])]);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let v = arc; ; v = Math.floor(v / 128)) {
      groups.unshift(v % 128);
      if (v < 128) break;
    }
    groups.forEach((g, i) => bytes.push(i < groups.length - 1 ? g | 0x80 : g));
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** CMS EnvelopedData to `recipient`: RSAES-OAEP(SHA-256) key transport, AES-256-CBC content. */
export function envelope(content: Buffer, recipient: crypto.KeyObject, encoding: EnvelopeEncoding): Buffer {
  const contentKey = crypto.randomBytes(32);
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv('aes-256-cbc', contentKey, iv);
  const encrypted = Buffer.concat([cipher.update(content), cipher.final()]);
  const encryptedKey = crypto.publicEncrypt({ key: recipient, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, contentKey);
  const sha256 = tlv(0x30, oid('2.16.840.1.101.3.4.2.1'), tlv(0x05));
  const oaepParams = tlv(0x30, tlv(0xa0, sha256), tlv(0xa1, tlv(0x30, oid('1.2.840.113549.1.1.8'), sha256)));
  const keyTrans = tlv(
    0x30,
    tlv(0x02, Buffer.from([2])),
    tlv(0x80, crypto.createHash('sha1').update(recipient.export({ format: 'der', type: 'spki' })).digest()),
    tlv(0x30, oid('1.2.840.113549.1.1.7'), oaepParams),
    tlv(0x04, encryptedKey),
  );
  const contentAlgorithm = tlv(0x30, oid('2.16.840.1.101.3.4.1.42'), tlv(0x04, iv));
  if (encoding === 'der') {
    const info = tlv(0x30, oid('1.2.840.113549.1.7.1'), contentAlgorithm, tlv(0x80, encrypted));
    const enveloped = tlv(0x30, tlv(0x02, Buffer.from([2])), tlv(0x31, keyTrans), info);
    return tlv(0x30, oid('1.2.840.113549.1.7.3'), tlv(0xa0, enveloped));
  }
  // What KMS sends: indefinite lengths, and the ciphertext as a constructed string of pieces.
  const pieces = [encrypted.subarray(0, 16), encrypted.subarray(16)].map((piece) => tlv(0x04, piece));
  const info = indefinite(0x30, oid('1.2.840.113549.1.7.1'), contentAlgorithm, indefinite(0xa0, ...pieces));
  const enveloped = indefinite(0x30, tlv(0x02, Buffer.from([2])), tlv(0x31, keyTrans), info);
  return indefinite(0x30, oid('1.2.840.113549.1.7.3'), indefinite(0xa0, enveloped));
}
