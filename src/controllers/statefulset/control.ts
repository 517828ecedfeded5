/**
 * One StatefulSet sync (upstream defaultStatefulSetControl.UpdateStatefulSet): claim the set's
 * revisions and pods, settle its current and update revisions, then bring the pods to the
 * target — create missing ordinals (OrderedReady: one at a time, each only once every lower
 * ordinal is Running and Ready; Parallel: all at once), delete ordinals beyond the replicas
 * from the highest down, and under RollingUpdate replace pods not at the update revision from
 * the highest ordinal down to the partition, one unhealthy pod at a time — and record status.
 */
import { jsonEqual } from '../../api/object.js';
import { ApiError } from '../../api/status.js';
import { selectorFromSpec, type LabelSelector } from '../../api/selectors.js';
import type { ApiClient, Obj } from '../../client/api-client.js';
import type { EventRecorder } from '../../client/event-recorder.js';
import type { SharedInformer } from '../../client/informer.js';
import { PERSISTENT_VOLUME_CLAIMS, PODS, STATEFUL_SETS, splitKey } from '../../client/resource-types.js';
import type { ReconcileResult } from '../../client/work-queue.js';
import type { Clock } from '../clock.js';
import { claimCandidates, claimObjects } from '../controller-ref.js';
import { POD_REVISION_LABEL, sortRevisions, truncateHistory } from '../history.js';
import { isPodAvailable, isPodReady, isPodTerminating, msUntilAvailable } from '../pod-state.js';
import { slowStartBatch, SLOW_START_INITIAL_BATCH } from '../slow-start.js';
import { CONTROLLER_REVISIONS } from '../../client/resource-types.js';
import { claimsFor, identityMatches, isMemberOf, newStatefulSetPod, ordinalOf, podInOrdinalRange, POD_INDEX_LABEL, POD_NAME_LABEL, replicasOf, retentionOwnerRefs, startOrdinal, storageMatches } from './identity.js';
import { applyRevision, statefulSetRevisions } from './revisions.js';

export interface StatefulSetControlDeps {
  client: ApiClient;
  sets: SharedInformer;
  pods: SharedInformer;
  revisions: SharedInformer;
  claims: SharedInformer;
  events: Pick<EventRecorder, 'event'>;
  clock: Clock;
  /** The MaxUnavailableStatefulSet feature (alpha, off in 1.32): honour rollingUpdate.maxUnavailable. */
  maxUnavailable?: boolean;
}

interface SetStatus {
  observedGeneration: number;
  replicas: number;
  readyReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
}

const isCreated = (pod: Obj) => Boolean(pod.status?.phase);
const isRunningAndReady = (pod: Obj) => pod.status?.phase === 'Running' && isPodReady(pod);
const isHealthy = (pod: Obj) => isRunningAndReady(pod) && !isPodTerminating(pod);
const revisionOf = (pod: Obj) => pod.metadata.labels?.[POD_REVISION_LABEL] ?? '';

export class StatefulSetControl {
  constructor(private readonly deps: StatefulSetControlDeps) {}

  async sync(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const set = this.deps.sets.lister.get(namespace, name);
    if (!set) return;
    const selector = selectorFromSpec(set.spec?.selector);
    // An empty selector would claim every pod in the namespace; validation forbids it.
    if (selector.length === 0) return;
    const revisions = sortRevisions(await this.claimRevisions(set, selector));
    const pods = await claimObjects({
      client: this.deps.client,
      type: PODS,
      owner: set,
      ownerType: STATEFUL_SETS,
      selector,
      candidates: claimCandidates(this.deps.pods, set, selector),
      filter: (pod) => isMemberOf(set, pod),
    });
    const { current, update, collisionCount } = await statefulSetRevisions(this.deps.client, set, revisions);
    const { status, pods: finalPods } = await this.updateStatefulSet(set, current, update, collisionCount, pods);
    await this.writeStatus(set, status);
    const live = new Set<string>([current.metadata.name!, update.metadata.name!, ...pods.map(revisionOf)]);
    await truncateHistory(this.deps.client, revisions, live, set.spec?.revisionHistoryLimit ?? 10);
    return this.requeueForAvailability(set, finalPods);
  }

  /** The set's revisions, adopting orphans its selector matches (revisions are never released). */
  private async claimRevisions(set: Obj, selector: LabelSelector): Promise<Obj[]> {
    return claimObjects({ client: this.deps.client, type: CONTROLLER_REVISIONS, owner: set, ownerType: STATEFUL_SETS, selector, candidates: claimCandidates(this.deps.revisions, set, selector) });
  }

