/**
 * The scheduling framework's vocabulary (upstream's pkg/scheduler/framework/interface.go): the
 * status a plugin answers, the per-cycle state, and the extension points a plugin may implement.
 * A plugin implements only the points it needs; the framework calls them in the profile's order.
 */
import type { Obj } from '../client/api-client.js';
import type { NodeInfo, PodInfo } from './node-info.js';
import type { Snapshot } from './snapshot.js';

export type Pod = Obj;
export type Node = Obj;

/**
 * Why a plugin said no. `Unschedulable` may be fixed by preemption (removing pods); the
 * `UnschedulableAndUnresolvable` nodes are not worth trying to preempt on. `Skip` from PreFilter
 * or PreScore means "nothing to do for this pod": the plugin's Filter or Score is not called.
 */
export type StatusCode = 'Error' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Skip';

export interface Status {
  readonly code: StatusCode;
  /** Each reason is counted separately in the FailedScheduling message ("2 Insufficient cpu"). */
  readonly reasons: readonly string[];
  /** The plugin that answered (set by the framework). */
  plugin?: string;
}

/** `undefined` is success: the hot path allocates nothing. */
export type Result = Status | undefined;

export const status = {
  unschedulable: (...reasons: string[]): Status => ({ code: 'Unschedulable', reasons }),
  unresolvable: (...reasons: string[]): Status => ({ code: 'UnschedulableAndUnresolvable', reasons }),
  error: (message: string): Status => ({ code: 'Error', reasons: [message] }),
  skip: (): Status => ({ code: 'Skip', reasons: [] }),
};

export function isRejection(result: Result): result is Status {
  return result !== undefined && (result.code === 'Unschedulable' || result.code === 'UnschedulableAndUnresolvable');
}

/** Data plugins keep for the duration of one scheduling cycle (PreFilter → Filter, PreScore → Score). */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  /** Plugins whose PreFilter / PreScore answered Skip. */
  readonly skipFilter = new Set<string>();
  readonly skipScore = new Set<string>();
  /**
   * The profile's Filter plugins minus those whose PreFilter answered Skip, worked out once per
   * cycle by the framework (not a set lookup per plugin per node); undefined until then.
   */
  activeFilters?: readonly Plugin[];

  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }

  /** A copy for preemption's what-ifs: plugins' state objects that change implement `clone()`. */
  clone(): CycleState {
    const copy = new CycleState();
    for (const [key, value] of this.data) {
      const cloneable = value as { clone?: () => unknown } | undefined;
      copy.data.set(key, typeof cloneable?.clone === 'function' ? cloneable.clone() : value);
    }
    for (const name of this.skipFilter) copy.skipFilter.add(name);
    for (const name of this.skipScore) copy.skipScore.add(name);
    copy.activeFilters = this.activeFilters;
    return copy;
  }
}

export interface PreFilterResult {
  /** Only these nodes can fit (e.g. required affinity on metadata.name); undefined: all. */
  nodeNames?: ReadonlySet<string>;
}

/**
 * Cluster events an unschedulable pod may be waiting for, as `Kind/Action`: `Node/Add`,
 * `Node/UpdateNodeLabel`, `Pod/Delete` (an assigned pod), `PersistentVolumeClaim/*` …
 * A plugin that rejected a pod names the events that could make it fit (upstream's
 * EventsToRegister); the queue moves the pod back when one of them happens.
 */
export type ClusterEvent = string;

/** What plugins see of the scheduler (upstream's framework.Handle). */
export interface Handle {
  snapshot(): Snapshot;
  /** Runs the profile's filters for `pod` on `nodeInfo` (preemption's dry runs). */
  runFilters(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Result;
  runPreFilterExtensionAddPod(state: CycleState, pod: Pod, added: PodInfo, nodeInfo: NodeInfo): void;
  runPreFilterExtensionRemovePod(state: CycleState, pod: Pod, removed: PodInfo, nodeInfo: NodeInfo): void;
}

export interface PostFilterResult {
  nominatedNodeName?: string;
}

export interface Plugin {
  readonly name: string;
  /** Cluster events after which a pod this plugin rejected may fit. */
  readonly events?: readonly ClusterEvent[];

  /** QueueSort: `a` before `b`. Only one plugin may implement it. */
  less?(a: QueuedPod, b: QueuedPod): boolean;
  /** PreEnqueue: a rejection keeps the pod out of activeQ (scheduling gates). */
  preEnqueue?(pod: Pod): Result;
  preFilter?(state: CycleState, pod: Pod, snapshot: Snapshot): { result?: PreFilterResult; status?: Result } | Result;
  /** PreFilterExtensions: keep PreFilter's state right when preemption adds or removes a pod. */
  addPod?(state: CycleState, pod: Pod, added: PodInfo, nodeInfo: NodeInfo): void;
  removePod?(state: CycleState, pod: Pod, removed: PodInfo, nodeInfo: NodeInfo): void;
  filter?(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Result;
  postFilter?(state: CycleState, pod: Pod, filtered: ReadonlyMap<string, Status>): { result?: PostFilterResult; status: Result } | Promise<{ result?: PostFilterResult; status: Result }>;
  preScore?(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Result;
  /** 0…100 before normalization. */
  score?(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number;
  normalizeScore?(state: CycleState, pod: Pod, scores: number[]): void;
  reserve?(state: CycleState, pod: Pod, nodeName: string): Result;
  unreserve?(state: CycleState, pod: Pod, nodeName: string): void;
  preBind?(state: CycleState, pod: Pod, nodeName: string): Promise<Result>;
  bind?(state: CycleState, pod: Pod, nodeName: string): Promise<Result | 'Skip'>;
}

/** A pod in the scheduling queue, with what the queue knows of its attempts. */
export interface QueuedPod {
  pod: Pod;
  readonly key: string;
  /** When it (last) entered the queue; orders pods of equal priority. */
  timestamp: number;
  /** When it first entered the queue (for latency metrics). */
  readonly initialAttemptTimestamp: number;
  attempts: number;
  /** Plugins that rejected it in its last attempt (what events may bring it back). */
  unschedulablePlugins: Set<string>;
  /** Kept out by a PreEnqueue plugin (scheduling gates). */
  gatedBy?: string;
}

export const MAX_NODE_SCORE = 100;

export function podKey(pod: Pod): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}

export function podPriority(pod: Pod): number {
  return typeof pod.spec?.priority === 'number' ? pod.spec.priority : 0;
}
