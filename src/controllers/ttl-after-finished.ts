/**
 * The TTL-after-finished controller ("ttl-after-finished-controller"): deletes a finished Job
 * ttlSecondsAfterFinished after its Complete or Failed condition, cascading in the foreground,
 * after re-reading the Job so a TTL changed meanwhile is honoured (upstream ttlafterfinished).
 */
import { ApiError } from '../api/status.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import type { SharedInformer } from '../client/informer.js';
import { JOBS, splitKey } from '../client/resource-types.js';
import type { ReconcileResult } from '../client/work-queue.js';
import { realClock, type Clock } from './clock.js';
import { finishedCondition } from './job/conditions.js';
import type { ControllerDefinition } from './manager.js';
import { keyOf, startReconciler } from './reconciler.js';

function needsCleanup(job: Obj): boolean {
  return typeof job.spec?.ttlSecondsAfterFinished === 'number' && finishedCondition(job) !== undefined && !job.metadata.deletionTimestamp;
}

/** Milliseconds until the Job expires (≤ 0: it has). */
export function timeLeftMs(job: Obj, now: number): number | undefined {
  const condition = finishedCondition(job);
  if (!condition || typeof job.spec?.ttlSecondsAfterFinished !== 'number') return undefined;
  const finishedAt = Date.parse(condition.lastTransitionTime);
  if (!Number.isFinite(finishedAt)) return undefined;
  return finishedAt + job.spec.ttlSecondsAfterFinished * 1000 - now;
}

export class TtlAfterFinished {
  constructor(private readonly deps: { client: ApiClient; jobs: SharedInformer; clock: Clock }) {}

  async sync(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const cached = this.deps.jobs.lister.get(namespace, name);
    if (!cached || !needsCleanup(cached)) return;
    const left = timeLeftMs(cached, this.deps.clock.now());
    if (left === undefined) return;
    if (left > 0) return { requeueAfterMs: left };
    let fresh: Obj;
    try {
      fresh = await this.deps.client.get(JOBS, namespace, name);
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return;
      throw error;
    }
    if (!needsCleanup(fresh)) return;
    const freshLeft = timeLeftMs(fresh, this.deps.clock.now());
    if (freshLeft === undefined) return;
    if (freshLeft > 0) return { requeueAfterMs: freshLeft };
    try {
      await this.deps.client.delete(JOBS, namespace, name, { propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata.uid } });
    } catch (error) {
      if (!(error instanceof ApiError && (error.code === 404 || error.code === 409))) throw error;
    }
  }
}

export function newTtlAfterFinishedController(options: { clock?: Clock } = {}): ControllerDefinition {
  return {
    name: 'ttl-after-finished-controller',
    aliases: ['ttl-after-finished'],
    serviceAccount: 'ttl-after-finished-controller',
    workersFlag: { name: 'concurrent-ttl-after-finished-syncs', default: 5 },
    async start(context) {
      const jobs = context.informers.informer(JOBS);
      const queue = context.newQueue('ttl_jobs_to_delete');
      const ttl = new TtlAfterFinished({ client: context.client, jobs, clock: options.clock ?? realClock });
      const enqueue = (job: Obj) => {
        if (needsCleanup(job)) queue.add(keyOf(job));
      };
      const handler = jobs.addEventHandler({ onAdd: enqueue, onUpdate: (_old, job) => enqueue(job) });
      return startReconciler({ context, queue, informers: [jobs], reconcile: (key) => ttl.sync(key), handlers: [handler] });
    },
  };
}

export const ttlAfterFinishedController = newTtlAfterFinishedController();
