/**
 * What the scheduler knows of one node (upstream's framework.NodeInfo), kept incrementally by the
 * cache as pods come and go: the pods on it, their summed requests (also with the scoring
 * defaults for requestless containers), the host ports in use, the pods with (anti-)affinity
 * terms, the images it holds and the PVCs its pods use. `generation` changes on every change, so
 * a snapshot copies only the nodes that changed since the last cycle.
 *
 * PodInfo is a pod with its scheduling-relevant facts parsed once (requests, ports, affinity
 * terms); pods from the informer are immutable, so it is cached per pod object.
 */
import { matchesLabels, selectorFromSpec, type LabelSelector } from '../api/selectors.js';
import { nodeTaints, type Taint } from '../api/taints.js';
import { addResource, cloneResource, emptyResource, nodeAllocatable, podRequests, type Allocatable, type Resource } from './resources.js';
import type { Node, Pod } from './types.js';
import { storedVersionOf, type StoredVersion } from '../storage/store.js';

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

export interface AffinityTerm {
  topologyKey: string;
  /** undefined: a nil selector, which matches nothing. */
  selector?: LabelSelector;
  /** Namespaces named by the term (default: the pod's own when neither these nor a selector are given). */
  namespaces: ReadonlySet<string>;
  /** A namespaceSelector, matched against namespace labels; `[]` (empty) matches every namespace. */
  namespaceSelector?: LabelSelector;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

export interface PodInfo {
  readonly pod: Pod;
  readonly key: string;
  readonly requests: Resource;
  /** CPU and memory with the scoring defaults (100m, 200Mi) for containers that request none. */
  readonly nonZeroMilliCPU: number;
  readonly nonZeroMemory: number;
  readonly hostPorts: readonly HostPort[];
  readonly requiredAffinity: readonly AffinityTerm[];
  readonly requiredAntiAffinity: readonly AffinityTerm[];
  readonly preferredAffinity: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinity: readonly WeightedAffinityTerm[];
  readonly claims: readonly string[];
}

const podInfos = new WeakMap<Pod, PodInfo>();

/** One empty list for every PodInfo that has none of something (most pods: 32 bytes each saved per list). */
const NONE: readonly never[] = Object.freeze([]);

function orNone<T>(list: readonly T[]): readonly T[] {
  return list.length === 0 ? NONE : list;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

function parseTerm(pod: Pod, term: Fields): AffinityTerm {
  const namespaces = new Set<string>(term.namespaces ?? []);
  const namespaceSelector = term.namespaceSelector ? selectorFromSpec(term.namespaceSelector) : undefined;
  if (namespaces.size === 0 && !namespaceSelector) namespaces.add(pod.metadata.namespace!);
  let selector = term.labelSelector ? selectorFromSpec(term.labelSelector) : undefined;
  // matchLabelKeys / mismatchLabelKeys: the incoming pod's own values of those labels join the selector.
  const labels: Record<string, string> = pod.metadata.labels ?? {};
  if (selector) {
    for (const key of term.matchLabelKeys ?? []) if (labels[key] !== undefined) selector = [...selector, { key, op: 'in', values: [labels[key]] }];
    for (const key of term.mismatchLabelKeys ?? []) if (labels[key] !== undefined) selector = [...selector, { key, op: 'notin', values: [labels[key]] }];
  }
  return { topologyKey: term.topologyKey ?? '', selector, namespaces, namespaceSelector };
}

function parseWeighted(pod: Pod, weighted: Fields): WeightedAffinityTerm {
  return { ...parseTerm(pod, weighted.podAffinityTerm ?? {}), weight: weighted.weight ?? 0 };
}

function hostPortsOf(pod: Pod): HostPort[] {
  const ports: HostPort[] = [];
  const containers = [...(pod.spec?.initContainers ?? []).filter((c: Fields) => c.restartPolicy === 'Always'), ...(pod.spec?.containers ?? [])];
  for (const container of containers as Fields[]) {
    for (const port of (container.ports ?? []) as Fields[]) {
      if (!port.hostPort) continue;
      ports.push({ ip: port.hostIP || '0.0.0.0', protocol: port.protocol || 'TCP', port: port.hostPort });
    }
  }
  return ports;
}

/** The last pod asked for: plugins ask once per node, mostly for the pod of the cycle. */
let lastPod: Pod | undefined;
let lastInfo: PodInfo | undefined;

export function podInfoOf(pod: Pod): PodInfo {
  if (pod === lastPod) return lastInfo!;
  let info = podInfos.get(pod);
  if (info) {
    lastPod = pod;
    lastInfo = info;
    return info;
  }
  const affinity = pod.spec?.affinity ?? {};
  const nonZero = podRequests(pod, true);
  const fields: Omit<PodInfo, 'pod'> = {
    key: `${pod.metadata.namespace}/${pod.metadata.name}`,
    requests: podRequests(pod),
    nonZeroMilliCPU: nonZero.milliCPU,
    nonZeroMemory: nonZero.memory,
    hostPorts: orNone(hostPortsOf(pod)),
    requiredAffinity: orNone((affinity.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t: Fields) => parseTerm(pod, t))),
    requiredAntiAffinity: orNone((affinity.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t: Fields) => parseTerm(pod, t))),
    preferredAffinity: orNone((affinity.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t: Fields) => parseWeighted(pod, t))),
    preferredAntiAffinity: orNone((affinity.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t: Fields) => parseWeighted(pod, t))),
    claims: orNone(((pod.spec?.volumes ?? []) as Fields[]).flatMap((v) => (v.persistentVolumeClaim?.claimName ? [v.persistentVolumeClaim.claimName as string] : v.ephemeral ? [`${pod.metadata.name}-${v.name}`] : []))),
  };
  // A pod the store parsed is not kept: its version is (the cache holds every bound pod, and a
  // parsed pod is kilobytes of heap); reading `pod` gives its parsed form, parsed again if collected.
  const version = storedVersionOf(pod);
  info = version ? new StoredPodInfo(version, fields) : { pod, ...fields };
  podInfos.set(pod, info);
  lastPod = pod;
  lastInfo = info;
  return info;
}

