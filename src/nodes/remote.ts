/**
 * Virtual nodes in a process of their own, joining a running server over HTTPS as kubelets do:
 * each node authenticates with its own client certificate (`system:node:<name>` in
 * `system:nodes`, issued by the cluster CA) and watches only its own pods
 * (`spec.nodeName=<name>`), as the Node authorizer requires.
 *
 * The certificates are issued here from the cluster's CA files (as kubeadm issues kubelet
 * certificates from the CA on disk); TLS bootstrap through CertificateSigningRequests is not
 * built yet. The admin kubeconfig is used once, to find pod CIDR blocks other nodes hold.
 */
import { readFile } from 'node:fs/promises';
import { issueCertificate, type KeyAndCert } from '../auth/pki.js';
import { SealedKeyFiles } from '../storage/keys/sealed-key-files.js';
import { HttpClient, kubeconfigCredentials } from '../client/http.js';
import { SharedInformer } from '../client/informer.js';
import { NODES, PODS } from '../client/resource-types.js';
import { VirtualNodePool } from './agent.js';
import { kubeletServingCertificate, lazyBackend, nodeProfiles } from './in-process.js';
import { startKubeletServer, type KubeletServer } from './kubelet-server.js';
import { blockOfCidr, MAX_POD_CIDR_BLOCKS } from './pod-addresses.js';

export interface RemoteNodesOptions {
  kubeconfig: string;
  /** Where ca.crt and the sealed ca.key are. */
  pkiDir: string;
  /** The server's data key, which seals ca.key. */
  dataKey: Buffer;
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

export async function startRemoteNodes(options: RemoteNodesOptions): Promise<RemoteNodes> {
  const credentials = kubeconfigCredentials(options.kubeconfig);
  const keyPem = await new SealedKeyFiles(options.pkiDir, options.dataKey).read('ca.key');
  if (keyPem === undefined) throw new Error(`no CA key in ${options.pkiDir}`);
  const ca: KeyAndCert = { certPem: await readFile(`${options.pkiDir}/ca.crt`, 'utf8'), keyPem };
  const admin = new HttpClient(credentials);
  const names = new Set(Array.from({ length: options.count }, (_, i) => `${options.namePrefix}${i}`));
  let blocks: number[];
  try {
    blocks = await freeBlocks(admin, options.count, names);
  } finally {
    admin.close();
  }
  const serving = await kubeletServingCertificate(ca, options.address);
  let pool: VirtualNodePool | undefined;
  const kubelet = await startKubeletServer({ address: options.address, keyPem: serving.keyPem, certPem: serving.certPem, caPem: ca.certPem, backend: lazyBackend(() => pool) });
  const profiles = nodeProfiles({ count: options.count, namePrefix: options.namePrefix, internalIp: options.address, kubeletPort: kubelet.port }, blocks);
  const clients = new Map<string, HttpClient>();
  const informers = new Map<string, SharedInformer>();
  for (const profile of profiles) {
    const certificate = await issueCertificate(ca, { commonName: `system:node:${profile.name}`, organizations: ['system:nodes'], usage: 'client', validDays: 365 });
    const client = new HttpClient({ server: credentials.server, caPem: credentials.caPem, certPem: certificate.certPem, keyPem: certificate.keyPem, userAgent: `kubelet/v1.32.0 (nautilus virtual node ${profile.name})` });
    clients.set(profile.name, client);
    informers.set(profile.name, new SharedInformer(client, PODS, { fieldSelector: `spec.nodeName=${profile.name}` }));
  }
  pool = new VirtualNodePool({ nodes: profiles, clientFor: (name) => clients.get(name)!, podInformerFor: (name) => informers.get(name)!, workers: options.workers ?? 32 });
  await pool.start();
  const started = pool;
  return {
    pool: started,
    kubelet,
    async stop() {
      await started.stop();
      for (const informer of informers.values()) informer.stop();
      for (const client of clients.values()) client.close();
      await kubelet.close();
    },
  };
}
