import crypto from 'node:crypto';
import { BerError, type BerNode, octetString, OID, oidHex, parseBer } from './ber.js';

/**
 * Decrypts a CMS EnvelopedData (RFC 5652) addressed to `privateKey`: the shape AWS KMS returns in
 * CiphertextForRecipient for a Nitro enclave — one KeyTransRecipientInfo with RSAES-OAEP/SHA-256,
 * content encrypted with AES-256-CBC. Anything else is refused rather than guessed at.
 */
export function openEnvelopedData(envelope: Buffer, privateKey: crypto.KeyObject): Buffer {
  let root: BerNode;
  try {
    root = parseBer(envelope);
  } catch (error) {
    if (error instanceof BerError) throw new Error(`CiphertextForRecipient is not valid BER: ${error.message}`);
    throw error;
  }
  const fail = (what: string): never => {
    throw new Error(`CiphertextForRecipient: ${what}`);
  };
  if (root.tag !== 0x30 || oidHex(root.children[0]) !== OID.envelopedData) fail('not a CMS EnvelopedData ContentInfo');
  const explicit = root.children[1];
  if (!explicit || explicit.tag !== 0xa0) fail('missing [0] content');
  const enveloped = explicit!.children[0];
  if (!enveloped || enveloped.tag !== 0x30) fail('EnvelopedData is not a SEQUENCE');
  // version, [0] originatorInfo?, recipientInfos SET, encryptedContentInfo, [1] attributes?
  const parts = enveloped!.children.filter((child) => child.tag !== 0xa0 && child.tag !== 0xa1);
  const recipientInfos = parts.find((child) => child.tag === 0x31);
  const encryptedContentInfo = parts[parts.indexOf(recipientInfos!) + 1];
  if (!recipientInfos || !encryptedContentInfo) fail('missing recipientInfos or encryptedContentInfo');

  const keyTrans = recipientInfos!.children.find((info) => info.tag === 0x30);
  if (!keyTrans) fail('no KeyTransRecipientInfo (RSA key transport) among the recipients');
  const [, , keyAlgorithm, encryptedKey] = keyTrans!.children;
  if (oidHex(keyAlgorithm?.children[0]) !== OID.rsaesOaep) fail('key encryption is not RSAES-OAEP');
  if (!usesSha256(keyAlgorithm!.children[1])) fail('RSAES-OAEP does not use SHA-256');
  if (!encryptedKey || encryptedKey.tag !== 0x04) fail('missing encryptedKey');

  const [contentType, contentAlgorithm, encryptedContent] = encryptedContentInfo!.children;
  if (oidHex(contentType) !== OID.data) fail('encrypted content type is not id-data');
  if (oidHex(contentAlgorithm?.children[0]) !== OID.aes256Cbc) fail('content encryption is not AES-256-CBC');
  const iv = contentAlgorithm!.children[1];
  if (!iv || iv.tag !== 0x04 || iv.contents.length !== 16) fail('AES-256-CBC parameters are not a 16-byte IV');
  if (!encryptedContent || (encryptedContent.tag !== 0x80 && encryptedContent.tag !== 0xa0)) fail('missing [0] encryptedContent');

  let contentKey: Buffer;
  try {
    contentKey = crypto.privateDecrypt(
      { key: privateKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      octetString(encryptedKey!),
    );
  } catch {
    return fail('RSA-OAEP unwrap failed: not encrypted to this enclave key');
  }
  if (contentKey.length !== 32) fail(`content key has ${contentKey.length} bytes, expected 32`);
  try {
    const decipher = crypto.createDecipheriv('aes-256-cbc', contentKey, iv!.contents);
    return Buffer.concat([decipher.update(octetString(encryptedContent!)), decipher.final()]);
  } catch {
    return fail('AES-256-CBC decryption failed (bad padding)');
  }
}

/** RSAES-OAEP-params: [0] hashAlgorithm; absent means SHA-1, which KMS never uses. */
function usesSha256(params: BerNode | undefined): boolean {
  const hash = params?.children.find((child) => child.tag === 0xa0);
  return oidHex(hash?.children[0]?.children[0]) === OID.sha256;
}
