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
}

export async function startInProcessVirtualNodes(deps: InProcessNodesDeps, options: VirtualNodesOptions): Promise<VirtualNodePool> {
  const pods = deps.informers.informer(PODS);
  const pool = new VirtualNodePool({
    nodes: nodeProfiles(options),
    clientFor: (name) => deps.client.as(nodeUser(name), 'kubelet'),
    podInformerFor: () => pods,
  });
  await pool.start();
  return pool;
}
