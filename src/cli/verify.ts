/** `nautilus verify`: check a server's (or a file's) attestation evidence against a policy. */
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { kubeconfigYaml } from '../server/kubeconfig.js';
import type { AttestationDocumentBody } from '../tee/attestation-endpoint.js';
import { parseCollateralJson } from '../tee/dcap-collateral.js';
import { VerificationError } from '../tee/errors.js';
import { verifyCheckpointKey } from '../tee/checkpoint-key.js';
import { decodeEvidenceFile, detectEvidenceFormat } from '../tee/evidence-input.js';
import { PolicyError, checkPolicy, parsePolicy, type AttestationPolicy } from '../tee/policy.js';
import { DOCUMENT_FORMATS, checkEvidenceBinding, verifyEvidence, type DocumentFormat, type EvidenceVerifyOptions, type VerifiedEvidence } from '../tee/verify-evidence.js';
import { parseCertificate } from '../tee/x509-chain.js';
import { UsageError, isParseArgsError, reportUsageError } from './usage.js';

const USAGE = `Usage:
  nautilus verify https://HOST:PORT --policy FILE [--write-kubeconfig FILE [--credentials-from KUBECONFIG]]
                  [--collateral FILE] [--vcek FILE]
                  [--allow-simulated --ca-file ROOT.pem]
  nautilus verify --document FILE [--format ${DOCUMENT_FORMATS.join('|')}] [--at ISO-TIME]
                  [--collateral FILE] [--vcek FILE] [--policy FILE] [--allow-simulated --ca-file ROOT.pem]

Online: connects over TLS, fetches /attestation with a fresh nonce, verifies the evidence, that it
is bound to the certificate the server presented and to the nonce, and the policy; then writes a
kubeconfig pinning that certificate, with the user of KUBECONFIG's current context when
--credentials-from is given (else add your credentials to its user entry). Offline: verifies a document file (raw, base64 or hex).
Exit code 0 only when every check passed; 1 when a check failed; 2 for usage errors.
`;

const OPTIONS = {
  policy: { type: 'string' },
  'write-kubeconfig': { type: 'string' },
  'credentials-from': { type: 'string' },
  'allow-simulated': { type: 'boolean', default: false },
  'ca-file': { type: 'string' },
  document: { type: 'string' },
  format: { type: 'string' },
  at: { type: 'string' },
  collateral: { type: 'string' },
  vcek: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const FETCH_TIMEOUT_MS = 15_000;
const MAX_RESPONSE_BYTES = 1 << 20;


/** Where a command writes; tests pass collectors instead of the process streams. */
export interface CommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

export async function run(argv: string[], io: CommandIo = process): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    const policy = values.policy ? parsePolicy(await readFile(values.policy, 'utf8')) : undefined;
    const options: EvidenceVerifyOptions = {
      allowSimulated: values['allow-simulated'],
      ...(values['ca-file'] && { simulatedRoot: parseCertificate(await readFile(values['ca-file']), `--ca-file ${values['ca-file']}`) }),
      ...(values.collateral && { collateral: parseCollateralJson(await readFile(values.collateral, 'utf8')) }),
      ...(values.vcek && { vcek: decodeEvidenceFile(await readFile(values.vcek)) }),
      ...(values.at && { at: parseTime(values.at) }),
    };
    if (values.document) {
      if (positionals.length > 0) throw new UsageError('give either a server URL or --document, not both');
      return await verifyDocumentFile(io, values.document, values.format, options, policy);
    }
    if (positionals.length !== 1) throw new UsageError('give one server URL (https://host:port) or --document FILE');
    if (!policy) throw new UsageError('online verification needs --policy: without expected measurements any TEE would pass (see `nautilus measure`)');
    if (values.at) throw new UsageError('--at only applies to --document');
    if (values['credentials-from'] && !values['write-kubeconfig']) throw new UsageError('--credentials-from needs --write-kubeconfig FILE');
    // Read before connecting, so a bad credentials file fails fast.
    const credentials = values['credentials-from'] ? await userFromKubeconfig(values['credentials-from']) : undefined;
    return await verifyServer(io, positionals[0]!, policy, options, values['write-kubeconfig'], credentials);
  } catch (error) {
    return reportError(io, error);
  }
}