/**
 * A PodInfo over a stored version. A class with a getter rather than a property redefined on a
 * plain object: redefining turns the object into a hash table (~800 bytes per cached pod) and the
 * getter's closure keeps a context alive besides.
 */
class StoredPodInfo implements PodInfo {
  readonly #version: StoredVersion;
  declare readonly key: string;
  declare readonly requests: Resource;
  declare readonly nonZeroMilliCPU: number;
  declare readonly nonZeroMemory: number;
  declare readonly hostPorts: readonly HostPort[];
  declare readonly requiredAffinity: readonly AffinityTerm[];
  declare readonly requiredAntiAffinity: readonly AffinityTerm[];
  declare readonly preferredAffinity: readonly WeightedAffinityTerm[];
  declare readonly preferredAntiAffinity: readonly WeightedAffinityTerm[];
  declare readonly claims: readonly string[];

  constructor(version: StoredVersion, fields: Omit<PodInfo, 'pod'>) {
    this.#version = version;
    Object.assign(this, fields);
  }

  get pod(): Pod {
    return this.#version.object as Pod;
  }
}

/** Whether `term` (of a pod in `ownerNamespace`) selects `pod`; `namespaceLabels` resolves namespaceSelectors. */
export function termMatches(term: AffinityTerm, pod: Pod, namespaceLabels: (namespace: string) => Record<string, string> | undefined): boolean {
  if (!term.selector) return false;
  const namespace = pod.metadata.namespace;
  if (!term.namespaces.has(namespace!)) {
    if (!term.namespaceSelector) return false;
    if (term.namespaceSelector.length > 0 && !matchesLabels(term.namespaceSelector, namespaceLabels(namespace!))) return false;
  }
  return matchesLabels(term.selector, pod.metadata.labels);
}

export function hasAffinityTerms(info: PodInfo): boolean {
  return info.requiredAffinity.length + info.requiredAntiAffinity.length + info.preferredAffinity.length + info.preferredAntiAffinity.length > 0;
}

export interface ImageState {
  size: number;
  /** How many nodes hold this image (ImageLocality spreads its score by it). */
  numNodes: number;
}

let generations = 0;

/** A new, globally increasing generation number. */
export function nextGeneration(): number {
  return ++generations;
}

/**
 * Slots of a NodeInfo's fit numbers (fitNumbers[fitAt + FIT_*]): the numbers every Filter and
 * Score reads per node. Walking 500 nodes per cycle, the separate objects these come from
 * (allocatable, its resource, requested, boxed doubles, the pods array) cost a cache miss each.
 * A snapshot's NodeInfos keep theirs side by side in one FitTable, so the walk reads one
 * contiguous array; a NodeInfo of its own (the cache's, a clone for nominated pods or preemption)
 * has a small array. Derived from the fields below on every change, never written elsewhere.
 */
