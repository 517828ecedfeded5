/**
 * What a virtual kubelet says about its node: the Node it registers (capacity, addresses, labels,
 * nodeInfo, conditions, daemonEndpoints), the status it posts on every report, and its Lease in
 * kube-node-lease. Pure functions of the node's profile and the time, so tests read them directly.
 */
import { createHash } from 'node:crypto';
import type { Obj } from '../client/api-client.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = Record<string, any>;
import { parseQuantity } from '../registry/common/validation.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** Upstream kubelet's defaults: the lease lasts 40 s and is renewed every 10 s (a quarter of it). */
export const LEASE_DURATION_SECONDS = 40;
export const LEASE_RENEW_INTERVAL_MS = 10_000;
/** Upstream's nodeStatusReportFrequency: an unchanged status is still posted every 5 minutes. */
export const NODE_STATUS_REPORT_INTERVAL_MS = 5 * 60_000;
export const KUBELET_VERSION = 'v1.32.0';
/** Marks nodes (and their pods' container IDs) as simulated by Nautilus. */
export const VIRTUAL_NODE_ANNOTATION = 'nautilus.dev/virtual-node';

export interface NodeProfile {
  name: string;
  /** The address the API server dials for the kubelet endpoints (the agent's listener). */
  internalIp: string;
  kubeletPort: number;
  /** e.g. "10.64.3.0/24": where the node's pod IPs come from. */
  podCidr: string;
  zone: string;
  capacity: Record<string, string>;
}

export const DEFAULT_CAPACITY: Readonly<Record<string, string>> = Object.freeze({
  cpu: '32',
  memory: '131072Mi',
  pods: '110',
  'ephemeral-storage': '200Gi',
  'hugepages-1Gi': '0',
  'hugepages-2Mi': '0',
});

/** What the kubelet keeps back from capacity for the system (kube-reserved + eviction threshold). */
const RESERVED_MILLICORES = 100;
const RESERVED_MEMORY_MIB = 1024;

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The Lease's MicroTime: RFC 3339 with microseconds, as Go's metav1.MicroTime serializes. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function stableId(name: string, salt: string): string {
  return createHash('sha256').update(`${salt}:${name}`).digest('hex').slice(0, 32);
}

function uuidOf(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function allocatable(capacity: Record<string, string>): Record<string, string> {
  const result = { ...capacity };
  const millicores = Math.round(parseQuantity(capacity.cpu) * 1000) - RESERVED_MILLICORES;
  if (Number.isFinite(millicores) && millicores > 0) result.cpu = `${millicores}m`;
  const mebibytes = Math.floor(parseQuantity(capacity.memory) / 2 ** 20) - RESERVED_MEMORY_MIB;
  if (Number.isFinite(mebibytes) && mebibytes > 0) result.memory = `${mebibytes}Mi`;
  return result;
}

function conditions(nowMs: number, since: number): J[] {
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: rfc3339(nowMs),
    lastTransitionTime: rfc3339(since),
    reason,
    message,
  });
  return [
    condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
}

/** The Node's status as the kubelet posts it at `nowMs` (conditions unchanged since `readySinceMs`). */
export function nodeStatus(profile: NodeProfile, nowMs: number, readySinceMs: number): J {
  const machineId = stableId(profile.name, 'machine');
  return {
    capacity: { ...profile.capacity },
    allocatable: allocatable(profile.capacity),
    conditions: conditions(nowMs, readySinceMs),
    addresses: [
      { type: 'InternalIP', address: profile.internalIp },
      { type: 'Hostname', address: profile.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: profile.kubeletPort } },
    nodeInfo: {
      machineID: machineId,
      systemUUID: uuidOf(stableId(profile.name, 'system')),
      bootID: uuidOf(stableId(`${profile.name}:${readySinceMs}`, 'boot')),
      kernelVersion: '6.1.0-nautilus-virtual',
      osImage: 'Nautilus virtual node',
      containerRuntimeVersion: 'nautilus://0.1.0',
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
    images: [],
  } as J;
}

/** The Node a kubelet creates when it registers. */
export function nodeObject(profile: NodeProfile, nowMs: number): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: profile.name,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': profile.name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': 'nautilus-virtual',
        'topology.kubernetes.io/region': 'nautilus',
        'topology.kubernetes.io/zone': profile.zone,
      },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        [VIRTUAL_NODE_ANNOTATION]: 'true',
      },
    },
    spec: { podCIDR: profile.podCidr, podCIDRs: [profile.podCidr], providerID: `nautilus://${profile.name}` },
    status: nodeStatus(profile, nowMs, nowMs),
  } as Obj;
}

/** The node's Lease, owned by its Node (so it goes when the Node goes), renewed at `nowMs`. */
export function leaseObject(name: string, nodeUid: string | undefined, nowMs: number): Obj {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: NODE_LEASE_NAMESPACE,
      ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: nodeUid }] } : {}),
    },
    spec: { holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime(nowMs) },
  } as Obj;
}
