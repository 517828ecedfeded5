/**
 * `serve --join https://REPLICA`: a new replica gets the cluster's data key and its pki/ (the CA,
 * the service-account and front-proxy keys) from a running one, only after that replica verified
 * the newcomer's attestation against the cluster policy
 * (src/tee/key-release.ts). The newcomer binds an ephemeral X25519 key and the replica's fresh
 * nonce into its evidence; the secrets come back encrypted to that key, so the hosts relaying the
 * exchange see only ciphertext. Without them a replica can reach etcd but opens nothing there.
 * The data key stays in the newcomer's memory; the pki/ files are written to its data directory
 * as the first replica keeps them (so every loader of them works unchanged).
 *
 *   POST /replicas/challenge  → {"nonce": hex}                        (one use, 60 s)
 *   POST /replicas/join       {format, evidence, publicKey, nonce}     → the sealed secrets, or 403
 *
 * The newcomer cannot authenticate the replica it asks (it has no CA yet); it checks instead that
 * the key it receives opens the cluster's state in etcd (the key check), so an impostor's key is
 * refused there.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { dirname, join, relative } from 'node:path';
import { errors } from '../api/status.js';
import { VerificationError } from '../tee/errors.js';
import { generateEphemeralKeyPair, openDataKey, releaseDataKey, type KeyReleaseResponse } from '../tee/key-release.js';
import type { AttestationPolicy } from '../tee/policy.js';
import type { AttestationProvider } from '../tee/provider.js';
import type { DocumentFormat } from '../tee/verify-evidence.js';
import type { Exchange } from './exchange.js';
import { respondJson } from './responses.js';
import { log } from './log.js';

/** What a joining replica receives. */
export interface ClusterSecrets {
  dataKey: Buffer;
  /** The files of the cluster's pki/ directory, by path relative to it. */
  pkiFiles: Record<string, Buffer>;
}

export interface JoinPolicy {
  policy: AttestationPolicy;
  allowSimulated: boolean;
  /** Root of the simulated TEE, trusted for "simulated" evidence when allowSimulated. */
  simulatedRoot?: X509Certificate;
}

const NONCE_TTL_MS = 60_000;
const MAX_OPEN_NONCES = 1000;
const MAX_JOIN_BODY = 256 * 1024;

/** The releasing side: answers /replicas/ on every replica that has a --join-policy. */
export class JoinEndpoint {
  private readonly nonces = new Map<string, number>();

  constructor(private readonly dataKey: Buffer, private readonly pkiDir: string, private readonly policy: JoinPolicy | undefined) {}

  async handle(ex: Exchange, path: string): Promise<void> {
    if (ex.method !== 'POST') throw errors.methodNotAllowed(ex.method, path);
    if (!this.policy) throw errors.forbidden('this replica releases no keys: start it with --join-policy FILE to let attested replicas join');
    if (path === '/replicas/challenge') return respondJson(ex, 200, JSON.stringify({ nonce: this.newNonce() }));
    if (path !== '/replicas/join') throw errors.pathNotFound();
    let body: { format?: string; evidence?: string; publicKey?: string; nonce?: string };
    try {
      body = JSON.parse((await ex.readBody(MAX_JOIN_BODY)).toString('utf8'));
    } catch {
      throw errors.badRequest('a join request is JSON: {"format", "evidence", "publicKey", "nonce"}');
    }
    if (typeof body.format !== 'string' || typeof body.evidence !== 'string' || typeof body.publicKey !== 'string' || typeof body.nonce !== 'string') {
      throw errors.badRequest('a join request needs format, evidence (base64), publicKey (base64 SPKI) and nonce (hex)');
    }
    if (!this.takeNonce(body.nonce)) throw errors.forbidden('join refused: the nonce is unknown, used or expired; ask /replicas/challenge for a new one');
    const files: Record<string, string> = {};
    for (const [path, content] of Object.entries(await readTree(this.pkiDir))) files[path] = content.toString('base64');
    const bundle = Buffer.from(JSON.stringify({ dataKey: this.dataKey.toString('base64'), files }));
    try {
      const { response, evidence } = releaseDataKey(
        { format: body.format as DocumentFormat, evidence: Buffer.from(body.evidence, 'base64'), publicKeySpkiDer: Buffer.from(body.publicKey, 'base64') },
        bundle,
        { policy: this.policy.policy, nonce: Buffer.from(body.nonce, 'hex'), allowSimulated: this.policy.allowSimulated, simulatedRoot: this.policy.simulatedRoot },
      );
      log.info('released the cluster keys to an attested replica', { format: evidence.format });
      respondJson(ex, 200, JSON.stringify({
        ephemeralPublicKey: response.ephemeralPublicKeySpkiDer.toString('base64'),
        iv: response.iv.toString('base64'),
        ciphertext: response.ciphertext.toString('base64'),
        tag: response.tag.toString('base64'),
      }));
    } catch (error) {
      if (!(error instanceof VerificationError)) throw error;
      log.info('refused to release the cluster keys', { reason: error.message });
      throw errors.forbidden(`join refused: ${error.message}`);
    }
  }

