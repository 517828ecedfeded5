/**
 * Virtual nodes in a process of their own, joining a running server over HTTPS as kubelets do:
 * each node authenticates with its own client certificate (`system:node:<name>` in
 * `system:nodes`, issued by the cluster CA) and watches only its own pods
 * (`spec.nodeName=<name>`), as the Node authorizer requires.
 *
 * Two ways to an identity:
 * - `kubeconfig` + `pkiDir`: the certificates are issued here from the cluster's CA files (as
 *   kubeadm issues kubelet certificates from the CA on disk); the admin kubeconfig is used once,
 *   to find pod CIDR blocks other nodes hold;
 * - `bootstrapKubeconfig` (a bootstrap token): TLS bootstrap (tls-bootstrap.ts) — each node's
 *   client certificate comes from a CertificateSigningRequest the csrapproving controller approves,
 *   the kubelet endpoints' serving certificate from one kubelet-serving request sent as the first
 *   node, which a person approves (until then the endpoints present a certificate the API server
 *   refuses, as a kubelet waiting for its serving certificate). Without a CA key nor the right to
 *   list nodes, pod CIDR blocks come from a hash of the node name in the upper half of the range
 *   (in-process nodes count from the bottom); two bootstrapped nodes may collide, rarely.
 * Either way each node renews its client certificate before it expires (certificate-rotation.ts):
 * a CSR sent as the node, approved as `selfnodeclient` where an admin has bound that role to
 * `system:nodes` (as kubeadm does), then every connection is reopened with the new certificate.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createCa, issueCertificate, type KeyAndCert } from '../auth/pki.js';
import { log } from '../server/log.js';
import { KUBELET_CLIENT_SIGNER, KUBELET_SERVING_SIGNER, requestNodeCertificate } from './tls-bootstrap.js';
import { SealedKeyFiles } from '../storage/keys/sealed-key-files.js';
import { HttpClient, kubeconfigCredentials } from '../client/http.js';
import { SharedInformer } from '../client/informer.js';
import { NODES, PODS } from '../client/resource-types.js';
import { VirtualNodePool } from './agent.js';
import { ClientCertificateRotation } from './certificate-rotation.js';
import { kubeletServingCertificate, lazyBackend, nodeProfiles } from './in-process.js';
import { startKubeletServer, type KubeletServer } from './kubelet-server.js';
import { blockOfCidr, MAX_POD_CIDR_BLOCKS } from './pod-addresses.js';

export interface RemoteNodesOptions {
  kubeconfig?: string;
  /** Where ca.crt and the sealed ca.key are (with `kubeconfig`). */
  pkiDir?: string;
  /** The server's data key, which seals ca.key (with `kubeconfig`). */
  dataKey?: Buffer;
  /** A kubeconfig with a bootstrap token: TLS bootstrap instead of `kubeconfig` and `pkiDir`. */
  bootstrapKubeconfig?: string;
  /** How long a node waits for its client certificate (default 5 min). */
  bootstrapTimeoutMs?: number;
  count: number;
  namePrefix: string;
  /** The address the kubelet endpoints listen on and the Nodes report as InternalIP. */
  address: string;
  workers?: number;
}

export interface RemoteNodes {
  readonly pool: VirtualNodePool;
  readonly kubelet: KubeletServer;
  stop(): Promise<void>;
}

/** Pod CIDR blocks no other node holds, `count` of them, lowest first. */
async function freeBlocks(admin: HttpClient, count: number, names: Set<string>): Promise<number[]> {
  const used = new Set<number>();
  let next: string | undefined;
  do {
    const page = await admin.list(NODES, undefined, { limit: 500, continue: next });
    for (const node of page.items) {
      if (names.has(node.metadata.name!)) continue; // ours from an earlier run: re-registration keeps its CIDR
      const block = blockOfCidr(node.spec?.podCIDR ?? '');
      if (block !== undefined) used.add(block);
    }
    next = page.continue;
  } while (next);
  const blocks: number[] = [];
  for (let block = 0; block < MAX_POD_CIDR_BLOCKS && blocks.length < count; block++) if (!used.has(block)) blocks.push(block);
  if (blocks.length < count) throw new Error(`only ${blocks.length} free pod CIDR blocks left for ${count} nodes`);
  return blocks;
}

/** A block in the upper half of the range from the node's name (FNV-1a). */
function hashedBlock(name: string): number {
  let hash = 0x811c9dc5;
  for (const char of Buffer.from(name)) hash = Math.imul(hash ^ char, 0x01000193) >>> 0;
  const half = MAX_POD_CIDR_BLOCKS / 2;
  return half + (hash % half);
}

interface Identities {
  server: string;
  caPem: string;
  blocks: number[];
  clientCertificate(name: string): Promise<KeyAndCert>;
  /** The kubelet endpoints' certificate now, and, when bootstrapping, the one to switch to later. */
  serving: KeyAndCert;
  later?: (first: HttpClient, kubelet: KubeletServer, signal: AbortSignal) => void;
}

async function fromCaFiles(options: RemoteNodesOptions, names: Set<string>): Promise<Identities> {
  const credentials = kubeconfigCredentials(options.kubeconfig!);
  const pkiDir = options.pkiDir!;
  const keyPem = await new SealedKeyFiles(pkiDir, options.dataKey!).read('ca.key');
  if (keyPem === undefined) throw new Error(`no CA key in ${pkiDir}`);
  const ca: KeyAndCert = { certPem: await readFile(`${pkiDir}/ca.crt`, 'utf8'), keyPem };
  const admin = new HttpClient(credentials);
  let blocks: number[];
  try {
    blocks = await freeBlocks(admin, options.count, names);
  } finally {
    admin.close();
  }
  return {
    server: credentials.server,
    caPem: ca.certPem,
    blocks,
    clientCertificate: (name) => issueCertificate(ca, { commonName: `system:node:${name}`, organizations: ['system:nodes'], usage: 'client', validDays: 365 }),
    serving: await kubeletServingCertificate(ca, options.address),
  };
}

