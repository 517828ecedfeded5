/**
 * One Job sync (upstream job_controller.go syncJob): count the Job's finished pods exactly once
 * through the batch.kubernetes.io/job-tracking finalizer and status.uncountedTerminatedPods,
 * decide whether the Job failed (podFailurePolicy, backoffLimit, activeDeadlineSeconds) or
 * succeeded, otherwise keep `parallelism` pods running towards `completions` (respecting the
 * failure backoff and suspend), and record status. A finished Job first gets the interim
 * FailureTarget or SuccessCriteriaMet condition; Failed or Complete follows once no pod is
 * left terminating, as 1.32 does.
 */
import { ApiError } from '../../api/status.js';
import { selectorFromSpec } from '../../api/selectors.js';
import type { ApiClient, Obj } from '../../client/api-client.js';
import type { EventRecorder } from '../../client/event-recorder.js';
import type { SharedInformer } from '../../client/informer.js';
import { JOBS, PODS, splitKey } from '../../client/resource-types.js';
import type { ReconcileResult } from '../../client/work-queue.js';
import { rfc3339, type Clock } from '../clock.js';
import { claimCandidates, claimObjects, newControllerRef } from '../controller-ref.js';
import { comparePodsForDeletion, isPodActive, isPodReady, isPodTerminating } from '../pod-state.js';
import { slowStartBatch, SLOW_START_INITIAL_BATCH } from '../slow-start.js';
import { BackoffStore, remainingBackoffMs, type BackoffRecord } from './backoff.js';
import { ensureCondition, findCondition, isJobFinished, MESSAGE, newCondition, REASON, type JobCondition } from './conditions.js';
import { addCompletionIndexEnv, completionIndexOf, COMPLETION_INDEX, firstPendingIndexes, generateNameWithIndex, Intervals } from './indexes.js';
import { matchPodFailurePolicy } from './pod-failure-policy.js';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
/** Upstream's MaxUncountedPods and MaxPodCreateDeletePerSync. */
const MAX_UNCOUNTED_PODS = 500;
const MAX_POD_CREATE_DELETE_PER_SYNC = 500;

export interface JobControlDeps {
  client: ApiClient;
  jobs: SharedInformer;
  pods: SharedInformer;
  events: Pick<EventRecorder, 'event'>;
  clock: Clock;
}

interface Uncounted {
  succeeded: Set<string>;
  failed: Set<string>;
}

/** What one sync knows (upstream syncJobCtx). */
interface SyncContext {
  key: string;
  job: Obj;
  pods: Obj[];
  activePods: Obj[];
  ready: number;
  terminating: number;
  succeeded: number;
  failed: number;
  uncounted: Uncounted;
  backoff: BackoffRecord;
  finishedCondition?: JobCondition;
  prevSucceededIndexes: Intervals;
  succeededIndexes: Intervals;
  requeueAfterMs: number[];
}

/** spec.managedBy names a controller other than this one. */
export const isManagedElsewhere = (job: Obj) => typeof job.spec?.managedBy === 'string' && job.spec.managedBy !== 'kubernetes.io/job-controller';
export const hasTrackingFinalizer = (pod: Obj) => (pod.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
const isIndexed = (job: Obj) => job.spec?.completionMode === 'Indexed';
const isSuspended = (job: Obj) => job.spec?.suspend === true;
/** podReplacementPolicy Failed: a terminating pod is replaced only once it has failed. */
const onlyReplaceFailedPods = (job: Obj) => job.spec?.podReplacementPolicy === 'Failed' || job.spec?.podFailurePolicy !== undefined;

/** A pod that counts as failed: phase Failed, or deleted before finishing (unless only failed pods are replaced). */
export function isPodFailed(pod: Obj, job: Obj): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return isPodTerminating(pod) && pod.status?.phase !== 'Succeeded';
}

export class JobControl {
  readonly backoff = new BackoffStore();

