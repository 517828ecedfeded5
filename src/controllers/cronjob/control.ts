/**
 * One CronJob sync (upstream cronjob_controllerv2.go syncCronJob + cleanupFinishedJobs): track
 * the Jobs it owns (active list, last successful time), start the Job of the most recent
 * activation unless suspended, too late (startingDeadlineSeconds), already started, or held back
 * by concurrencyPolicy (Forbid skips, Replace deletes the running ones), trim finished Jobs to
 * the history limits, and say when to look again.
 */
import { ApiError } from '../../api/status.js';
import type { ApiClient, Obj } from '../../client/api-client.js';
import type { EventRecorder } from '../../client/event-recorder.js';
import type { SharedInformer } from '../../client/informer.js';
import { CRON_JOBS, JOBS, splitKey } from '../../client/resource-types.js';
import type { ReconcileResult } from '../../client/work-queue.js';
import { isValidTimeZone, localTimeZone, parseCronSchedule, type CronSchedule } from '../../registry/common/cron.js';
import { rfc3339, type Clock } from '../clock.js';
import { newControllerRef } from '../controller-ref.js';
import { conditionIsTrue, finishedCondition, isJobFinished } from '../job/conditions.js';
import { formatInZone, jobNameFor, mostRecentScheduleTime, nextScheduleDelayMs } from './schedule.js';

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Named index on the Jobs informer: "namespace/name" of the CronJob controlling a Job. */
export const BY_CRONJOB = 'cronjob-owner';
/** A core/v1 ObjectReference, as status.active holds them. */
interface ObjectRef {
  kind?: string;
  namespace?: string;
  name: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
}

/** Beyond this many missed activations upstream warns (and still starts the latest). */
const TOO_MANY_MISSED = 100;

export interface CronJobControlDeps {
  client: ApiClient;
  cronJobs: SharedInformer;
  jobs: SharedInformer;
  events: Pick<EventRecorder, 'event'>;
  clock: Clock;
}