async function fromBootstrapToken(options: RemoteNodesOptions, names: Set<string>): Promise<Identities> {
  const credentials = kubeconfigCredentials(options.bootstrapKubeconfig!);
  if (!credentials.token) throw new Error(`${options.bootstrapKubeconfig}: the bootstrap kubeconfig's user has no token`);
  if (!credentials.caPem) throw new Error(`${options.bootstrapKubeconfig}: the bootstrap kubeconfig has no certificate-authority(-data)`);
  const bootstrap = new HttpClient({ ...credentials, userAgent: 'kubelet/v1.32.0 (nautilus virtual node bootstrap)' });
  const placeholder = await createCa('nautilus-virtual-kubelet (waiting for its kubelet-serving certificate)');
  const timeoutMs = options.bootstrapTimeoutMs ?? 300_000;
  return {
    server: credentials.server,
    caPem: credentials.caPem,
    blocks: [...names].map(hashedBlock),
    clientCertificate: (name) => requestNodeCertificate(bootstrap, { nodeName: name, signerName: KUBELET_CLIENT_SIGNER, timeoutMs }),
    serving: await issueCertificate(placeholder, { commonName: 'nautilus-virtual-kubelet', ipAddresses: /^[\d.]+$/.test(options.address) ? [options.address] : [], dnsNames: ['localhost'], usage: 'server', validDays: 1 }),
    later(first, kubelet, signal) {
      bootstrap.close();
      const nodeName = [...names][0];
      requestNodeCertificate(first, { nodeName, signerName: KUBELET_SERVING_SIGNER, ipAddresses: /^[\d.]+$/.test(options.address) ? [options.address] : [], dnsNames: [nodeName], timeoutMs: 24 * 3600_000, signal })
        .then((serving) => {
          kubelet.setServingCertificate(serving.keyPem, serving.certPem);
          log.info('virtual nodes: kubelet serving certificate issued', { node: nodeName });
        })
        .catch((error) => {
          if (!signal.aborted) log.warn('virtual nodes: no kubelet serving certificate', { error: (error as Error).message });
        });
    },
  };
}

/** Renews the node's client certificate through a CSR sent as the node, before it expires. */
function rotateClientCertificate(nodeName: string, client: HttpClient, current: KeyAndCert, signal: AbortSignal): ClientCertificateRotation {
  return new ClientCertificateRotation(current, {
    renew: () => requestNodeCertificate(client, { nodeName, signerName: KUBELET_CLIENT_SIGNER, timeoutMs: 5 * 60_000, signal }),
    apply(next) {
      client.setClientCertificate(next.certPem, next.keyPem);
      log.info('virtual nodes: client certificate rotated', { node: nodeName, notAfter: new X509Certificate(next.certPem).validTo });
    },
    onError: (error) => log.warn('virtual nodes: client certificate rotation failed; will retry', { node: nodeName, error: error.message }),
  });
}

export async function startRemoteNodes(options: RemoteNodesOptions): Promise<RemoteNodes> {
  const names = new Set(Array.from({ length: options.count }, (_, i) => `${options.namePrefix}${i}`));
  const identities = options.bootstrapKubeconfig ? await fromBootstrapToken(options, names) : await fromCaFiles(options, names);
  let pool: VirtualNodePool | undefined;
  const kubelet = await startKubeletServer({ address: options.address, keyPem: identities.serving.keyPem, certPem: identities.serving.certPem, caPem: identities.caPem, backend: lazyBackend(() => pool) });
  const profiles = nodeProfiles({ count: options.count, namePrefix: options.namePrefix, internalIp: options.address, kubeletPort: kubelet.port }, identities.blocks);
  const clients = new Map<string, HttpClient>();
  const certificates = new Map<string, KeyAndCert>();
  const informers = new Map<string, SharedInformer>();
  const stopping = new AbortController();
  try {
    for (let i = 0; i < profiles.length; i += 16) {
      const batch = profiles.slice(i, i + 16);
      const issued = await Promise.all(batch.map((profile) => identities.clientCertificate(profile.name)));
      batch.forEach((profile, j) => {
        const client = new HttpClient({ server: identities.server, caPem: identities.caPem, certPem: issued[j].certPem, keyPem: issued[j].keyPem, userAgent: `kubelet/v1.32.0 (nautilus virtual node ${profile.name})` });
        clients.set(profile.name, client);
        certificates.set(profile.name, issued[j]);
        informers.set(profile.name, new SharedInformer(client, PODS, { fieldSelector: `spec.nodeName=${profile.name}` }));
      });
    }
  } catch (error) {
    for (const client of clients.values()) client.close();
    await kubelet.close();
    throw error;
  }
  pool = new VirtualNodePool({ nodes: profiles, clientFor: (name) => clients.get(name)!, podInformerFor: (name) => informers.get(name)!, workers: options.workers ?? 32 });
  await pool.start();
  identities.later?.(clients.get(profiles[0].name)!, kubelet, stopping.signal);
  const rotations = profiles.map((profile) => rotateClientCertificate(profile.name, clients.get(profile.name)!, certificates.get(profile.name)!, stopping.signal));
  const started = pool;
  return {
    pool: started,
    kubelet,
    async stop() {
      stopping.abort();
      for (const rotation of rotations) rotation.stop();
      await started.stop();
      for (const informer of informers.values()) informer.stop();
      for (const client of clients.values()) client.close();
      await kubelet.close();
    },
  };
}
