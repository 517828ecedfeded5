/**
 * The CronJob controller (kube-controller-manager's "cronjob-controller"): watches CronJobs and
 * the Jobs they own and reconciles each CronJob with CronJobControl, waking at its next
 * activation.
 */
import type { Obj } from '../../client/api-client.js';
import { CRON_JOBS, JOBS } from '../../client/resource-types.js';
import { realClock, type Clock } from '../clock.js';
import type { ControllerDefinition } from '../manager.js';
import { keyOf, startReconciler } from '../reconciler.js';
import { nextScheduleDelayMs } from './schedule.js';
import { BY_CRONJOB, CronJobControl, cronJobOwnerOf } from './control.js';

export function newCronJobController(options: { clock?: Clock } = {}): ControllerDefinition {
  return {
    name: 'cronjob-controller',
    aliases: ['cronjob'],
    serviceAccount: 'cronjob-controller',
    workersFlag: { name: 'concurrent-cron-job-syncs', default: 5 },
    async start(context) {
      const clock = options.clock ?? realClock;
      const cronJobs = context.informers.informer(CRON_JOBS);
      const jobs = context.informers.informer(JOBS);
      jobs.addIndexer(BY_CRONJOB, cronJobOwnerOf);
      const queue = context.newQueue('cronjob');
      const control = new CronJobControl({ client: context.client, cronJobs, jobs, events: context.events, clock });
      const enqueueOwner = (job: Obj) => {
        for (const key of cronJobOwnerOf(job)) queue.add(key);
      };
      const handlers = [
        cronJobs.addEventHandler({
          onAdd: (cj) => queue.add(keyOf(cj)),
          onUpdate: (old, cj) => {
            // A new schedule may be due sooner than the wake-up already queued.
            if (old.spec?.schedule !== cj.spec?.schedule || old.spec?.timeZone !== cj.spec?.timeZone) {
              try {
                const delay = nextScheduleDelayMs(cj, clock.now(), control.scheduleOf(cj));
                if (delay !== undefined) return queue.addAfter(keyOf(cj), delay);
              } catch {
                // An unparseable schedule is reported by the sync.
              }
            }
            queue.add(keyOf(cj));
          },
        }),
        jobs.addEventHandler({
          onAdd: enqueueOwner,
          onUpdate: (old, job) => {
            enqueueOwner(old);
            enqueueOwner(job);
          },
          onDelete: enqueueOwner,
        }),
      ];
      return startReconciler({ context, queue, informers: [cronJobs, jobs], reconcile: (key) => control.sync(key), handlers });
    },
  };
}

export const cronJobController = newCronJobController();