export const FIT_ALLOC_CPU = 0;
export const FIT_ALLOC_MEMORY = 1;
export const FIT_ALLOC_EPHEMERAL = 2;
export const FIT_ALLOC_PODS = 3;
export const FIT_REQ_CPU = 4;
export const FIT_REQ_MEMORY = 5;
export const FIT_REQ_EPHEMERAL = 6;
export const FIT_PODS = 7;
export const FIT_NONZERO_CPU = 8;
export const FIT_NONZERO_MEMORY = 9;
const FIT_SLOTS = 10;

/**
 * The fit numbers of a snapshot's NodeInfos in one array, a stable place per node name. A
 * Float64Array of one node's 10 numbers (80 bytes) is over V8's 64-byte limit for typed arrays on
 * the heap, so each would have a backing store of its own wherever malloc put it: a cache miss
 * per node walked. The snapshot updates its copy of a node in place (cache.updateSnapshot); a
 * further copy placed in the table takes over the node's place.
 */
export class FitTable {
  numbers = new Float64Array(FIT_SLOTS * 1024);
  private readonly places = new Map<string, number>();
  private readonly free: number[] = [];
  /** The NodeInfo in each place (index = place / FIT_SLOTS), re-pointed when the array grows. */
  private holders: (NodeInfo | undefined)[] = [];

  /** Gives `info` its node's place (a new one for a new node) and the table's array. */
  place(info: NodeInfo): void {
    let at = this.places.get(info.name);
    if (at === undefined) {
      at = this.free.pop() ?? this.holders.length * FIT_SLOTS;
      this.places.set(info.name, at);
      if (at + FIT_SLOTS > this.numbers.length) this.grow();
    }
    this.holders[at / FIT_SLOTS] = info;
    info.fitNumbers = this.numbers;
    info.fitAt = at;
  }

  /** The node is gone: its place is free for another. */
  release(name: string): void {
    const at = this.places.get(name);
    if (at === undefined) return;
    this.places.delete(name);
    this.holders[at / FIT_SLOTS] = undefined;
    this.free.push(at);
  }

  private grow(): void {
    const numbers = new Float64Array(this.numbers.length * 2);
    numbers.set(this.numbers);
    this.numbers = numbers;
    for (const holder of this.holders) if (holder) holder.fitNumbers = numbers;
  }
}
const NO_TAINTS: readonly Taint[] = Object.freeze([]);

export class NodeInfo {
  /** The node's facts every filter reads, taken once per node version (cheaper than walking the object). */
  unschedulable = false;
  taints: readonly Taint[] = NO_TAINTS;
  /** See FIT_*: allocatable, requested, pod count, non-zero requests, at fitNumbers[fitAt + FIT_*]. */
  fitNumbers!: Float64Array;
  fitAt = 0;
  node?: Node;
  pods: PodInfo[] = [];
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  /** "ip/protocol/port" in use. */
  usedPorts = new Map<string, number>();
  requested: Resource = emptyResource();
  nonZeroMilliCPU = 0;
  nonZeroMemory = 0;
  allocatable: Allocatable = { resource: emptyResource(), pods: 0 };
  imageStates = new Map<string, ImageState>();
  /** PVC "namespace/name" → how many pods here use it. */
  pvcRefCounts = new Map<string, number>();
  generation = nextGeneration();
  labels: Readonly<Record<string, string>> = {};

  /** `table`: the snapshot whose copy this is keeps the fit numbers (else the NodeInfo has its own). */
  constructor(
    readonly name: string,
    table?: FitTable,
  ) {
    if (table) table.place(this);
    else this.fitNumbers = new Float64Array(FIT_SLOTS);
  }

  setNode(node: Node): void {
    this.node = node;
    this.unschedulable = node.spec?.unschedulable === true;
    const taints = nodeTaints(node);
    // Untainted nodes share one empty list: the filters' first look at a node stays in cache.
    this.taints = taints.length === 0 ? NO_TAINTS : taints;
    this.labels = node.metadata?.labels ?? {};
    this.allocatable = nodeAllocatable(node);
    const fit = this.fitNumbers;
    const at = this.fitAt;
    fit[at + FIT_ALLOC_CPU] = this.allocatable.resource.milliCPU;
    fit[at + FIT_ALLOC_MEMORY] = this.allocatable.resource.memory;
    fit[at + FIT_ALLOC_EPHEMERAL] = this.allocatable.resource.ephemeralStorage;
    fit[at + FIT_ALLOC_PODS] = this.allocatable.pods;
    this.generation = nextGeneration();
  }

