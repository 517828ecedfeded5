/**
 * The cluster's certificates: a CA kept in the data dir (its key sealed), a serving certificate issued at every
 * start for a key created inside the process (the key remote attestation binds), and client
 * certificates for users (the admin kubeconfig).
 */
import { webcrypto, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import type { SealedKeyFiles } from '../storage/keys/sealed-key-files.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface KeyAndCert {
  keyPem: string;
  certPem: string;
}

async function newKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, true, ['sign']);
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

export async function createCa(commonName: string): Promise<KeyAndCert> {
  const keys = await newKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${commonName}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3650 * DAY_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { keyPem: await privateKeyPem(keys.privateKey), certPem: cert.toString('pem') + '\n' };
}

export interface IssueRequest {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: 'server' | 'client';
  validDays: number;
}

export async function issueCertificate(ca: KeyAndCert, request: IssueRequest): Promise<KeyAndCert> {
  const keys = await newKeyPair();
  const caCert = new x509.X509Certificate(ca.certPem);
  const subject = [`CN=${request.commonName}`, ...(request.organizations ?? []).map((o) => `O=${o}`)].join(', ');
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([request.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth], false),
    await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
  ];
  const names = [...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })), ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value }))];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + request.validDays * DAY_MS),
    signingKey: await importPrivateKey(ca.keyPem),
    publicKey: keys.publicKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
  return { keyPem: await privateKeyPem(keys.privateKey), certPem: cert.toString('pem') + '\n' };
}

/** A new key and a PEM certificate request for it (what a kubelet sends in a CertificateSigningRequest). */
export async function createCertificateRequest(request: { commonName: string; organizations?: string[]; dnsNames?: string[]; ipAddresses?: string[] }): Promise<{ keyPem: string; requestPem: string }> {
  const keys = await newKeyPair();
  const names = [...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })), ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value }))];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [`CN=${request.commonName}`, ...(request.organizations ?? []).map((o) => `O=${o}`)].join(', '),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: names.length ? [new x509.SubjectAlternativeNameExtension(names, false)] : [],
  });
  return { keyPem: await privateKeyPem(keys.privateKey), requestPem: csr.toString('pem') + '\n' };
}

/**
 * Loads the CA kept in pki/ (or its `subdir`, e.g. front-proxy), creating it on first start: the
 * certificate plain, the key sealed with the data key.
 */
export async function loadOrCreateCa(keys: SealedKeyFiles, subdir = ''): Promise<KeyAndCert> {
  const certPath = join(keys.root, subdir, 'ca.crt');
  const keyPem = await keys.read(join(subdir, 'ca.key'));
  if (keyPem !== undefined && existsSync(certPath)) return { keyPem, certPem: await readFile(certPath, 'utf8') };
  await mkdir(join(keys.root, subdir), { recursive: true, mode: 0o700 });
  const ca = await createCa('nautilus-ca');
  await keys.write(join(subdir, 'ca.key'), ca.keyPem);
  await writeFile(certPath, ca.certPem, { mode: 0o644 });
  return ca;
}

/** The DER SubjectPublicKeyInfo of a certificate: what attestation binds. */
export function spkiOf(certPem: string): Buffer {
  return new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
}

/** A PKCS#10 request as the signer sees it. */
export interface CertificateRequestInfo {
  subjectCommonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  /** Emails and URIs: what the kubelet and client signers refuse. */
  otherNames: string[];
  signatureValid: boolean;
}

function parseRequest(pem: string): x509.Pkcs10CertificateRequest {
  return new x509.Pkcs10CertificateRequest(pem);
}

function requestNames(request: x509.Pkcs10CertificateRequest): x509.JsonGeneralName[] {
  const san = request.extensions.find((extension): extension is x509.SubjectAlternativeNameExtension => extension instanceof x509.SubjectAlternativeNameExtension);
  return san ? san.names.toJSON() : [];
}

/** Reads a PEM certificate request (throws on anything that is not one). */
export async function readCertificateRequest(pem: string): Promise<CertificateRequestInfo> {
  const request = parseRequest(pem);
  const subject = request.subjectName.toJSON();
  const values = (type: string) => subject.flatMap((rdn) => rdn[type] ?? []);
  const names = requestNames(request);
  return {
    subjectCommonName: values('CN')[0] ?? '',
    organizations: values('O'),
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
    otherNames: names.filter((n) => n.type !== 'dns' && n.type !== 'ip').map((n) => `${n.type}:${n.value}`),
    signatureValid: await request.verify(),
  };
}

const KEY_USAGE_FLAGS: Record<string, number> = {
  'digital signature': x509.KeyUsageFlags.digitalSignature,
  'content commitment': x509.KeyUsageFlags.nonRepudiation,
  'key encipherment': x509.KeyUsageFlags.keyEncipherment,
  'key agreement': x509.KeyUsageFlags.keyAgreement,
  'data encipherment': x509.KeyUsageFlags.dataEncipherment,
  'cert sign': x509.KeyUsageFlags.keyCertSign,
  'crl sign': x509.KeyUsageFlags.cRLSign,
};
const EXTENDED_KEY_USAGES: Record<string, string> = {
  'server auth': x509.ExtendedKeyUsage.serverAuth,
  'client auth': x509.ExtendedKeyUsage.clientAuth,
  'code signing': x509.ExtendedKeyUsage.codeSigning,
  'email protection': x509.ExtendedKeyUsage.emailProtection,
  timestamping: x509.ExtendedKeyUsage.timeStamping,
  'ocsp signing': x509.ExtendedKeyUsage.ocspSigning,
};

/** Signs a certificate request with the CA: the request's subject, key and names, the given usages and lifetime. */
export async function signCertificateRequest(ca: KeyAndCert, pem: string, options: { usages: readonly string[]; notAfter: Date }): Promise<string> {
  const request = parseRequest(pem);
  const caCert = new x509.X509Certificate(ca.certPem);
  const keyUsage = options.usages.reduce((flags, usage) => flags | (KEY_USAGE_FLAGS[usage] ?? 0), 0);
  const extended = options.usages.flatMap((usage) => (EXTENDED_KEY_USAGES[usage] ? [EXTENDED_KEY_USAGES[usage]] : []));
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
  ];
  if (keyUsage) extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
  if (extended.length) extensions.push(new x509.ExtendedKeyUsageExtension(extended, false));
  const names = requestNames(request);
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: request.subjectName,
    issuer: caCert.subject,
    // Upstream back-dates five minutes for clock skew.
    notBefore: new Date(Date.now() - 5 * 60_000),
    notAfter: options.notAfter,
    signingKey: await importPrivateKey(ca.keyPem),
    publicKey: request.publicKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
  return cert.toString('pem') + '\n';
}