function reportError(io: CommandIo, error: unknown): number {
  if (error instanceof UsageError || isParseArgsError(error)) return reportUsageError(io.stderr, 'verify', (error as Error).message);
  const prefix = error instanceof VerificationError ? 'verification failed' : error instanceof PolicyError ? 'invalid policy' : 'error';
  io.stderr.write(`${prefix}: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

function parseTime(text: string): Date {
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw new UsageError(`--at ${text} is not an ISO-8601 time`);
  return at;
}

async function verifyDocumentFile(io: CommandIo, file: string, formatFlag: string | undefined, options: EvidenceVerifyOptions, policy: AttestationPolicy | undefined): Promise<number> {
  if (formatFlag !== undefined && !DOCUMENT_FORMATS.includes(formatFlag as DocumentFormat)) {
    throw new UsageError(`--format must be one of ${DOCUMENT_FORMATS.join(', ')}`);
  }
  const evidence = decodeEvidenceFile(await readFile(file));
  const format = (formatFlag as DocumentFormat | undefined) ?? detectEvidenceFormat(evidence);
  const result = verifyEvidence(format, evidence, options);
  printEvidence(io, format, result, options.at ?? new Date());
  return policy ? reportPolicy(io, result, policy) : 0;
}

function reportPolicy(io: CommandIo, result: VerifiedEvidence, policy: AttestationPolicy): number {
  const failures = checkPolicy(result, policy);
  if (failures.length === 0) {
    io.stdout.write('policy: satisfied\n');
    return 0;
  }
  io.stdout.write(`policy: NOT satisfied\n${failures.map((failure) => `  - ${failure}\n`).join('')}`);
  return 1;
}

interface FetchedAttestation {
  readonly body: AttestationDocumentBody;
  /** The leaf the server presented on the connection that carried the evidence, then its issuers. */
  readonly presentedChain: X509Certificate[];
}

async function verifyServer(io: CommandIo, serverUrl: string, policy: AttestationPolicy, options: EvidenceVerifyOptions, kubeconfigPath: string | undefined, credentials?: KubeconfigUser): Promise<number> {
  const url = new URL(serverUrl);
  if (url.protocol !== 'https:') throw new UsageError(`server URL must be https://, got ${url.protocol}`);
  const nonce = randomBytes(32);
  const { body, presentedChain } = await fetchAttestation(url, nonce);
  const leaf = presentedChain[0]!;
  if (body.apiVersion !== 'nautilus.dev/v1' || body.kind !== 'AttestationDocument') throw new VerificationError('server answered /attestation with something other than a nautilus.dev/v1 AttestationDocument');
  if (body.nonce !== nonce.toString('hex')) throw new VerificationError('server did not echo the nonce sent (replayed or foreign evidence)');
  if (!DOCUMENT_FORMATS.includes(body.format as DocumentFormat)) throw new VerificationError(`server sent evidence of unknown format ${String(body.format)}`);
  const format = body.format as DocumentFormat;
  const at = new Date();
  const result = verifyEvidence(format, Buffer.from(body.document, 'base64'), { ...options, at });
  checkEvidenceBinding(result, { publicKeySpkiDer: leaf.publicKey.export({ type: 'spki', format: 'der' }), nonce });
  printEvidence(io, format, result, at);
  io.stdout.write(`binding: evidence vouches for the presented TLS key (certificate SHA-256 ${leaf.fingerprint256}) and the nonce\n`);
  if (body.checkpointKey) {
    const checkpointKey = verifyCheckpointKey(body.checkpointKey, leaf.publicKey);
    const fingerprint = createHash('sha256').update(checkpointKey.export({ type: 'spki', format: 'der' })).digest('hex');
    io.stdout.write(`checkpoints: signed by key SHA-256 ${fingerprint}, vouched for by the attested TLS key\n`);
  }
  const exitCode = reportPolicy(io, result, policy);
  if (exitCode !== 0 || !kubeconfigPath) return exitCode;
  // Pin the CA the server chains to when it sends one, else the presented certificate itself.
  const pinned = presentedChain.length > 1 ? presentedChain[presentedChain.length - 1]! : leaf;
  const config = parseYaml(kubeconfigYaml({ server: url.origin, caPem: pinned.toString(), ...(credentials && { userName: credentials.name }) })) as { users: KubeconfigUser[] };
  if (credentials) config.users = [credentials];
  await writeFile(kubeconfigPath, stringifyYaml(config), { mode: 0o600 });
  const next = credentials ? ` with the credentials of user ${JSON.stringify(credentials.name)}` : '; add your credentials to its user entry';
  io.stdout.write(`kubeconfig: wrote ${kubeconfigPath} pinning ${pinned.subject.replace(/\n/g, ', ')}${next}\n`);
  return 0;
}

interface KubeconfigUser {
  readonly name: string;
  readonly user: Record<string, unknown>;
}

/** File references kubectl resolves against the kubeconfig's own directory. */
const USER_FILE_FIELDS = ['client-certificate', 'client-key', 'tokenFile'];

/**
 * The user entry of a kubeconfig's current context, as written there (certificates, token, exec
 * plugin…), with relative file references made absolute so they still work from another file.
 */
async function userFromKubeconfig(path: string): Promise<KubeconfigUser> {
  let config: { 'current-context'?: string; contexts?: { name?: string; context?: { user?: string } }[]; users?: { name?: string; user?: Record<string, unknown> }[] };
  try {
    config = (parseYaml(await readFile(path, 'utf8')) ?? {}) as typeof config;
  } catch (error) {
    throw new UsageError(`--credentials-from ${path}: ${(error as Error).message}`);
  }
  const contextName = config['current-context'] ?? config.contexts?.[0]?.name;
  const userName = config.contexts?.find((context) => context.name === contextName)?.context?.user;
  const entry = config.users?.find((user) => user.name === userName);
  if (!entry?.name || !entry.user || typeof entry.user !== 'object') {
    throw new UsageError(`--credentials-from ${path}: its current context ${JSON.stringify(contextName ?? '')} names no user entry`);
  }
  const user: Record<string, unknown> = { ...entry.user };
  for (const field of USER_FILE_FIELDS) {
    const value = user[field];
    if (typeof value === 'string' && !isAbsolute(value)) user[field] = resolve(dirname(resolve(path)), value);
  }
  return { name: entry.name, user };
}

/**
 * The certificate is captured on the very connection that returns the evidence, so the binding
 * check covers the server that answered rather than whichever one a later connection reaches.
 * No CA check here: the attestation is what establishes trust.
 */
function fetchAttestation(url: URL, nonce: Buffer): Promise<FetchedAttestation> {
  return new Promise((resolve, reject) => {
    const path = `/attestation?nonce=${nonce.toString('hex')}`;
    const request = httpsRequest(url, { path, method: 'GET', rejectUnauthorized: false, agent: false, timeout: FETCH_TIMEOUT_MS, headers: { accept: 'application/json' } }, (response) => {
      const socket = response.socket as TLSSocket;
      const presentedChain = peerChain(socket);
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) request.destroy(new Error('attestation response is too large'));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode !== 200) return reject(new Error(`GET ${path} answered ${response.statusCode}: ${text.slice(0, 300)}`));
        if (presentedChain.length === 0) return reject(new Error('server presented no TLS certificate'));
        try {
          resolve({ body: JSON.parse(text) as AttestationDocumentBody, presentedChain });
        } catch {
          reject(new Error('attestation response is not JSON'));
        }
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url.origin} within ${FETCH_TIMEOUT_MS / 1000}s`)));
    request.on('error', reject);
    request.end();
  });
}

function peerChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let current = socket.getPeerCertificate(true);
  while (current?.raw && !chain.some((certificate) => certificate.raw.equals(current.raw))) {
    chain.push(new X509Certificate(current.raw));
    current = current.issuerCertificate;
  }
  return chain;
}

function printEvidence(io: CommandIo, format: DocumentFormat, result: VerifiedEvidence, at: Date): void {
  const lines: [string, string][] = [['format', format], ['verified', `signatures and certificate chain at ${at.toISOString()}`]];
  const hex = (buffer: Buffer | undefined): string => buffer?.toString('hex') ?? '(none)';
  switch (result.format) {
    case 'nitro':
      lines.push(['moduleId', result.moduleId], ['timestamp', result.timestamp.toISOString()]);
      [...result.pcrs].sort(([a], [b]) => a - b).forEach(([index, digest]) => lines.push([`PCR${index}`, hex(digest)]));
      lines.push(['publicKey', hex(result.publicKey)], ['userData', hex(result.userData)], ['nonce', hex(result.nonce)]);
      break;
    case 'sev-snp':
      lines.push(['measurement', hex(result.measurement)], ['hostData', hex(result.hostData)], ['reportData', hex(result.reportData)],
        ['policy', `0x${result.policy.toString(16)}`], ['vmpl', String(result.vmpl)], ['chipId', hex(result.chipId)],
        ['reportedTcb', `bootloader=${result.reportedTcb.bootloader} tee=${result.reportedTcb.tee} snp=${result.reportedTcb.snp} microcode=${result.reportedTcb.microcode}`]);
      break;
    case 'tdx':
      lines.push(['mrtd', hex(result.mrTd)], ...result.rtmrs.map((rtmr, index): [string, string] => [`rtmr${index}`, hex(rtmr)]),
        ['mrConfigId', hex(result.mrConfigId)], ['reportData', hex(result.reportData)], ['tdAttributes', hex(result.tdAttributes)]);
      break;
    case 'sgx':
      lines.push(['mrenclave', hex(result.mrEnclave)], ['mrsigner', hex(result.mrSigner)], ['isvProdId', String(result.isvProdId)],
        ['isvSvn', String(result.isvSvn)], ['reportData', hex(result.reportData)]);
      break;
  }
  if (result.format === 'tdx' || result.format === 'sgx') {
    lines.push(['fmspc', result.fmspc], ['tcbStatus', result.tcbStatus], ['advisoryIds', result.advisoryIds.join(', ') || '(none)']);
  }
  lines.push(['debug', String(result.debug)]);
  io.stdout.write(lines.map(([key, value]) => `${key}: ${value}\n`).join(''));
}
