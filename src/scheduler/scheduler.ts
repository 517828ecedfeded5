/**
 * The scheduler (upstream's pkg/scheduler: scheduler.go, schedule_one.go, eventhandlers.go).
 *
 * Informer events keep the cache (bound pods, nodes) and the queue (pending pods of this
 * scheduler's profiles) current. One loop pops the highest-priority pod and runs its scheduling
 * cycle synchronously on a fresh snapshot — PreFilter, Filter over a share of the nodes
 * (percentageOfNodesToScore), PostFilter (preemption) when none fit, PreScore/Score, the best
 * node — then assumes the pod there and binds it in the background, so the next cycle starts at
 * once and already counts it. A failed attempt records FailedScheduling, the PodScheduled
 * condition, and parks or backs off the pod.
 */
import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import type { ApiClient, Obj } from '../client/api-client.js';
import { EventRecorder } from '../client/event-recorder.js';
import type { InformerFactory } from '../client/informer-factory.js';
import type { Lister } from '../client/informer.js';
import { NAMESPACES, NODES, PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, PODS, STORAGE_CLASSES } from '../client/resource-types.js';
import { nowRfc3339 } from '../api/object.js';
import { ApiError } from '../api/status.js';
import { log } from '../server/log.js';
import { SchedulerCache } from './cache.js';
import { resolveConfiguration, type ResolvedConfiguration } from './config.js';
import { Diagnosis, FitError, NO_NODES_AVAILABLE } from './fit-error.js';
import { Framework } from './framework.js';
import { SchedulerMetrics } from './metrics.js';
import { podInfoOf, type NodeInfo } from './node-info.js';
import { Nominator } from './nominator.js';
import { SchedulingQueue } from './queue.js';
import { Snapshot } from './snapshot.js';
import { CycleState, podPriority, type ClusterEvent, type Handle, type Pod, type QueuedPod, type Result, type Status } from './types.js';

export interface SchedulerOptions {
  /** The API as system:kube-scheduler. */
  client: ApiClient;
  /** The process's shared informers. */
  informers: InformerFactory;
  config?: ResolvedConfiguration;
  metrics?: Registry;
  /** Host name reported in events. */
  host?: string;
}

const MIN_FEASIBLE_NODES_TO_FIND = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;
/** Pods scheduled per turn of the event loop before letting I/O (binds, watches) run. */
const CYCLES_PER_TURN = 32;

type ScheduleResult = { nodeName: string; evaluated: number; feasible: number } | { error: Error; nominatedNodeName?: string };