  private async updateStatefulSet(set: Obj, currentRevision: Obj, updateRevision: Obj, collisionCount: number, pods: Obj[]): Promise<{ status: SetStatus; pods: Obj[] }> {
    const currentSet = applyRevision(set, currentRevision);
    const updateSet = applyRevision(set, updateRevision);
    const start = startOrdinal(set);
    const replicaCount = replicasOf(set);
    const replicas: Obj[] = new Array(replicaCount);
    const condemned: Obj[] = [];
    for (const pod of pods) {
      if (podInOrdinalRange(pod, set)) replicas[ordinalOf(pod) - start] = pod;
      else if (ordinalOf(pod) >= 0) condemned.push(pod);
    }
    for (let i = 0; i < replicaCount; i++) {
      replicas[i] ??= this.newVersionedPod(currentSet, updateSet, currentRevision.metadata.name!, updateRevision.metadata.name!, start + i);
    }
    condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));
    const firstUnhealthy = replicas.find((p) => !isHealthy(p)) ?? [...condemned].reverse().find((p) => !isHealthy(p));
    const status = (): SetStatus => this.computeStatus(set, currentRevision, updateRevision, collisionCount, [...replicas, ...condemned]);
    const result = () => ({ status: status(), pods: [...replicas, ...condemned] });

    if (set.metadata.deletionTimestamp) return result();
    const monotonic = set.spec?.podManagementPolicy !== 'Parallel';

    if (await this.runForAll(replicas.length, (i) => this.processReplica(set, updateSet, monotonic, replicas, i), monotonic)) return result();
    if (await this.runForAll(condemned.length, (i) => this.fixClaimRetention(updateSet, condemned[i]).then(() => false), monotonic)) return result();
    if (await this.runForAll(condemned.length, (i) => this.processCondemned(set, firstUnhealthy, monotonic, condemned, i), monotonic)) return result();

    const computed = status();
    if (set.spec?.updateStrategy?.type === 'OnDelete') return { status: computed, pods: [...replicas, ...condemned] };
    const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    const updateName = updateRevision.metadata.name!;
    if (this.deps.maxUnavailable) {
      // Up to maxUnavailable pods may be down at once, counting those already unhealthy.
      const maxUnavailable = resolveMaxUnavailable(set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, replicaCount);
      let budget = maxUnavailable - replicas.filter((p) => !isHealthy(p)).length;
      for (let target = replicas.length - 1; target >= partition && budget > 0; target--) {
        if (revisionOf(replicas[target]) !== updateName && !isPodTerminating(replicas[target])) {
          await this.deletePod(set, replicas[target], 'update');
          computed.currentReplicas--;
          budget--;
        }
      }
      return { status: computed, pods: [...replicas, ...condemned] };
    }
    for (let target = replicas.length - 1; target >= partition; target--) {
      if (revisionOf(replicas[target]) !== updateName && !isPodTerminating(replicas[target])) {
        await this.deletePod(set, replicas[target], 'update');
        computed.currentReplicas--;
        break;
      }
      // Wait for the pod just replaced to become healthy before touching the next.
      if (!isHealthy(replicas[target])) break;
    }
    return { status: computed, pods: [...replicas, ...condemned] };
  }

  /** Ordinals below the partition keep the current revision; the rest get the update revision. */
  private newVersionedPod(currentSet: Obj, updateSet: Obj, currentName: string, updateName: string, ordinal: number): Obj {
    const strategy = currentSet.spec?.updateStrategy ?? {};
    const start = startOrdinal(currentSet);
    const keepsCurrent =
      strategy.type === 'RollingUpdate' &&
      (strategy.rollingUpdate === undefined ? ordinal < start + (currentSet.status?.currentReplicas ?? 0) : ordinal < start + (strategy.rollingUpdate.partition ?? 0));
    return keepsCurrent ? newStatefulSetPod(currentSet, ordinal, currentName) : newStatefulSetPod(updateSet, ordinal, updateName);
  }

  /** Monotonic: one at a time, stopping where a step says so; otherwise all, in slow-start batches. */
  private async runForAll(count: number, fn: (i: number) => Promise<boolean>, monotonic: boolean): Promise<boolean> {
    if (monotonic) {
      for (let i = 0; i < count; i++) if (await fn(i)) return true;
      return false;
    }
    const { error } = await slowStartBatch(count, SLOW_START_INITIAL_BATCH, async (i) => void (await fn(i)));
    if (error) throw error;
    return false;
  }

  /** True when a monotonic sync must stop here (upstream processReplica). */
  private async processReplica(set: Obj, updateSet: Obj, monotonic: boolean, replicas: Obj[], i: number): Promise<boolean> {
    const pod = replicas[i];
    const phase = pod.status?.phase;
    // A pod that ran to an end is replaced, whatever its exit: the set wants it running.
    if (phase === 'Failed' || phase === 'Succeeded') {
      if (!isPodTerminating(pod)) await this.deletePod(set, pod, 'delete');
      return true;
    }
    if (!isCreated(pod)) {
      if (this.claimIsStale(set, pod)) return true;
      replicas[i] = await this.createPod(set, pod);
      if (monotonic) return true;
    }
    const live = replicas[i];
    if (live.status?.phase === 'Pending') await this.createMissingClaims(set, live);
    if (monotonic && isPodTerminating(live)) return true;
    if (monotonic && !isRunningAndReady(live)) return true;
    if (monotonic && !isPodAvailable(live, set.spec?.minReadySeconds ?? 0, this.deps.clock.now())) return true;
    const retentionMatches = this.claimsMatchRetention(updateSet, live);
    if (identityMatches(set, live) && storageMatches(set, live) && retentionMatches) return false;
    await this.updateStatefulPod(updateSet, live);
    return false;
  }

  private async processCondemned(set: Obj, firstUnhealthy: Obj | undefined, monotonic: boolean, condemned: Obj[], i: number): Promise<boolean> {
    const pod = condemned[i];
    if (isPodTerminating(pod)) return monotonic;
    if (monotonic && pod !== firstUnhealthy) {
      // Scale down waits for every remaining pod to be healthy, except the first unhealthy one.
      if (!isRunningAndReady(pod) || !isPodAvailable(pod, set.spec?.minReadySeconds ?? 0, this.deps.clock.now())) return true;
    }
    await this.deletePod(set, pod, 'delete');
    return true;
  }

  private async createPod(set: Obj, pod: Obj): Promise<Obj> {
    const { client, events } = this.deps;
    const podName = pod.metadata.name!;
    try {
      await this.createMissingClaims(set, pod);
      const created = await client.create(PODS, set.metadata.namespace, pod);
      await this.fixClaimRetention(set, created);
      events.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${set.metadata.name} successful`);
      return created;
    } catch (error) {
      events.event(set, 'Warning', 'FailedCreate', `create Pod ${podName} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(error)}`);
      throw error;
    }
  }

  private async deletePod(set: Obj, pod: Obj, verb: 'delete' | 'update'): Promise<void> {
    const { client, events } = this.deps;
    try {
      await client.delete(PODS, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      events.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return;
      events.event(set, 'Warning', 'FailedDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(error)}`);
      if (verb === 'update' && error instanceof ApiError && error.code === 409) return;
      throw error;
    }
  }

  /** A claim still owned by an earlier pod of the same name waits for the garbage collector. */
  private claimIsStale(set: Obj, pod: Obj): boolean {
    for (const claim of claimsFor(set, ordinalOf(pod)).values()) {
      const existing = this.deps.claims.lister.get(set.metadata.namespace, claim.metadata.name!);
      if (existing?.metadata.ownerReferences?.some((r) => r.kind === 'Pod' && r.name === pod.metadata.name && r.uid !== pod.metadata.uid)) return true;
    }
    return false;
  }

  private async createMissingClaims(set: Obj, pod: Obj): Promise<void> {
    const { client, claims, events } = this.deps;
    for (const claim of claimsFor(set, ordinalOf(pod)).values()) {
      const existing = claims.lister.get(set.metadata.namespace, claim.metadata.name!);
      if (existing) {
        if (existing.metadata.deletionTimestamp) throw new Error(`pvc ${claim.metadata.name} is being deleted`);
        continue;
      }
      const message = `Claim ${claim.metadata.name} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name}`;
      try {
        await client.create(PERSISTENT_VOLUME_CLAIMS, set.metadata.namespace, claim);
        events.event(set, 'Normal', 'SuccessfulCreate', `create ${message} success`);
      } catch (error) {
        if (error instanceof ApiError && error.reason === 'AlreadyExists') continue;
        events.event(set, 'Warning', 'FailedCreate', `create ${message} failed error: ${errorMessage(error)}`);
        throw error;
      }
    }
  }

  private claimsMatchRetention(set: Obj, pod: Obj): boolean {
    for (const claim of claimsFor(set, ordinalOf(pod)).values()) {
      const existing = this.deps.claims.lister.get(set.metadata.namespace, claim.metadata.name!);
      if (existing && retentionOwnerRefs(existing, set, pod)) return false;
    }
    return true;
  }

  /** Points the pod's claims' owner references where the retention policy says. */
  private async fixClaimRetention(set: Obj, pod: Obj): Promise<void> {
    for (const claim of claimsFor(set, ordinalOf(pod)).values()) {
      const existing = this.deps.claims.lister.get(set.metadata.namespace, claim.metadata.name!);
      if (!existing || !retentionOwnerRefs(existing, set, pod)) continue;
      try {
        await this.deps.client.mutate(PERSISTENT_VOLUME_CLAIMS, set.metadata.namespace, claim.metadata.name!, (current) => {
          const refs = retentionOwnerRefs(current, set, pod);
          if (refs) current.metadata.ownerReferences = refs;
          return current;
        });
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 404)) throw error;
      }
    }
  }

  /** Restores the pod's identity labels and its claims (a pod's volumes cannot change once created). */
  private async updateStatefulPod(set: Obj, pod: Obj): Promise<void> {
    if (!identityMatches(set, pod)) {
      try {
        await this.deps.client.mutate(PODS, pod.metadata.namespace, pod.metadata.name!, (current) => {
          current.metadata.labels = { ...(current.metadata.labels ?? {}), [POD_NAME_LABEL]: current.metadata.name!, [POD_INDEX_LABEL]: String(ordinalOf(current)) };
          return current;
        });
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 404)) throw error;
      }
    }
    await this.createMissingClaims(set, pod);
    await this.fixClaimRetention(set, pod);
  }

  private computeStatus(set: Obj, current: Obj, update: Obj, collisionCount: number, pods: Obj[]): SetStatus {
    const now = this.deps.clock.now();
    const minReadySeconds = set.spec?.minReadySeconds ?? 0;
    const status: SetStatus = {
      observedGeneration: set.metadata.generation ?? 0,
      replicas: 0,
      readyReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      availableReplicas: 0,
      currentRevision: current.metadata.name!,
      updateRevision: update.metadata.name!,
      collisionCount,
    };
    for (const pod of pods) {
      if (isCreated(pod)) status.replicas++;
      if (isRunningAndReady(pod)) {
        status.readyReplicas++;
        if (isPodAvailable(pod, minReadySeconds, now)) status.availableReplicas++;
      }
      if (isCreated(pod) && !isPodTerminating(pod)) {
        if (revisionOf(pod) === status.currentRevision) status.currentReplicas++;
        if (revisionOf(pod) === status.updateRevision) status.updatedReplicas++;
      }
    }
    return status;
  }

  /** Records status, completing a rolling update once every pod is updated and ready. */
  private async writeStatus(set: Obj, status: SetStatus): Promise<void> {
    if (set.spec?.updateStrategy?.type === 'RollingUpdate' && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    const wanted = serializeStatus(status, set.status);
    if (jsonEqual(wanted, set.status ?? {})) return;
    try {
      await this.deps.client.mutate(STATEFUL_SETS, set.metadata.namespace, set.metadata.name!, (current) => {
        current.status = serializeStatus(status, current.status);
        return current;
      }, { subresource: 'status' });
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
  }

  /** Ready pods become available after minReadySeconds: look again then. */
  private requeueForAvailability(set: Obj, pods: Obj[]): ReconcileResult | void {
    const minReadySeconds = set.spec?.minReadySeconds ?? 0;
    if (!minReadySeconds) return;
    const now = this.deps.clock.now();
    const waits = pods.filter((p) => isRunningAndReady(p)).map((p) => msUntilAvailable(p, minReadySeconds, now)).filter((ms) => ms > 0);
    if (waits.length > 0) return { requeueAfterMs: Math.min(...waits) };
  }
}

/** The status as upstream serialises it: zero counters omitted except replicas and availableReplicas. */
function serializeStatus(status: SetStatus, previous: Obj | undefined): Obj {
  const out: Obj = { ...(previous?.conditions ? { conditions: previous.conditions } : {}) } as Obj;
  if (status.observedGeneration) out.observedGeneration = status.observedGeneration;
  out.replicas = status.replicas;
  if (status.readyReplicas) out.readyReplicas = status.readyReplicas;
  if (status.currentReplicas) out.currentReplicas = status.currentReplicas;
  if (status.updatedReplicas) out.updatedReplicas = status.updatedReplicas;
  if (status.currentRevision) out.currentRevision = status.currentRevision;
  if (status.updateRevision) out.updateRevision = status.updateRevision;
  out.collisionCount = status.collisionCount;
  out.availableReplicas = status.availableReplicas;
  return out;
}

/** rollingUpdate.maxUnavailable against the replicas, rounded down, at least 1. */
function resolveMaxUnavailable(value: unknown, replicas: number): number {
  let resolved = 1;
  if (typeof value === 'number') resolved = value;
  else if (typeof value === 'string' && /^\d+%$/.test(value)) resolved = Math.floor((Number(value.slice(0, -1)) * replicas) / 100);
  return Math.max(1, resolved);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
