/**
 * NodeResourcesFit. Filter: the pod's requests (containers, init containers and sidecars as
 * upstream sums them, plus overhead) must fit the node's allocatable beside what its pods already
 * request, and the node's pod count must have room. Score by the configured strategy:
 * LeastAllocated (default), MostAllocated or RequestedToCapacityRatio, over the configured
 * resources (default cpu and memory, weight 1 each) with the non-zero request defaults.
 */
import { FIT_ALLOC_CPU, FIT_ALLOC_EPHEMERAL, FIT_ALLOC_MEMORY, FIT_ALLOC_PODS, FIT_NONZERO_CPU, FIT_NONZERO_MEMORY, FIT_PODS, FIT_REQ_CPU, FIT_REQ_EPHEMERAL, FIT_REQ_MEMORY, podInfoOf, type NodeInfo, type PodInfo } from '../node-info.js';
import { MAX_NODE_SCORE, status, type Plugin } from '../types.js';

export const NAME = 'NodeResourcesFit';
const STATE_KEY = 'PreFilter' + NAME;

export interface ResourceSpec {
  name: string;
  weight?: number;
}

export interface ScoringStrategy {
  type?: 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';
  resources?: ResourceSpec[];
  requestedToCapacityRatio?: { shape?: Array<{ utilization: number; score: number }> };
}

export interface NodeResourcesFitArgs {
  ignoredResources?: string[];
  ignoredResourceGroups?: string[];
  scoringStrategy?: ScoringStrategy;
}