export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly snapshot = new Snapshot();
  readonly queue: SchedulingQueue;
  readonly nominator = new Nominator();
  readonly frameworks = new Map<string, Framework>();
  readonly recorder: EventRecorder;
  private readonly metrics?: SchedulerMetrics;
  private readonly config: ResolvedConfiguration;
  private readonly pods: Lister;
  private readonly namespaces: Lister;
  private readonly eventPlugins = new Map<ClusterEvent, Set<string>>();
  private readonly registrations: Array<{ remove(): void }> = [];
  private nextStartNodeIndex = 0;
  private stopped = false;
  private loopDone?: Promise<void>;
  /** Binds under way (stop waits for them). */
  private readonly binding = new Set<Promise<void>>();

  constructor(private readonly options: SchedulerOptions) {
    this.config = options.config ?? resolveConfiguration();
    this.recorder = new EventRecorder(options.client, { component: 'default-scheduler', host: options.host });
    this.metrics = options.metrics && SchedulerMetrics.in(options.metrics);
    const handle: Handle = {
      snapshot: () => this.snapshot,
      runFilters: (state, pod, nodeInfo) => this.frameworkFor(pod)!.runFilters(state, pod, nodeInfo),
      runPreFilterExtensionAddPod: (state, pod, added, nodeInfo) => this.frameworkFor(pod)!.runPreFilterExtensionAddPod(state, pod, added, nodeInfo),
      runPreFilterExtensionRemovePod: (state, pod, removed, nodeInfo) => this.frameworkFor(pod)!.runPreFilterExtensionRemovePod(state, pod, removed, nodeInfo),
    };
    for (const profile of this.config.profiles) {
      this.frameworks.set(profile.schedulerName, new Framework(profile, { client: options.client, informers: options.informers, recorder: this.recorder, handle, metrics: this.metrics }));
    }
    const first = [...this.frameworks.values()][0];
    this.queue = new SchedulingQueue({
      less: (a, b) => first.less(a, b),
      preEnqueue: (pod) => this.frameworkFor(pod)?.runPreEnqueue(pod),
      pluginsFor: (event) => this.pluginsFor(event),
      initialBackoffMs: this.config.podInitialBackoffSeconds * 1000,
      maxBackoffMs: this.config.podMaxBackoffSeconds * 1000,
    });
    this.pods = options.informers.informer(PODS).lister;
    this.namespaces = options.informers.informer(NAMESPACES).lister;
    this.snapshot.namespaceLabels = (namespace) => this.namespaces.get(undefined, namespace)?.metadata.labels;
  }

  async start(): Promise<void> {
    const informers = this.options.informers;
    this.registrations.push(
      informers.informer(NODES).addEventHandler({
        onAdd: (node) => this.onNodeAdd(node),
        onUpdate: (oldNode, node) => this.onNodeUpdate(oldNode, node),
        onDelete: (node) => this.onNodeDelete(node),
      }),
      informers.informer(PODS).addEventHandler({
        onAdd: (pod) => this.onPodAdd(pod),
        onUpdate: (oldPod, pod) => this.onPodUpdate(oldPod, pod),
        onDelete: (pod) => this.onPodDelete(pod),
      }),
      // Storage changes may make a pod waiting on its volumes fit (VolumeBinding, VolumeRestrictions).
      ...([
        [PERSISTENT_VOLUME_CLAIMS, 'PersistentVolumeClaim'],
        [PERSISTENT_VOLUMES, 'PersistentVolume'],
        [STORAGE_CLASSES, 'StorageClass'],
      ] as const).map(([type, kind]) =>
        informers.informer(type).addEventHandler({
          onAdd: () => this.moveAll(`${kind}/Add`),
          onUpdate: () => this.moveAll(`${kind}/Update`),
          onDelete: () => this.moveAll(`${kind}/Delete`),
        }),
      ),
      informers.informer(NAMESPACES).addEventHandler({
        onAdd: () => this.moveAll('Namespace/Add'),
        onUpdate: (oldNs, ns) => JSON.stringify(oldNs.metadata.labels) !== JSON.stringify(ns.metadata.labels) && this.moveAll('Namespace/UpdateNamespaceLabel'),
      }),
    );
    informers.start();
    await informers.waitForSync();
    if (this.metrics) this.metrics.pendingPods = () => this.queue.counts;
    this.queue.run();
    this.loopDone = this.loop();
    log.info('scheduler started', { profiles: [...this.frameworks.keys()] });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const registration of this.registrations.splice(0)) registration.remove();
    this.queue.close();
    await this.loopDone;
    await Promise.allSettled([...this.binding]);
    await this.recorder.flush();
  }

  // --- events → cache and queue ---

  private frameworkFor(pod: Pod): Framework | undefined {
    return this.frameworks.get(pod.spec?.schedulerName || 'default-scheduler');
  }

  private pluginsFor(event: ClusterEvent): ReadonlySet<string> {
    let plugins = this.eventPlugins.get(event);
    if (!plugins) {
      plugins = new Set([...this.frameworks.values()].flatMap((f) => f.pluginsForEvent(event)));
      this.eventPlugins.set(event, plugins);
    }
    return plugins;
  }

  private moveAll(event: ClusterEvent): void {
    this.queue.moveAllToActiveOrBackoff(event);
  }

  private onNodeAdd(node: Obj): void {
    this.cache.addNode(node);
    this.moveAll('Node/Add');
  }

  private onNodeUpdate(oldNode: Obj, node: Obj): void {
    this.cache.updateNode(node);
    for (const event of nodeUpdateEvents(oldNode, node)) this.moveAll(event);
  }

  private onNodeDelete(node: Obj): void {
    this.cache.removeNode(node);
    this.moveAll('Node/Delete');
  }

  private isPending(pod: Pod): boolean {
    return !pod.spec?.nodeName && !isTerminal(pod) && !pod.metadata.deletionTimestamp && this.frameworkFor(pod) !== undefined;
  }

  private onPodAdd(pod: Pod): void {
    if (pod.spec?.nodeName) {
      if (isTerminal(pod)) return;
      this.cache.addPod(pod);
      this.moveAll('Pod/Add');
      return;
    }
    if (!this.isPending(pod)) return;
    this.nominator.set(pod);
    this.queue.add(pod);
  }

  private onPodUpdate(oldPod: Pod, pod: Pod): void {
    if (pod.spec?.nodeName) {
      if (!oldPod.spec?.nodeName) {
        // Bound (by us or another scheduler): out of the queue, into the cache.
        this.queue.delete(pod);
        this.nominator.delete(pod);
        if (!isTerminal(pod)) this.cache.addPod(pod);
        this.moveAll('Pod/Add');
        return;
      }
      if (isTerminal(pod)) {
        // A finished pod frees its node's resources: to the scheduler it is gone.
        if (!isTerminal(oldPod)) {
          this.cache.removePod(pod);
          this.moveAll('Pod/Delete');
        }
        return;
      }
      this.cache.updatePod(pod);
      if (JSON.stringify(oldPod.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {})) this.moveAll('Pod/UpdatePodLabel');
      return;
    }
    if (!this.isPending(pod)) {
      this.queue.delete(pod);
      this.nominator.delete(pod);
      return;
    }
    this.nominator.set(pod);
    this.queue.update(oldPod, pod);
  }

  private onPodDelete(pod: Pod): void {
    if (pod.spec?.nodeName) {
      this.cache.removePod(pod);
      this.moveAll('Pod/Delete');
      return;
    }
    this.queue.delete(pod);
    this.nominator.delete(pod);
  }

  // --- the scheduling loop ---

  private async loop(): Promise<void> {
    let cycles = 0;
    while (!this.stopped) {
      const queued = cycles % CYCLES_PER_TURN === 0 ? await this.queue.pop() : (this.queue.tryPop() ?? (await this.queue.pop()));
      if (!queued) return;
      try {
        this.scheduleOne(queued);
      } catch (error) {
        log.error('scheduling cycle failed', { pod: queued.key, error: error instanceof Error ? error.stack : String(error) });
        this.queue.addUnschedulable(queued, this.queue.cycle);
      }
      if (++cycles % CYCLES_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** One scheduling cycle (synchronous); the binding cycle continues in the background. */
  scheduleOne(queued: QueuedPod): void {
    const { namespace, name } = queued.pod.metadata;
    const pod = this.pods.get(namespace, name!);
    if (!pod || pod.metadata.uid !== queued.pod.metadata.uid || !this.isPending(pod) || this.cache.isAssumed(pod)) {
      this.queue.done(queued.key);
      return;
    }
    queued.pod = pod;
    const framework = this.frameworkFor(pod)!;
    const cycle = this.queue.cycle;
    const started = performance.now();
    this.cache.updateSnapshot(this.snapshot);
    const state = new CycleState();
    const result = this.schedulePod(framework, state, pod);
    if ('error' in result) {
      // PostFilter (preemption) runs asynchronously only when it has victims to delete.
      void this.recordFailure(framework, queued, cycle, started, result.error, state);
      return;
    }
    const nodeName = result.nodeName;
    this.cache.assumePod(pod, nodeName);
    const reserved = framework.runReserve(state, pod, nodeName);
    if (reserved) {
      framework.runUnreserve(state, pod, nodeName);
      this.cache.forgetPod(pod);
      void this.handleFailure(framework, queued, cycle, started, new Error(reserved.reasons.join(', ')), undefined);
      return;
    }
    this.nominator.delete(pod);
    const binding = this.bindingCycle(framework, state, queued, pod, nodeName, started);
    this.binding.add(binding);
    void binding.finally(() => this.binding.delete(binding));
  }

  private schedulePod(framework: Framework, state: CycleState, pod: Pod): ScheduleResult {
    const snapshot = this.snapshot;
    if (snapshot.numNodes === 0) return { error: new Error(NO_NODES_AVAILABLE) };
    const diagnosis = new Diagnosis();
    const pre = framework.runPreFilter(state, pod, snapshot);
    if (pre.status) {
      if (pre.status.code === 'Error') return { error: new Error(pre.status.reasons.join(', ')) };
      // Every node shares the PreFilter's verdict (preemption reads it per node).
      for (const info of snapshot.nodeInfoList) diagnosis.nodeToStatus.set(info.name, pre.status);
      if (pre.status.plugin) diagnosis.unschedulablePlugins.add(pre.status.plugin);
      diagnosis.preFilterMsg = pre.status.reasons.join(', ');
      return { error: new FitError(snapshot.numNodes, diagnosis) };
    }
    const feasible = this.findFeasibleNodes(framework, state, pod, pre.result?.nodeNames, diagnosis);
    if ('error' in feasible) return feasible;
    if (feasible.nodes.length === 0) {
      // Nodes PreFilter ruled out count as unresolvable.
      if (pre.result?.nodeNames) {
        for (const info of snapshot.nodeInfoList) if (!diagnosis.nodeToStatus.has(info.name)) diagnosis.nodeToStatus.set(info.name, { code: 'UnschedulableAndUnresolvable', reasons: [], plugin: undefined });
      }
      return { error: new FitError(snapshot.numNodes, diagnosis) };
    }
    if (feasible.nodes.length === 1) return { nodeName: feasible.nodes[0].name, evaluated: feasible.evaluated, feasible: 1 };
    const scores = framework.hasScorePlugins ? framework.runScores(state, pod, feasible.nodes) : new Array<number>(feasible.nodes.length).fill(0);
    return { nodeName: selectHost(feasible.nodes, scores), evaluated: feasible.evaluated, feasible: feasible.nodes.length };
  }

  /** How many feasible nodes are enough (upstream's numFeasibleNodesToFind). */
  numFeasibleNodesToFind(framework: Framework, numAllNodes: number): number {
    if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
    let percentage = framework.percentageOfNodesToScore ?? this.config.percentageOfNodesToScore;
    if (percentage >= 100) return numAllNodes;
    if (percentage <= 0) {
      percentage = 50 - numAllNodes / 125;
      if (percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
    }
    const count = Math.trunc((numAllNodes * percentage) / 100);
    return Math.max(count, MIN_FEASIBLE_NODES_TO_FIND);
  }

  private findFeasibleNodes(framework: Framework, state: CycleState, pod: Pod, allowed: ReadonlySet<string> | undefined, diagnosis: Diagnosis): { nodes: NodeInfo[]; evaluated: number } | { error: Error } {
    // A pod nominated by an earlier preemption tries its node first.
    const nominated = pod.status?.nominatedNodeName as string | undefined;
    if (nominated) {
      const info = this.snapshot.get(nominated);
      if (info?.node && (!allowed || allowed.has(nominated))) {
        const result = this.filtersWithNominatedPods(framework, state, pod, info);
        if (!result) return { nodes: [info], evaluated: 1 };
        if (result.code === 'Error') return { error: new Error(result.reasons.join(', ')) };
      }
    }
    const all = allowed ? [...allowed].map((name) => this.snapshot.get(name)).filter((info): info is NodeInfo => info?.node !== undefined) : this.snapshot.nodeInfoList;
    const wanted = this.numFeasibleNodesToFind(framework, all.length);
    const feasible: NodeInfo[] = [];
    const start = allowed ? 0 : this.nextStartNodeIndex % Math.max(1, all.length);
    let evaluated = 0;
    for (; evaluated < all.length && feasible.length < wanted; evaluated++) {
      const info = all[(start + evaluated) % all.length];
      const result = this.filtersWithNominatedPods(framework, state, pod, info);
      if (!result) feasible.push(info);
      else if (result.code === 'Error') return { error: new Error(result.reasons.join(', ')) };
      else diagnosis.record(info.name, result);
    }
    if (!allowed && all.length > 0) this.nextStartNodeIndex = (start + evaluated) % all.length;
    return { nodes: feasible, evaluated };
  }

  /**
   * Filters as upstream's RunFilterPluginsWithNominatedPods: when pods of equal or higher
   * priority are nominated to the node, the pod must fit with them there too.
   */
  filtersWithNominatedPods(framework: Framework, state: CycleState, pod: Pod, info: NodeInfo): Result {
    if (!this.nominator.isEmpty) {
      const priority = podPriority(pod);
      const others = this.nominator.podsOn(info.name).filter((p) => p.metadata.uid !== pod.metadata.uid && podPriority(p) >= priority);
      if (others.length > 0) {
        const withNominated = info.clone();
        const stateWith = state.clone();
        for (const other of others) {
          const otherInfo = podInfoOf(other);
          withNominated.addPod(otherInfo);
          framework.runPreFilterExtensionAddPod(stateWith, pod, otherInfo, withNominated);
        }
        const result = framework.runFilters(stateWith, pod, withNominated);
        if (result) return result;
      }
    }
    return framework.runFilters(state, pod, info);
  }

  private async bindingCycle(framework: Framework, state: CycleState, queued: QueuedPod, pod: Pod, nodeName: string, started: number): Promise<void> {
    let result = await framework.runPreBind(state, pod, nodeName);
    if (!result) result = await framework.runBind(state, pod, nodeName);
    if (result) {
      this.cache.forgetPod(pod);
      framework.runUnreserve(state, pod, nodeName);
      // The room the assumed pod held is free again.
      this.moveAll('Pod/Delete');
      await this.handleFailure(framework, queued, this.queue.cycle, started, new Error(result.reasons.join(', ')), undefined);
      return;
    }
    this.queue.done(queued.key);
    const seconds = (performance.now() - started) / 1000;
    this.metrics?.attempts.inc({ result: 'scheduled', profile: framework.schedulerName });
    this.metrics?.attemptDuration.observe({ result: 'scheduled', profile: framework.schedulerName }, seconds);
    this.metrics?.sliDuration.observe({ attempts: String(Math.min(queued.attempts, 16)) }, (Date.now() - queued.initialAttemptTimestamp) / 1000);
    this.recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${nodeName}`);
  }

  /** No node fits (or an error): PostFilter (preemption) for a fit error, then the failure is recorded. */
  private async recordFailure(framework: Framework, queued: QueuedPod, cycle: number, started: number, error: Error, state: CycleState): Promise<void> {
    let nominatedNodeName: string | undefined;
    if (error instanceof FitError && framework.hasPostFilter) {
      const outcome = await framework.runPostFilter(state, queued.pod, error.diagnosis.nodeToStatus);
      if (outcome.status?.reasons.length) error.diagnosis.postFilterMsg = outcome.status.reasons.join(', ');
      nominatedNodeName = outcome.result?.nominatedNodeName;
    }
    await this.handleFailure(framework, queued, cycle, started, error, nominatedNodeName);
  }

  private async handleFailure(framework: Framework, queued: QueuedPod, cycle: number, started: number, error: Error, nominatedNodeName: string | undefined): Promise<void> {
    const fit = error instanceof FitError;
    const result = fit ? 'unschedulable' : 'error';
    this.metrics?.attempts.inc({ result, profile: framework.schedulerName });
    this.metrics?.attemptDuration.observe({ result, profile: framework.schedulerName }, (performance.now() - started) / 1000);
    const { namespace, name } = queued.pod.metadata;
    const current = this.pods.get(namespace, name!);
    if (!current || current.metadata.uid !== queued.pod.metadata.uid || current.spec?.nodeName) {
      this.queue.done(queued.key);
      return;
    }
    queued.pod = current;
    queued.unschedulablePlugins = fit ? new Set((error as FitError).diagnosis.unschedulablePlugins) : new Set();
    this.queue.addUnschedulable(queued, cycle);
    if (nominatedNodeName !== undefined) this.nominator.set(current, nominatedNodeName || undefined);
    const message = error.message;
    this.recorder.event(current, 'Warning', 'FailedScheduling', message);
    await this.updatePodScheduledCondition(current, { reason: fit ? 'Unschedulable' : 'SchedulerError', message }, nominatedNodeName);
  }

  /** Sets PodScheduled=False (and the nomination) through pods/status, when it changed. */
  private async updatePodScheduledCondition(pod: Pod, condition: { reason: string; message: string }, nominatedNodeName: string | undefined): Promise<void> {
    const conditions: Obj[] = pod.status?.conditions ?? [];
    const existing = conditions.find((c) => c.type === 'PodScheduled');
    const sameCondition = existing && existing.status === 'False' && existing.reason === condition.reason && existing.message === condition.message;
    const sameNomination = nominatedNodeName === undefined || (pod.status?.nominatedNodeName ?? '') === nominatedNodeName;
    if (sameCondition && sameNomination) return;
    try {
      await this.options.client.mutate(
        PODS,
        pod.metadata.namespace,
        pod.metadata.name!,
        (latest) => {
          if (latest.spec?.nodeName || latest.metadata.uid !== pod.metadata.uid) return latest;
          latest.status ??= {};
          const others = ((latest.status.conditions ?? []) as Obj[]).filter((c) => c.type !== 'PodScheduled');
          const previous = ((latest.status.conditions ?? []) as Obj[]).find((c) => c.type === 'PodScheduled');
          const transitioned = !previous || previous.status !== 'False';
          latest.status.conditions = [...others, { type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: transitioned ? nowRfc3339() : previous.lastTransitionTime, reason: condition.reason, message: condition.message }];
          if (nominatedNodeName !== undefined) {
            if (nominatedNodeName) latest.status.nominatedNodeName = nominatedNodeName;
            else delete latest.status.nominatedNodeName;
          }
          return latest;
        },
        { subresource: 'status' },
      );
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) log.warn('could not update the PodScheduled condition', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, error: String(error) });
    }
  }

  /** For tests and benchmarks: pending counts. */
  get pendingCounts(): { active: number; backoff: number; unschedulable: number; gated: number } {
    return this.queue.counts;
  }

  /** A node's current state in the cache's snapshot (tests). */
  nodeInfo(name: string): NodeInfo | undefined {
    this.cache.updateSnapshot(this.snapshot);
    return this.snapshot.get(name);
  }

  /** The failure statuses of the last diagnosis are not kept; tests read events instead. */
  static readonly version = 1;
}

function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** The highest total; ties broken uniformly at random (reservoir sampling, as upstream's selectHost). */
function selectHost(nodes: readonly NodeInfo[], scores: readonly number[]): string {
  let best = 0;
  let ties = 1;
  for (let i = 1; i < nodes.length; i++) {
    if (scores[i] > scores[best]) {
      best = i;
      ties = 1;
    } else if (scores[i] === scores[best]) {
      ties++;
      if (Math.random() * ties < 1) best = i;
    }
  }
  return nodes[best].name;
}

/** Which kinds of node change happened (upstream's nodeSchedulingPropertiesChange). */
export function nodeUpdateEvents(oldNode: Obj, node: Obj): ClusterEvent[] {
  const events: ClusterEvent[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (!!oldNode.spec?.unschedulable !== !!node.spec?.unschedulable) events.push('Node/UpdateNodeSpecUnschedulable');
  if (!same(oldNode.status?.allocatable, node.status?.allocatable)) events.push('Node/UpdateNodeAllocatable');
  if (!same(oldNode.metadata.labels, node.metadata.labels)) events.push('Node/UpdateNodeLabel');
  if (!same(oldNode.spec?.taints, node.spec?.taints)) events.push('Node/UpdateNodeTaint');
  const conditions = (n: Obj) => ((n.status?.conditions ?? []) as Obj[]).map((c) => `${c.type}=${c.status}`).sort().join(',');
  if (conditions(oldNode) !== conditions(node)) events.push('Node/UpdateNodeCondition');
  if (!same(oldNode.metadata.annotations, node.metadata.annotations)) events.push('Node/UpdateNodeAnnotation');
  return events;
}

export type { Status };
