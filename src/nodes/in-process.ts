/**
 * `nautilus serve --virtual-nodes N`: N virtual kubelets inside the server process. They read
 * pods from the process's shared pod informer (one cache for all, indexed by node) and write
 * through the in-process client, each as its own `system:node:<name>`.
 */
import { nodeUser } from '../auth/system-users.js';
import type { InProcessClient } from '../client/in-process.js';
import type { InformerFactory } from '../client/informer-factory.js';
import { PODS } from '../client/resource-types.js';
import { VirtualNodePool } from './agent.js';
import { DEFAULT_CAPACITY, type NodeProfile } from './node-object.js';
import { podCidrBlock } from './pod-addresses.js';
import { startKubeletServer, type KubeletBackend } from './kubelet-server.js';
import { issueCertificate, type KeyAndCert } from '../auth/pki.js';

export const DEFAULT_NODE_NAME_PREFIX = 'virtual-node-';
const ZONES = ['zone-a', 'zone-b', 'zone-c'];

export interface VirtualNodesOptions {
  count: number;
  namePrefix?: string;
  /** The first pod CIDR block (see pod-addresses.ts) and node index. */
  firstIndex?: number;
  internalIp: string;
  kubeletPort: number;
}

/** The profiles of `count` nodes named <prefix><index>, each with its own /24 and a zone round-robin. */
export function nodeProfiles(options: VirtualNodesOptions, blocks?: readonly number[]): NodeProfile[] {
  const prefix = options.namePrefix ?? DEFAULT_NODE_NAME_PREFIX;
  const first = options.firstIndex ?? 0;
  return Array.from({ length: options.count }, (_, i) => ({
    name: `${prefix}${first + i}`,
    internalIp: options.internalIp,
    kubeletPort: options.kubeletPort,
    podCidr: podCidrBlock(blocks?.[i] ?? first + i),
    zone: ZONES[(first + i) % ZONES.length],
    capacity: { ...DEFAULT_CAPACITY },
  }));
}

export interface InProcessNodesDeps {
  client: InProcessClient;
  informers: InformerFactory;
  /** The cluster CA: it issues the kubelet endpoints' serving certificate and vouches for the API server's client one. */
  ca: KeyAndCert;
}

export interface RunningVirtualNodes {
  readonly pool: VirtualNodePool;
  readonly kubeletPort: number;
  stop(): Promise<void>;
}

/** The kubelet endpoints' certificate: for the address the API server dials and any node name. */
export function kubeletServingCertificate(ca: KeyAndCert, address: string): Promise<KeyAndCert> {
  return issueCertificate(ca, { commonName: 'nautilus-virtual-kubelet', dnsNames: ['localhost'], ipAddresses: /^[\d.]+$/.test(address) ? [address] : [], usage: 'server', validDays: 365 });
}

export async function startInProcessVirtualNodes(deps: InProcessNodesDeps, options: Omit<VirtualNodesOptions, 'kubeletPort'>): Promise<RunningVirtualNodes> {
  const pods = deps.informers.informer(PODS);
  let pool: VirtualNodePool | undefined;
  const serving = await kubeletServingCertificate(deps.ca, options.internalIp);
  const kubelet = await startKubeletServer({ address: options.internalIp, keyPem: serving.keyPem, certPem: serving.certPem, caPem: deps.ca.certPem, backend: lazyBackend(() => pool) });
  pool = new VirtualNodePool({
    nodes: nodeProfiles({ ...options, kubeletPort: kubelet.port }),
    clientFor: (name) => deps.client.as(nodeUser(name), 'kubelet'),
    podInformerFor: () => pods,
  });
  await pool.start();
  const started = pool;
  return {
    pool: started,
    kubeletPort: kubelet.port,
    async stop() {
      await started.stop();
      await kubelet.close();
    },
  };
}

/** The backend once the pool exists (the server must listen first: its port goes into the Nodes). */
export function lazyBackend(get: () => KubeletBackend | undefined): KubeletBackend {
  return {
    hasNode: (name) => get()?.hasNode(name) ?? false,
    pod: (namespace, name) => get()?.pod(namespace, name),
    podsOn: (node) => get()?.podsOn(node) ?? [],
    clientFor: (node) => {
      const backend = get();
      if (!backend) throw new Error('virtual nodes are not running');
      return backend.clientFor(node);
    },
  };
}