  constructor(private readonly deps: JobControlDeps) {}

  async sync(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const shared = this.deps.jobs.lister.get(namespace, name);
    if (!shared || isJobFinished(shared)) {
      this.backoff.remove(key);
      return;
    }
    // A Job another controller manages (spec.managedBy, JobManagedBy) is left to it.
    if (isManagedElsewhere(shared)) return;
    const mode = shared.spec?.completionMode ?? 'NonIndexed';
    if (mode !== 'NonIndexed' && mode !== 'Indexed') {
      this.deps.events.event(shared, 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
      return;
    }
    const job = structuredClone(shared);
    job.status ??= {};
    job.status.uncountedTerminatedPods ??= {};
    const now = this.deps.clock.now();
    const pods = await this.podsForJob(job);
    const activePods = pods.filter(isPodActive);
    const uncounted: Uncounted = {
      succeeded: new Set(job.status.uncountedTerminatedPods.succeeded ?? []),
      failed: new Set(job.status.uncountedTerminatedPods.failed ?? []),
    };
    const ctx: SyncContext = {
      key,
      job,
      pods,
      activePods,
      ready: activePods.filter(isPodReady).length,
      terminating: pods.filter((p) => isPodTerminating(p) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length,
      succeeded: 0,
      failed: 0,
      uncounted,
      backoff: { failuresAfterLastSuccess: 0 },
      prevSucceededIndexes: Intervals.empty(),
      succeededIndexes: Intervals.empty(),
      requeueAfterMs: [],
    };
    let active = activePods.length;
    const newSucceeded = this.newFinishedPods(ctx, uncounted.succeeded, (p) => p.status?.phase === 'Succeeded');
    const newFailed = this.newFinishedPods(ctx, uncounted.failed, (p) => isPodFailed(p, job));
    ctx.succeeded = (job.status.succeeded ?? 0) + newSucceeded.length + uncounted.succeeded.size;
    ctx.failed = (job.status.failed ?? 0) + newFailed.filter((p) => matchPodFailurePolicy(job.spec?.podFailurePolicy, p).countFailed).length + uncounted.failed.size;
    if (!job.status.startTime && !isSuspended(job)) job.status.startTime = rfc3339(now);
    ctx.backoff = this.backoff.next(key, newSucceeded, newFailed, now);

    const exceedsBackoffLimit = ctx.failed > (job.spec?.backoffLimit ?? 6);
    const successCriteriaMet = findCondition(job, 'SuccessCriteriaMet');
    if (successCriteriaMet?.status === 'True') ctx.finishedCondition = successCriteriaMet;
    if (!ctx.finishedCondition) {
      const failureTarget = findCondition(job, 'FailureTarget');
      if (failureTarget?.status === 'True') ctx.finishedCondition = newCondition('Failed', 'True', failureTarget.reason, failureTarget.message, now);
      else {
        const message = this.failJobMessage(job, pods);
        if (message) ctx.finishedCondition = newCondition('FailureTarget', 'True', REASON.podFailurePolicy, message, now);
      }
    }
    if (!ctx.finishedCondition) {
      if (exceedsBackoffLimit || pastBackoffLimitOnFailure(job, pods)) {
        ctx.finishedCondition = newCondition('FailureTarget', 'True', REASON.backoffLimitExceeded, MESSAGE.backoffLimitExceeded, now);
      } else if (this.pastActiveDeadline(job, now)) {
        ctx.finishedCondition = newCondition('FailureTarget', 'True', REASON.deadlineExceeded, MESSAGE.deadlineExceeded, now);
      } else if (job.spec?.activeDeadlineSeconds !== undefined && !isSuspended(job)) {
        ctx.requeueAfterMs.push(job.spec.activeDeadlineSeconds * 1000 - (now - Date.parse(job.status.startTime)));
      }
    }
    if (isIndexed(job)) {
      const completions: number = job.spec.completions;
      ctx.prevSucceededIndexes = Intervals.parse(job.status.completedIndexes, completions);
      const newlySucceeded = pods.filter((p) => p.status?.phase === 'Succeeded' && hasTrackingFinalizer(p)).map(completionIndexOf).filter((i) => i >= 0 && i < completions);
      ctx.succeededIndexes = ctx.prevSucceededIndexes.with(newlySucceeded);
      ctx.succeeded = ctx.succeededIndexes.total();
    }

    let suspendChanged = false;
    if (ctx.finishedCondition) {
      const { deleted, deletedReady } = await this.deleteActivePods(ctx.activePods);
      // Not finished while pods it tried to remove may still be around.
      if (deleted !== active) ctx.finishedCondition = undefined;
      active -= deleted;
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
    } else {
      let manageCalled = false;
      if (!job.metadata.deletionTimestamp) {
        active = await this.manageJob(ctx, active);
        manageCalled = true;
      }
      const completions = job.spec?.completions;
      const complete = completions === undefined || completions === null ? ctx.succeeded > 0 && active === 0 : ctx.succeeded >= completions && active === 0;
      if (complete) {
        ctx.finishedCondition = newCondition('SuccessCriteriaMet', 'True', REASON.completionsReached, MESSAGE.completionsReached, now);
      } else if (manageCalled) {
        job.status.conditions ??= [];
        if (isSuspended(job)) {
          if (ensureCondition(job.status.conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) {
            suspendChanged = true;
            this.deps.events.event(job, 'Normal', 'Suspended', 'Job suspended');
          }
        } else if (ensureCondition(job.status.conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', now)) {
          suspendChanged = true;
          this.deps.events.event(job, 'Normal', 'Resumed', 'Job resumed');
          // activeDeadlineSeconds counts time continuously active: it restarts with the Job.
          job.status.startTime = rfc3339(now);
        }
        if (job.status.conditions.length === 0) delete job.status.conditions;
      }
    }

    const needsStatusUpdate = suspendChanged || active !== (job.status.active ?? 0) || ctx.ready !== job.status.ready || ctx.terminating !== job.status.terminating || job.status.startTime !== shared.status?.startTime;
    job.status.active = active;
    job.status.ready = ctx.ready;
    job.status.terminating = ctx.terminating;
    await this.trackStatusAndRemoveFinalizers(ctx, needsStatusUpdate);
    const waits = ctx.requeueAfterMs.filter((ms) => Number.isFinite(ms));
    if (waits.length > 0) return { requeueAfterMs: Math.max(0, Math.min(...waits)) };
  }

  /** The Job's pods, adopting orphans its selector matches (with the tracking finalizer) and releasing the rest. */
  private podsForJob(job: Obj): Promise<Obj[]> {
    const selector = selectorFromSpec(job.spec?.selector);
    if (selector.length === 0) return Promise.resolve([]);
    return claimObjects({ client: this.deps.client, type: PODS, owner: job, ownerType: JOBS, selector, candidates: claimCandidates(this.deps.pods, job, selector), adoptFinalizers: [JOB_TRACKING_FINALIZER] });
  }

  /** Finished pods not counted yet: still holding the finalizer, not in the uncounted list, with a valid index. */
  private newFinishedPods(ctx: SyncContext, uncounted: ReadonlySet<string>, filter: (pod: Obj) => boolean): Obj[] {
    return ctx.pods.filter((pod) => {
      if (!hasTrackingFinalizer(pod) || uncounted.has(pod.metadata.uid!)) return false;
      if (isIndexed(ctx.job)) {
        const index = completionIndexOf(pod);
        if (index < 0 || index >= ctx.job.spec.completions) return false;
      }
      return filter(pod);
    });
  }

  private failJobMessage(job: Obj, pods: Obj[]): string | undefined {
    if (!job.spec?.podFailurePolicy) return undefined;
    for (const pod of pods) {
      if (!isPodFailed(pod, job)) continue;
      const message = matchPodFailurePolicy(job.spec.podFailurePolicy, pod).failJobMessage;
      if (message) return message;
    }
    return undefined;
  }

  private pastActiveDeadline(job: Obj, now: number): boolean {
    if (job.spec?.activeDeadlineSeconds === undefined || !job.status?.startTime || isSuspended(job)) return false;
    return now - Date.parse(job.status.startTime) >= job.spec.activeDeadlineSeconds * 1000;
  }

  /** Keeps the right number of pods running (manageJob); returns the number active after. */
  private async manageJob(ctx: SyncContext, active: number): Promise<number> {
    const job = ctx.job;
    if (isSuspended(job)) {
      const { deleted, deletedReady } = await this.deleteJobPods(job, activePodsForRemoval(job, ctx.activePods, active));
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      return active - deleted;
    }
    const parallelism: number = job.spec?.parallelism ?? 1;
    const completions: number | undefined = job.spec?.completions ?? undefined;
    let wantActive: number;
    if (completions === undefined) wantActive = ctx.succeeded > 0 ? active : parallelism;
    else wantActive = Math.max(0, Math.min(completions - ctx.succeeded, parallelism));

    const toDelete = activePodsForRemoval(job, ctx.activePods, Math.max(0, active - wantActive)).slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
    if (toDelete.length > 0) {
      // A sync either deletes or creates, deletion first.
      const { deleted, deletedReady } = await this.deleteJobPods(job, toDelete);
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      return active - deleted;
    }
    const terminating = onlyReplaceFailedPods(job) ? ctx.terminating : 0;
    let diff = wantActive - terminating - active;
    if (diff <= 0) return active;
    const remaining = remainingBackoffMs(ctx.backoff, this.deps.clock.now());
    if (remaining > 0) {
      ctx.requeueAfterMs.push(remaining);
      return active;
    }
    diff = Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC);
    let indexes: number[] = [];
    if (isIndexed(job)) {
      const taken = new Set<number>();
      for (const pod of ctx.activePods) taken.add(completionIndexOf(pod));
      if (onlyReplaceFailedPods(job)) for (const pod of ctx.pods) if (isPodTerminating(pod) && pod.status?.phase !== 'Failed' && pod.status?.phase !== 'Succeeded') taken.add(completionIndexOf(pod));
      indexes = firstPendingIndexes(diff, completions!, ctx.succeededIndexes, taken);
      diff = indexes.length;
    }
    const template = structuredClone(job.spec.template ?? {});
    if (isIndexed(job)) addCompletionIndexEnv(template.spec);
    const { successes, error } = await slowStartBatch(diff, SLOW_START_INITIAL_BATCH, (i) => this.createPod(job, template, isIndexed(job) ? indexes[i] : undefined));
    if (error) throw error;
    return active + successes;
  }

  private async createPod(job: Obj, template: Obj, index: number | undefined): Promise<void> {
    const metadata = template.metadata ?? {};
    const spec = structuredClone(template.spec ?? {});
    const labels = { ...(metadata.labels ?? {}) };
    const annotations = { ...(metadata.annotations ?? {}) };
    let generateName = `${job.metadata.name}-`;
    if (index !== undefined) {
      annotations[COMPLETION_INDEX] = String(index);
      labels[COMPLETION_INDEX] = String(index);
      spec.hostname = `${job.metadata.name}-${index}`;
      generateName = generateNameWithIndex(job.metadata.name!, index);
    }
    const finalizers = [...(metadata.finalizers ?? [])];
    if (!finalizers.includes(JOB_TRACKING_FINALIZER)) finalizers.push(JOB_TRACKING_FINALIZER);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName,
        namespace: job.metadata.namespace,
        labels,
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        finalizers,
        ownerReferences: [newControllerRef(job, JOBS)],
      },
      spec,
    };
    try {
      const created = await this.deps.client.create(PODS, job.metadata.namespace, pod);
      this.deps.events.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
    } catch (error) {
      // A namespace being deleted refuses every pod; nothing to retry.
      if (error instanceof ApiError && error.details?.causes?.some((c) => c.reason === 'NamespaceTerminating')) return;
      this.deps.events.event(job, 'Warning', 'FailedCreate', `Error creating: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }

  /** Pods removed by the Job itself lose the finalizer first, so they are not counted as failures. */
  private async deleteJobPods(job: Obj, pods: Obj[]): Promise<{ deleted: number; deletedReady: number }> {
    let deleted = 0;
    let deletedReady = 0;
    for (const pod of pods) {
      try {
        await this.removeFinalizer(pod);
        await this.deps.client.delete(PODS, pod.metadata.namespace, pod.metadata.name!);
        this.deps.events.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 404)) throw error;
      }
      deleted++;
      if (isPodReady(pod)) deletedReady++;
    }
    return { deleted, deletedReady };
  }

  /** A failed Job's pods are deleted keeping their finalizers: they are counted as they go. */
  private async deleteActivePods(pods: Obj[]): Promise<{ deleted: number; deletedReady: number }> {
    let deleted = 0;
    let deletedReady = 0;
    for (const pod of pods) {
      try {
        await this.deps.client.delete(PODS, pod.metadata.namespace, pod.metadata.name!);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 404)) continue;
      }
      deleted++;
      if (isPodReady(pod)) deletedReady++;
    }
    return { deleted, deletedReady };
  }

  /** Removes the tracking finalizer; true when it is gone (or the pod is). */
  async removeFinalizer(pod: Obj): Promise<boolean> {
    if (!hasTrackingFinalizer(pod)) return true;
    try {
      // A patch, as upstream's: the job controller may patch pods, not update them.
      await this.deps.client.patch(PODS, pod.metadata.namespace, pod.metadata.name!, 'strategic', { metadata: { uid: pod.metadata.uid, [`$deleteFromPrimitiveList/finalizers`]: [JOB_TRACKING_FINALIZER] } });
      return true;
    } catch (error) {
      // Gone, or replaced by another pod of the same name (uid precondition): nothing to remove.
      if (error instanceof ApiError && (error.code === 404 || error.code === 409)) return true;
      throw error;
    }
  }

  /**
   * trackJobStatusAndRemoveFinalizers: record newly finished pods in uncountedTerminatedPods,
   * remove their finalizers, move them into the counters, then add the finishing condition.
   */
  private async trackStatusAndRemoveFinalizers(ctx: SyncContext, needsFlush: boolean): Promise<void> {
    const job = ctx.job;
    const indexed = isIndexed(job);
    const completions: number = job.spec?.completions ?? 0;
    const uncountedStatus = job.status.uncountedTerminatedPods;
    uncountedStatus.succeeded = [...(uncountedStatus.succeeded ?? [])];
    uncountedStatus.failed = [...(uncountedStatus.failed ?? [])];
    const pods = indexed ? [...ctx.pods].sort((a, b) => completionIndexOf(a) - completionIndexOf(b)) : ctx.pods;
    const withFinalizer = new Set(pods.filter(hasTrackingFinalizer).map((p) => p.metadata.uid!));
    if (cleanUncounted(job.status, withFinalizer)) needsFlush = true;
    const toRemoveFinalizer: Obj[] = [];
    const newSucceededIndexes: number[] = [];
    let reachedMax = false;
    for (const pod of pods) {
      if (!hasTrackingFinalizer(pod)) continue;
      const uid = pod.metadata.uid!;
      const considerFailed = isPodFailed(pod, job);
      if (!(job.metadata.deletionTimestamp || ctx.finishedCondition || pod.status?.phase === 'Succeeded' || considerFailed)) continue;
      toRemoveFinalizer.push(pod);
      if (pod.status?.phase === 'Succeeded' && !ctx.uncounted.failed.has(uid)) {
        if (indexed) {
          const index = completionIndexOf(pod);
          if (index >= 0 && index < completions && !ctx.prevSucceededIndexes.has(index)) {
            newSucceededIndexes.push(index);
            needsFlush = true;
          }
        } else if (!ctx.uncounted.succeeded.has(uid)) {
          uncountedStatus.succeeded.push(uid);
          needsFlush = true;
        }
      } else if (considerFailed || (ctx.finishedCondition && ctx.finishedCondition.type !== 'SuccessCriteriaMet')) {
        // Once the Job is finished, every pod that did not succeed counts as failed.
        const index = completionIndexOf(pod);
        if (!ctx.uncounted.failed.has(uid) && (!indexed || (index >= 0 && index < completions))) {
          if (matchPodFailurePolicy(job.spec?.podFailurePolicy, pod).countFailed) {
            uncountedStatus.failed.push(uid);
            needsFlush = true;
          }
        }
      }
      if (newSucceededIndexes.length + uncountedStatus.succeeded.length + uncountedStatus.failed.length >= MAX_UNCOUNTED_PODS) {
        reachedMax = true;
        break;
      }
    }
    if (indexed) {
      ctx.succeededIndexes = ctx.succeededIndexes.with(newSucceededIndexes);
      const text = ctx.succeededIndexes.toString();
      if (text !== (job.status.completedIndexes ?? '')) needsFlush = true;
      job.status.succeeded = ctx.succeededIndexes.total();
      job.status.completedIndexes = text;
    }
    const now = this.deps.clock.now();
    if (ctx.finishedCondition?.type === 'FailureTarget') {
      (job.status.conditions ??= []).push(ctx.finishedCondition);
      needsFlush = true;
      ctx.finishedCondition = newCondition('Failed', 'True', ctx.finishedCondition.reason, ctx.finishedCondition.message, now);
    }
    if (ctx.finishedCondition?.type === 'SuccessCriteriaMet') {
      if (findCondition(job, 'SuccessCriteriaMet')?.status !== 'True') {
        (job.status.conditions ??= []).push(ctx.finishedCondition);
        needsFlush = true;
      }
      ctx.finishedCondition = newCondition('Complete', 'True', ctx.finishedCondition.reason, ctx.finishedCondition.message, now);
    }

    // 1. Flush the uncounted pods (and interim conditions) before touching any finalizer.
    let current = job;
    if (needsFlush) {
      current = await this.writeStatus(current);
      this.backoff.save(ctx.key, ctx.backoff);
      needsFlush = false;
    }
    // 2. Remove the finalizers; 3. count the pods whose finalizer is gone.
    let removalError: unknown;
    for (const pod of toRemoveFinalizer) {
      try {
        if (await this.removeFinalizer(pod)) withFinalizer.delete(pod.metadata.uid!);
      } catch (error) {
        removalError ??= error;
      }
    }
    current.status.uncountedTerminatedPods ??= {};
    if (cleanUncounted(current.status, withFinalizer)) needsFlush = true;
    if (removalError) {
      if (needsFlush) await this.writeStatus(current);
      throw removalError;
    }
    // 4. Finished once nothing is uncounted and no pod is terminating.
    let finished = false;
    const uncountedLeft = (current.status.uncountedTerminatedPods?.succeeded?.length ?? 0) + (current.status.uncountedTerminatedPods?.failed?.length ?? 0);
    if (!reachedMax && ctx.finishedCondition && uncountedLeft === 0 && ctx.terminating === 0) {
      const condition = ctx.finishedCondition;
      current.status.conditions ??= [];
      ensureCondition(current.status.conditions, condition.type, condition.status, condition.reason ?? '', condition.message ?? '', now);
      if (condition.type === 'Complete') current.status.completionTime = rfc3339(now);
      finished = true;
      needsFlush = true;
    }
    if (needsFlush) {
      const written = await this.writeStatus(current);
      if (finished) this.recordFinished(written, ctx.finishedCondition!);
    }
  }

  private recordFinished(job: Obj, condition: JobCondition): void {
    if (condition.type === 'Complete') {
      if (job.spec?.completions !== undefined && (job.status?.succeeded ?? 0) > job.spec.completions) {
        this.deps.events.event(job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
      }
      this.deps.events.event(job, 'Normal', 'Completed', 'Job completed');
    } else {
      this.deps.events.event(job, 'Warning', condition.reason ?? 'Failed', condition.message ?? '');
    }
  }

  /** Writes status with the resourceVersion read: a concurrent change makes the sync retry. */
  private async writeStatus(job: Obj): Promise<Obj> {
    // The client copies what it is given; `job` is this sync's own copy, so no clone is needed here.
    const stored = await this.deps.client.update(JOBS, job.metadata.namespace, job.metadata.name!, { ...job, status: normalizeStatus(job.status) }, { subresource: 'status' });
    // Carry on with our view of status (the counters just written) at the new version.
    job.metadata.resourceVersion = stored.metadata.resourceVersion;
    return job;
  }
}

/** Moves uids whose finalizer is gone from uncountedTerminatedPods into the counters. */
function cleanUncounted(status: Obj['spec'], withFinalizer: ReadonlySet<string>): boolean {
  const uncounted = status.uncountedTerminatedPods ?? {};
  let changed = false;
  for (const [list, counter] of [['succeeded', 'succeeded'], ['failed', 'failed']] as const) {
    const before: string[] = uncounted[list] ?? [];
    const kept = before.filter((uid) => withFinalizer.has(uid));
    if (kept.length !== before.length) {
      status[counter] = (status[counter] ?? 0) + before.length - kept.length;
      uncounted[list] = kept;
      changed = true;
    }
  }
  return changed;
}

/** JobStatus as upstream serialises it: zero counters and empty lists are omitted, pointers kept. */
function normalizeStatus(status: Obj['spec']): Obj['spec'] {
  const out = { ...status };
  for (const counter of ['active', 'succeeded', 'failed']) if (!out[counter]) delete out[counter];
  if (!out.completedIndexes) delete out.completedIndexes;
  const uncounted = { ...(out.uncountedTerminatedPods ?? {}) };
  for (const list of ['succeeded', 'failed']) if (!uncounted[list]?.length) delete uncounted[list];
  out.uncountedTerminatedPods = uncounted;
  if (Array.isArray(out.conditions) && out.conditions.length === 0) delete out.conditions;
  return out;
}

/** restartPolicy OnFailure: container restarts of running pods count against backoffLimit. */
function pastBackoffLimitOnFailure(job: Obj, pods: Obj[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const pod of pods) {
    if (pod.status?.phase !== 'Running' && pod.status?.phase !== 'Pending') continue;
    for (const status of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])] as Obj['spec'][]) restarts += status.restartCount ?? 0;
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/**
 * Which active pods to delete (activePodsForRemoval): for Indexed Jobs first those with a
 * duplicate, missing or out-of-range index, then the least advanced.
 */
export function activePodsForRemoval(job: Obj, pods: Obj[], atLeast: number): Obj[] {
  const remove: Obj[] = [];
  let left = pods;
  if (isIndexed(job)) {
    left = [];
    const byIndex = new Map<number, Obj[]>();
    for (const pod of pods) {
      const index = completionIndexOf(pod);
      if (index < 0 || index >= job.spec.completions) remove.push(pod);
      else (byIndex.get(index) ?? byIndex.set(index, []).get(index)!).push(pod);
    }
    for (const same of byIndex.values()) {
      const ranked = [...same].sort(comparePodsForDeletion);
      remove.push(...ranked.slice(0, -1));
      left.push(ranked[ranked.length - 1]);
    }
  }
  if (remove.length < atLeast) remove.push(...[...left].sort(comparePodsForDeletion).slice(0, atLeast - remove.length));
  return remove;
}

