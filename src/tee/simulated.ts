import { KeyObject, createHash, createPrivateKey, randomBytes, sign, webcrypto } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as peculiar from '@peculiar/x509';
import { bindingReportData, type EvidenceBinding } from './binding.js';
import { encodeCbor } from './cbor.js';
import { SIMULATED_ORGANIZATION, coseSign1SigStructure } from './nitro.js';
import type { AttestationProvider } from './provider.js';

/**
 * A stand-in for the Nitro Secure Module on machines without a TEE: it issues documents in the
 * exact Nitro format (COSE_Sign1, ES384, cabundle) so the real Nitro verifier checks them, but
 * under a locally generated root marked "NOT SECURE" that verifiers refuse unless told otherwise.
 */
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' } as const;
const ROOT_FILE = 'simulated-nitro-root.pem';
const ROOT_KEY_FILE = 'simulated-nitro-root.key.pem';
const ROOT_LIFETIME_MS = 10 * 365 * 24 * 3600_000;
// Like NSM leaf certificates: short-lived, one per document.
const LEAF_LIFETIME_MS = 3 * 3600_000;
const CLOCK_SKEW_MS = 60_000;
const PCR_COUNT = 16;

// Passed explicitly rather than set globally, so other users of @peculiar/x509 are unaffected.
const CRYPTO = webcrypto as unknown as Crypto;

interface SimulatedRoot {
  readonly certificate: peculiar.X509Certificate;
  readonly privateKey: CryptoKey;
}

export interface SimulatedProvider extends AttestationProvider {
  readonly format: 'simulated';
  /** PEM of the simulated root, for verifiers run with --allow-simulated --ca-file. */
  readonly rootPem: string;
}

/**
 * Creates the simulated provider. With a data directory the root key persists there, so the
 * root a client pinned stays valid across restarts; without one it lives in memory.
 */
export async function createSimulatedProvider(options: { dataDir?: string; codeRoot?: string } = {}): Promise<SimulatedProvider> {
  const root = options.dataDir ? await loadOrCreateRoot(options.dataDir) : await createRoot();
  const pcrs = await simulatedPcrs(options.codeRoot);
  const moduleId = `sim-${randomBytes(8).toString('hex')}`;
  return {
    format: 'simulated',
    rootPem: root.certificate.toString('pem'),
    evidence: (binding) => issueDocument(root, pcrs, moduleId, binding),
  };
}

async function issueDocument(root: SimulatedRoot, pcrs: Map<number, Buffer>, moduleId: string, binding: EvidenceBinding): Promise<Buffer> {
  const leafKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const leaf = await peculiar.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${moduleId}, O=${SIMULATED_ORGANIZATION}`,
    issuer: root.certificate.subject,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + LEAF_LIFETIME_MS),
    signingAlgorithm: ALGORITHM,
    publicKey: leafKeys.publicKey,
    signingKey: root.privateKey,
    extensions: [
      new peculiar.BasicConstraintsExtension(false, undefined, true),
      new peculiar.KeyUsagesExtension(peculiar.KeyUsageFlags.digitalSignature, true),
    ],
  }, CRYPTO);
  const payload = encodeCbor(new Map<string, unknown>([
    ['module_id', moduleId],
    ['digest', 'SHA384'],
    ['timestamp', BigInt(now)],
    ['pcrs', pcrs],
    ['certificate', Buffer.from(leaf.rawData)],
    ['cabundle', [Buffer.from(root.certificate.rawData)]],
    ['public_key', binding.publicKeySpkiDer],
    ['user_data', bindingReportData(binding)],
    ['nonce', binding.nonce ?? null],
  ]));
  const protectedHeader = encodeCbor(new Map([[1, -35]]));
  const signature = sign('sha384', coseSign1SigStructure(protectedHeader, payload), {
    key: KeyObject.from(leafKeys.privateKey),
    dsaEncoding: 'ieee-p1363',
  });
  return encodeCbor([protectedHeader, new Map(), payload, signature]);
}

async function createRoot(): Promise<SimulatedRoot> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const certificate = await peculiar.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=Nautilus simulated Nitro root, O=${SIMULATED_ORGANIZATION}`,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + ROOT_LIFETIME_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new peculiar.BasicConstraintsExtension(true, undefined, true),
      new peculiar.KeyUsagesExtension(peculiar.KeyUsageFlags.keyCertSign | peculiar.KeyUsageFlags.cRLSign, true),
    ],
  }, CRYPTO);
  return { certificate, privateKey: keys.privateKey };
}

async function loadOrCreateRoot(dataDir: string): Promise<SimulatedRoot> {
  const certificatePath = path.join(dataDir, ROOT_FILE);
  const keyPath = path.join(dataDir, ROOT_KEY_FILE);
  try {
    const [certificatePem, keyPem] = await Promise.all([readFile(certificatePath, 'utf8'), readFile(keyPath, 'utf8')]);
    const keyDer = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
    const privateKey = await webcrypto.subtle.importKey('pkcs8', keyDer, ALGORITHM, false, ['sign']);
    return { certificate: new peculiar.X509Certificate(certificatePem), privateKey };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const root = await createRoot();
  await mkdir(dataDir, { recursive: true });
  const keyPem = KeyObject.from(root.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string;
  await writeFile(keyPath, keyPem, { mode: 0o600 });
  await writeFile(certificatePath, root.certificate.toString('pem'));
  return root;
}

const randomSerial = (): string => {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f; // positive INTEGER
  return bytes.toString('hex');
};

/** Directory of the compiled program (dist/src), whose files PCR0 measures. */
export const defaultCodeRoot = (): string => fileURLToPath(new URL('..', import.meta.url));

/**
 * The PCRs the simulated provider reports, computed the same way by `nautilus measure`:
 * PCR0 measures the program (every .js file under the code root, by relative path and SHA-384),
 * PCR1 the runtime (Node.js version and platform), PCR2 marks the simulation. PCR3..15 are zero.
 */
export async function simulatedPcrs(codeRoot = defaultCodeRoot()): Promise<Map<number, Buffer>> {
  const sha384 = (data: string | Buffer): Buffer => createHash('sha384').update(data).digest();
  const files = (await listFiles(codeRoot)).filter((file) => file.endsWith('.js'));
  const program = createHash('sha384');
  for (const file of files) {
    program.update(`${file}\0`).update(sha384(await readFile(path.join(codeRoot, file))));
  }
  const pcrs = new Map<number, Buffer>(Array.from({ length: PCR_COUNT }, (_, index) => [index, Buffer.alloc(48)]));
  pcrs.set(0, program.digest());
  pcrs.set(1, sha384(`node ${process.version} ${process.platform}-${process.arch}`));
  pcrs.set(2, sha384('nautilus simulated TEE'));
  return pcrs;
}

async function listFiles(root: string, relative = ''): Promise<string[]> {
  const entries = await readdir(path.join(root, relative), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const entry of entries) {
    const child = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(root, child)));
    else if (entry.isFile()) files.push(child);
  }
  return files;
}