  addPod(info: PodInfo): void {
    this.pods.push(info);
    if (hasAffinityTerms(info)) this.podsWithAffinity.push(info);
    if (info.requiredAntiAffinity.length > 0) this.podsWithRequiredAntiAffinity.push(info);
    this.account(info, 1);
  }

  /** Removes the pod with this key; false when it was not here. */
  removePod(key: string): boolean {
    const index = this.pods.findIndex((p) => p.key === key);
    if (index < 0) return false;
    const info = this.pods[index];
    this.pods[index] = this.pods[this.pods.length - 1];
    this.pods.pop();
    this.podsWithAffinity = removeKey(this.podsWithAffinity, key);
    this.podsWithRequiredAntiAffinity = removeKey(this.podsWithRequiredAntiAffinity, key);
    this.account(info, -1);
    return true;
  }

  private account(info: PodInfo, sign: 1 | -1): void {
    addResource(this.requested, info.requests, sign);
    this.nonZeroMilliCPU += sign * info.nonZeroMilliCPU;
    this.nonZeroMemory += sign * info.nonZeroMemory;
    const fit = this.fitNumbers;
    const at = this.fitAt;
    fit[at + FIT_REQ_CPU] = this.requested.milliCPU;
    fit[at + FIT_REQ_MEMORY] = this.requested.memory;
    fit[at + FIT_REQ_EPHEMERAL] = this.requested.ephemeralStorage;
    fit[at + FIT_PODS] = this.pods.length;
    fit[at + FIT_NONZERO_CPU] = this.nonZeroMilliCPU;
    fit[at + FIT_NONZERO_MEMORY] = this.nonZeroMemory;
    for (const port of info.hostPorts) {
      const key = `${port.ip}/${port.protocol}/${port.port}`;
      const count = (this.usedPorts.get(key) ?? 0) + sign;
      if (count <= 0) this.usedPorts.delete(key);
      else this.usedPorts.set(key, count);
    }
    for (const claim of info.claims) {
      const key = `${info.pod.metadata.namespace}/${claim}`;
      const count = (this.pvcRefCounts.get(key) ?? 0) + sign;
      if (count <= 0) this.pvcRefCounts.delete(key);
      else this.pvcRefCounts.set(key, count);
    }
    this.generation = nextGeneration();
  }

  /** Whether a host port conflicts with one in use (0.0.0.0 conflicts with every address). */
  portInUse(port: HostPort): boolean {
    if (this.usedPorts.size === 0) return false;
    if (port.ip === '0.0.0.0') {
      for (const used of this.usedPorts.keys()) {
        const [, protocol, number] = used.split('/');
        if (protocol === port.protocol && Number(number) === port.port) return true;
      }
      return false;
    }
    return this.usedPorts.has(`${port.ip}/${port.protocol}/${port.port}`) || this.usedPorts.has(`0.0.0.0/${port.protocol}/${port.port}`);
  }

  /** A copy with its own fit numbers, or with its node's place in `table` (a snapshot's). */
  clone(table?: FitTable): NodeInfo {
    return this.copyTo(new NodeInfo(this.name, table));
  }

  /**
   * Makes `target` (a NodeInfo of the same node, e.g. a snapshot's) equal to this one, in place:
   * its fit numbers stay where they are. The lists and maps are copied, never shared, so the
   * target does not move when this one changes.
   */
  copyTo(target: NodeInfo): NodeInfo {
    for (let i = 0; i < FIT_SLOTS; i++) target.fitNumbers[target.fitAt + i] = this.fitNumbers[this.fitAt + i];
    target.node = this.node;
    target.unschedulable = this.unschedulable;
    target.taints = this.taints;
    target.labels = this.labels;
    target.pods = this.pods.slice();
    target.podsWithAffinity = this.podsWithAffinity.slice();
    target.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.slice();
    target.usedPorts = new Map(this.usedPorts);
    target.requested = cloneResource(this.requested);
    target.nonZeroMilliCPU = this.nonZeroMilliCPU;
    target.nonZeroMemory = this.nonZeroMemory;
    target.allocatable = this.allocatable;
    target.imageStates = this.imageStates;
    target.pvcRefCounts = new Map(this.pvcRefCounts);
    target.generation = this.generation;
    return target;
  }
}

function removeKey(list: PodInfo[], key: string): PodInfo[] {
  return list.some((p) => p.key === key) ? list.filter((p) => p.key !== key) : list;
}