  private newNonce(): string {
    const now = Date.now();
    for (const [nonce, expires] of this.nonces) if (expires < now) this.nonces.delete(nonce);
    if (this.nonces.size >= MAX_OPEN_NONCES) throw errors.tooManyRequests('too many join challenges are open; retry later');
    const nonce = randomBytes(32).toString('hex');
    this.nonces.set(nonce, now + NONCE_TTL_MS);
    return nonce;
  }

  private takeNonce(nonce: string): boolean {
    const expires = this.nonces.get(nonce);
    this.nonces.delete(nonce);
    return expires !== undefined && expires >= Date.now();
  }
}

/** The joining side: proves itself to `url` with `provider` and returns the cluster's secrets. */
export async function joinCluster(url: string, provider: AttestationProvider | undefined): Promise<ClusterSecrets> {
  if (!provider) throw new Error('--join needs an attestation provider (--tee nitro|tdx|sev-snp|simulated): the cluster releases its keys only to attested replicas');
  const { nonce } = (await postJson(new URL('/replicas/challenge', url), {})) as { nonce: string };
  const keys = generateEphemeralKeyPair();
  const evidence = await provider.evidence({ publicKeySpkiDer: keys.publicKeySpkiDer, nonce: Buffer.from(nonce, 'hex') });
  const answer = (await postJson(new URL('/replicas/join', url), {
    format: provider.format,
    evidence: evidence.toString('base64'),
    publicKey: keys.publicKeySpkiDer.toString('base64'),
    nonce,
  })) as Record<string, string>;
  const sealed: KeyReleaseResponse = {
    ephemeralPublicKeySpkiDer: Buffer.from(answer.ephemeralPublicKey ?? '', 'base64'),
    iv: Buffer.from(answer.iv ?? '', 'base64'),
    ciphertext: Buffer.from(answer.ciphertext ?? '', 'base64'),
    tag: Buffer.from(answer.tag ?? '', 'base64'),
  };
  const bundle = JSON.parse(openDataKey(sealed, keys).toString('utf8')) as { dataKey: string; files: Record<string, string> };
  const pkiFiles: Record<string, Buffer> = {};
  for (const [path, content] of Object.entries(bundle.files ?? {})) pkiFiles[path] = Buffer.from(content, 'base64');
  return { dataKey: Buffer.from(bundle.dataKey, 'base64'), pkiFiles };
}

/** Writes the released pki/ files (mode 0600), refusing any path that would leave the directory. */
export async function writeClusterFiles(pkiDir: string, files: Record<string, Buffer>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    if (!/^[\w.-]+(\/[\w.-]+)*$/.test(path) || path.split('/').includes('..')) throw new Error(`join: refusing the released file name ${JSON.stringify(path)}`);
    const target = join(pkiDir, path);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await writeFile(target, content, { mode: 0o600 });
  }
}

async function readTree(dir: string): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {};
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    files[relative(dir, full)] = await readFile(full);
  }
  return files;
}

function postJson(url: URL, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // No CA to check the replica against yet: what comes back is checked against etcd instead.
    const request = httpsRequest(url, { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' }, timeout: 15_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode !== 200) {
          let message = text;
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? text;
          } catch {
            // not a Status: keep the text
          }
          reject(new Error(`${url.origin} refused to let this replica join (${response.statusCode}): ${message}`));
          return;
        }
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new Error(`${url.origin} answered the join with something other than JSON`));
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', (error) => reject(new Error(`cannot reach ${url.origin} to join: ${error.message}`)));
    request.end(JSON.stringify(body));
  });
}