export function cronJobOwnerOf(job: Obj): string[] {
  const ref = (job.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  return ref && ref.kind === 'CronJob' && ref.apiVersion.startsWith('batch/') ? [`${job.metadata.namespace}/${ref.name}`] : [];
}

export class CronJobControl {
  constructor(private readonly deps: CronJobControlDeps) {}

  /** The schedule in the CronJob's zone (spec.timeZone, else this process's local zone as kcm's time.Local). */
  scheduleOf(cronJob: Obj): CronSchedule {
    return parseCronSchedule(cronJob.spec?.schedule ?? '', cronJob.spec?.timeZone ?? localTimeZone());
  }

  async sync(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const cached = this.deps.cronJobs.lister.get(namespace, name);
    if (!cached) return;
    const cronJob = structuredClone(cached);
    cronJob.status ??= {};
    const jobs = this.deps.jobs.lister.byIndex(BY_CRONJOB, key);
    const { requeueAfterMs, updateStatus: changed } = await this.syncCronJob(cronJob, jobs);
    let updateStatus = changed;
    if (await this.cleanupFinishedJobs(cronJob, jobs)) updateStatus = true;
    if (updateStatus) await this.writeStatus(cronJob);
    if (requeueAfterMs !== undefined) return { requeueAfterMs: Math.max(0, requeueAfterMs) };
  }

  private async syncCronJob(cronJob: Obj, jobs: Obj[]): Promise<{ requeueAfterMs?: number; updateStatus: boolean }> {
    const { events } = this.deps;
    let updateStatus = false;
    if (cronJob.metadata.deletionTimestamp) return { updateStatus };
    const now = this.deps.clock.now();
    const active: ObjectRef[] = (cronJob.status.active ??= []);
    const inActive = (uid: string | undefined) => active.some((ref) => ref.uid === uid);
    const removeFromActive = (uid: string | undefined) => {
      cronJob.status.active = (cronJob.status.active as ObjectRef[]).filter((ref) => ref.uid !== uid);
    };
    const children = new Set<string>();
    for (const job of jobs) {
      children.add(job.metadata.uid!);
      const found = inActive(job.metadata.uid);
      if (!found && !isJobFinished(job)) {
        events.event(cronJob, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${job.metadata.name}`);
      } else if (found && isJobFinished(job)) {
        removeFromActive(job.metadata.uid);
        events.event(cronJob, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, condition: ${finishedCondition(job)!.type}`);
        updateStatus = true;
      } else if (conditionIsTrue(job, 'Complete') && job.status?.completionTime) {
        // A Job need not be active to count, as long as it completed.
        const last = cronJob.status.lastSuccessfulTime;
        if (!last || Date.parse(job.status.completionTime) > Date.parse(last)) {
          cronJob.status.lastSuccessfulTime = job.status.completionTime;
          updateStatus = true;
        }
      }
    }
    // An active reference whose Job is gone is dropped, after checking with the API (the cache may lag).
    for (const ref of [...(cronJob.status.active as ObjectRef[])]) {
      if (children.has(ref.uid ?? '')) continue;
      try {
        await this.deps.client.get(JOBS, ref.namespace ?? cronJob.metadata.namespace, ref.name);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 404)) throw error;
        events.event(cronJob, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        removeFromActive(ref.uid);
        updateStatus = true;
      }
    }
    if (cronJob.spec?.suspend === true) return { updateStatus };
    const timeZone = cronJob.spec?.timeZone;
    if (timeZone !== undefined && timeZone !== null && !isValidTimeZone(timeZone)) {
      events.event(cronJob, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(timeZone)}: unknown time zone ${timeZone}`);
      return { updateStatus };
    }
    let schedule: CronSchedule;
    try {
      schedule = this.scheduleOf(cronJob);
    } catch (error) {
      // A user error in the spec: nothing to do until the spec changes.
      events.event(cronJob, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cronJob.spec?.schedule)} : ${(error as Error).message}`);
      return { updateStatus };
    }
    const recent = mostRecentScheduleTime(cronJob, now, schedule, true);
    if (recent.missed > TOO_MANY_MISSED) {
      events.event(cronJob, 'Warning', 'TooManyMissedTimes', `too many missed start times: ${recent.missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`);
    }
    const next = () => nextScheduleDelayMs(cronJob, now, schedule);
    const scheduledTime = recent.mostRecent;
    if (scheduledTime === undefined || scheduledTime > now) return { requeueAfterMs: next(), updateStatus };
    const deadline = cronJob.spec?.startingDeadlineSeconds;
    if (typeof deadline === 'number' && scheduledTime + deadline * 1000 < now) {
      events.event(cronJob, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${new Date(scheduledTime).toUTCString().replace('GMT', '+0000')}`);
      return { requeueAfterMs: next(), updateStatus };
    }
    const name = jobNameFor(cronJob, scheduledTime);
    const lastScheduled = cronJob.status.lastScheduleTime ? Date.parse(cronJob.status.lastScheduleTime) : undefined;
    if ((cronJob.status.active as ObjectRef[]).some((ref) => ref.name === name) || lastScheduled === Math.floor(scheduledTime / 1000) * 1000) {
      return { requeueAfterMs: next(), updateStatus };
    }
    const policy = cronJob.spec?.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && (cronJob.status.active as ObjectRef[]).length > 0) {
      events.event(cronJob, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { requeueAfterMs: next(), updateStatus };
    }
    if (policy === 'Replace') {
      for (const ref of [...(cronJob.status.active as ObjectRef[])]) {
        let running: Obj;
        try {
          running = await this.deps.client.get(JOBS, ref.namespace ?? cronJob.metadata.namespace, ref.name);
        } catch (error) {
          events.event(cronJob, 'Warning', 'FailedGet', `Get job: ${(error as Error).message}`);
          throw error;
        }
        await this.deleteJob(cronJob, running);
        updateStatus = true;
      }
    }
    const request = this.jobFromTemplate(cronJob, scheduledTime, name);
    let created: Obj;
    try {
      created = await this.deps.client.create(JOBS, cronJob.metadata.namespace, request);
      events.event(cronJob, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
    } catch (error) {
      if (error instanceof ApiError && error.details?.causes?.some((c) => c.reason === 'NamespaceTerminating')) throw error;
      if (!(error instanceof ApiError && error.code === 409 && error.reason === 'AlreadyExists')) {
        events.event(cronJob, 'Warning', 'FailedCreate', `Error creating job: ${(error as Error).message}`);
        throw error;
      }
      // Someone made it already: if it is ours and not yet listed as active, record it.
      const existing = await this.deps.client.get(JOBS, cronJob.metadata.namespace, name);
      const ref = (existing.metadata.ownerReferences ?? []).find((r) => r.controller === true);
      if (ref?.uid !== cronJob.metadata.uid || inActive(existing.metadata.uid)) return { updateStatus };
      created = existing;
    }
    (cronJob.status.active as ObjectRef[]).push({ kind: 'Job', namespace: created.metadata.namespace, name: created.metadata.name!, uid: created.metadata.uid, apiVersion: 'batch/v1', resourceVersion: created.metadata.resourceVersion });
    cronJob.status.lastScheduleTime = rfc3339(scheduledTime);
    return { requeueAfterMs: nextScheduleDelayMs(cronJob, now, schedule), updateStatus: true };
  }

  /** getJobFromTemplate2: the template's labels and annotations, the scheduled time, a controller reference. */
  private jobFromTemplate(cronJob: Obj, scheduledTime: number, name: string): Obj {
    const template = cronJob.spec?.jobTemplate ?? {};
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cronJob.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        annotations: { ...(template.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: formatInZone(scheduledTime, cronJob.spec?.timeZone ?? 'UTC') },
        ownerReferences: [newControllerRef(cronJob, CRON_JOBS)],
      },
      spec: structuredClone(template.spec ?? {}),
    };
  }

  private async deleteJob(cronJob: Obj, job: Obj): Promise<void> {
    try {
      await this.deps.client.delete(JOBS, job.metadata.namespace, job.metadata.name!, { propagationPolicy: 'Background' });
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) {
        this.deps.events.event(cronJob, 'Warning', 'FailedDelete', `Deleted job: ${(error as Error).message}`);
        throw error;
      }
    }
    cronJob.status.active = ((cronJob.status.active ?? []) as ObjectRef[]).filter((ref) => ref.uid !== job.metadata.uid);
    this.deps.events.event(cronJob, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
  }

  /** Keeps the newest successfulJobsHistoryLimit complete and failedJobsHistoryLimit failed Jobs. */
  private async cleanupFinishedJobs(cronJob: Obj, jobs: Obj[]): Promise<boolean> {
    const successfulLimit = cronJob.spec?.successfulJobsHistoryLimit;
    const failedLimit = cronJob.spec?.failedJobsHistoryLimit;
    if (successfulLimit === undefined && failedLimit === undefined) return false;
    let changed = false;
    const trim = async (finished: Obj[], limit: number | undefined) => {
      if (limit === undefined || finished.length <= limit) return;
      // Oldest start first; Jobs that never started sort last.
      finished.sort((a, b) => {
        const sa = a.status?.startTime;
        const sb = b.status?.startTime;
        if (!sa || !sb) return sa ? -1 : sb ? 1 : a.metadata.name!.localeCompare(b.metadata.name!);
        return Date.parse(sa) - Date.parse(sb) || a.metadata.name!.localeCompare(b.metadata.name!);
      });
      for (const job of finished.slice(0, finished.length - limit)) {
        await this.deleteJob(cronJob, job);
        changed = true;
      }
    };
    await trim(jobs.filter((j) => conditionIsTrue(j, 'Complete')), successfulLimit);
    await trim(jobs.filter((j) => conditionIsTrue(j, 'Failed')), failedLimit);
    return changed;
  }

  private async writeStatus(cronJob: Obj): Promise<void> {
    const body = structuredClone(cronJob);
    if ((body.status.active ?? []).length === 0) delete body.status.active;
    try {
      await this.deps.client.update(CRON_JOBS, cronJob.metadata.namespace, cronJob.metadata.name!, body, { subresource: 'status' });
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
  }
}