export const DEFAULT_RESOURCES: ResourceSpec[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

/** The node's insufficient resources for `pod` (upstream's Fits / fitsRequest), as FailedScheduling reasons. */
export function insufficientResources(info: PodInfo, nodeInfo: NodeInfo, ignored: (name: string) => boolean = () => false): string[] {
  const reasons: string[] = [];
  const allocatable = nodeInfo.allocatable;
  if (nodeInfo.pods.length + 1 > allocatable.pods) reasons.push('Too many pods');
  const request = info.requests;
  if (request.milliCPU === 0 && request.memory === 0 && request.ephemeralStorage === 0 && request.scalar.size === 0) return reasons;
  const used = nodeInfo.requested;
  if (request.milliCPU > 0 && request.milliCPU > allocatable.resource.milliCPU - used.milliCPU) reasons.push('Insufficient cpu');
  if (request.memory > 0 && request.memory > allocatable.resource.memory - used.memory) reasons.push('Insufficient memory');
  if (request.ephemeralStorage > 0 && request.ephemeralStorage > allocatable.resource.ephemeralStorage - used.ephemeralStorage) reasons.push('Insufficient ephemeral-storage');
  for (const [name, quantity] of request.scalar) {
    if (quantity === 0 || ignored(name)) continue;
    if (quantity > (allocatable.resource.scalar.get(name) ?? 0) - (used.scalar.get(name) ?? 0)) reasons.push(`Insufficient ${name}`);
  }
  return reasons;
}

/** The common case without allocating: room for one more pod, its cpu, memory and storage, and no extended resources. */
function fitsPlainly(info: PodInfo, nodeInfo: NodeInfo): boolean {
  const request = info.requests;
  const fit = nodeInfo.fitNumbers;
  const at = nodeInfo.fitAt;
  if (request.scalar.size > 0 || fit[at + FIT_PODS] + 1 > fit[at + FIT_ALLOC_PODS]) return false;
  return request.milliCPU <= fit[at + FIT_ALLOC_CPU] - fit[at + FIT_REQ_CPU] && request.memory <= fit[at + FIT_ALLOC_MEMORY] - fit[at + FIT_REQ_MEMORY] && request.ephemeralStorage <= fit[at + FIT_ALLOC_EPHEMERAL] - fit[at + FIT_REQ_EPHEMERAL];
}

/** What the node's pods and `info` together request of one resource, with the non-zero defaults for cpu and memory. */
export function requestedWith(info: PodInfo, nodeInfo: NodeInfo, resource: string, nonZero: boolean): number {
  const fit = nodeInfo.fitNumbers;
  const at = nodeInfo.fitAt;
  switch (resource) {
    case 'cpu':
      return nonZero ? fit[at + FIT_NONZERO_CPU] + info.nonZeroMilliCPU : fit[at + FIT_REQ_CPU] + info.requests.milliCPU;
    case 'memory':
      return nonZero ? fit[at + FIT_NONZERO_MEMORY] + info.nonZeroMemory : fit[at + FIT_REQ_MEMORY] + info.requests.memory;
    case 'ephemeral-storage':
      return fit[at + FIT_REQ_EPHEMERAL] + info.requests.ephemeralStorage;
    default:
      return (nodeInfo.requested.scalar.get(resource) ?? 0) + (info.requests.scalar.get(resource) ?? 0);
  }
}

/** The node's allocatable amount of one resource. */
export function allocatableOf(nodeInfo: NodeInfo, resource: string): number {
  switch (resource) {
    case 'cpu':
      return nodeInfo.fitNumbers[nodeInfo.fitAt + FIT_ALLOC_CPU];
    case 'memory':
      return nodeInfo.fitNumbers[nodeInfo.fitAt + FIT_ALLOC_MEMORY];
    case 'ephemeral-storage':
      return nodeInfo.fitNumbers[nodeInfo.fitAt + FIT_ALLOC_EPHEMERAL];
    default:
      return nodeInfo.allocatable.resource.scalar.get(resource) ?? 0;
  }
}

type Scorer = (requested: number, allocatable: number) => number;

function leastAllocated(requested: number, allocatable: number): number {
  if (allocatable === 0 || requested > allocatable) return 0;
  return Math.trunc(((allocatable - requested) * MAX_NODE_SCORE) / allocatable);
}

function mostAllocated(requested: number, allocatable: number): number {
  if (allocatable === 0) return 0;
  return Math.trunc((Math.min(requested, allocatable) * MAX_NODE_SCORE) / allocatable);
}

/** A piecewise-linear function of utilization (percent); the shape's scores are 0…10, scaled to 0…100. */
function requestedToCapacityRatio(shape: Array<{ utilization: number; score: number }>): Scorer {
  const points = shape.map((p) => ({ x: p.utilization, y: (p.score * MAX_NODE_SCORE) / 10 }));
  const curve = (x: number): number => {
    if (points.length === 0) return 0;
    if (x <= points[0].x) return points[0].y;
    for (let i = 1; i < points.length; i++) {
      if (x <= points[i].x) return points[i - 1].y + ((points[i].y - points[i - 1].y) * (x - points[i - 1].x)) / (points[i].x - points[i - 1].x);
    }
    return points[points.length - 1].y;
  };
  return (requested, allocatable) => {
    if (allocatable === 0 || requested > allocatable) return Math.round(curve(100));
    return Math.round(curve(MAX_NODE_SCORE - ((allocatable - requested) * MAX_NODE_SCORE) / allocatable));
  };
}

export function nodeResourcesFit(args: NodeResourcesFitArgs = {}): Plugin {
  const ignoredNames = new Set(args.ignoredResources ?? []);
  const ignoredGroups = new Set(args.ignoredResourceGroups ?? []);
  const ignored = (name: string) => ignoredNames.has(name) || (name.includes('/') && ignoredGroups.has(name.split('/')[0]));
  const strategy = args.scoringStrategy ?? {};
  const resources = (strategy.resources?.length ? strategy.resources : DEFAULT_RESOURCES).map((r) => ({ name: r.name, weight: r.weight ?? 1 }));
  const scorer: Scorer =
    strategy.type === 'MostAllocated' ? mostAllocated : strategy.type === 'RequestedToCapacityRatio' ? requestedToCapacityRatio(strategy.requestedToCapacityRatio?.shape ?? []) : leastAllocated;
  return {
    name: NAME,
    events: ['Pod/Delete', 'Node/Add', 'Node/UpdateNodeAllocatable'],
    preFilter(state, pod) {
      state.write(STATE_KEY, podInfoOf(pod));
      return undefined;
    },
    filter(_state, pod, nodeInfo) {
      const info = podInfoOf(pod);
      if (fitsPlainly(info, nodeInfo)) return undefined;
      const reasons = insufficientResources(info, nodeInfo, ignored);
      return reasons.length > 0 ? status.unschedulable(...reasons) : undefined;
    },
    score(_state, pod, nodeInfo) {
      const info = podInfoOf(pod);
      let total = 0;
      let weights = 0;
      for (let i = 0; i < resources.length; i++) {
        const { name, weight } = resources[i];
        const requested = requestedWith(info, nodeInfo, name, true);
        const allocatable = allocatableOf(nodeInfo, name);
        // A resource the node does not have (and the pod does not ask for) does not count.
        if (allocatable === 0 && requested === 0 && name !== 'cpu' && name !== 'memory') continue;
        total += scorer(requested, allocatable) * weight;
        weights += weight;
      }
      return weights === 0 ? 0 : Math.trunc(total / weights);
    },
  };
}
