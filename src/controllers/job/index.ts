/**
 * The Job controller (kube-controller-manager's "job-controller"): watches Jobs and their pods,
 * reconciles each Job with JobControl, and strips the tracking finalizer from pods whose Job is
 * gone or finished (upstream's orphan queue), so no pod is kept forever.
 */
import { matchesLabels, selectorFromSpec } from '../../api/selectors.js';
import type { Obj } from '../../client/api-client.js';
import { JOBS, PODS, apiVersionOfType, splitKey } from '../../client/resource-types.js';
import { realClock, type Clock } from '../clock.js';
import { BY_CONTROLLER_UID, indexByControllerUid, ownerKeyOf } from '../controller-ref.js';
import type { ControllerDefinition } from '../manager.js';
import { controllerOf, keyOf, startReconciler } from '../reconciler.js';
import { isJobFinished } from './conditions.js';
import { hasTrackingFinalizer, isManagedElsewhere, JobControl } from './control.js';

export function newJobController(options: { clock?: Clock } = {}): ControllerDefinition {
  return {
    name: 'job-controller',
    aliases: ['job'],
    serviceAccount: 'job-controller',
    workersFlag: { name: 'concurrent-job-syncs', default: 5 },
    async start(context) {
      const jobs = context.informers.informer(JOBS);
      const pods = context.informers.informer(PODS);
      indexByControllerUid(pods);
      const queue = context.newQueue('job');
      const orphans = context.newQueue('job_orphan_pod');
      const control = new JobControl({ client: context.client, jobs, pods, events: context.events, clock: options.clock ?? realClock });

      /** The pod's Job, if it is controlled by one that exists (same uid). */
      const jobOf = (pod: Obj): Obj | undefined => {
        const ref = controllerOf(pod);
        if (!ref || ref.kind !== 'Job' || ref.apiVersion !== apiVersionOfType(JOBS)) return undefined;
        const job = jobs.lister.get(pod.metadata.namespace, ref.name);
        return job?.metadata.uid === ref.uid ? job : undefined;
      };
      /** A tracked pod nobody will count any more must lose its finalizer. */
      const checkOrphan = (pod: Obj) => {
        if (!hasTrackingFinalizer(pod)) return;
        const ref = controllerOf(pod);
        if (ref && (ref.kind !== 'Job' || ref.apiVersion !== apiVersionOfType(JOBS))) return;
        const job = jobOf(pod);
        if (!job || isJobFinished(job)) orphans.add(keyOf(pod));
      };
      const enqueueForPod = (pod: Obj) => {
        const owner = ownerKeyOf(pod, JOBS);
        if (owner) queue.add(owner);
        else if (!controllerOf(pod)) {
          for (const job of jobs.lister.list(pod.metadata.namespace)) {
            const selector = selectorFromSpec(job.spec?.selector);
            if (selector.length > 0 && matchesLabels(selector, pod.metadata.labels)) queue.add(keyOf(job));
          }
        }
        checkOrphan(pod);
      };
      const handlers = [
        jobs.addEventHandler({
          onAdd: (job) => queue.add(keyOf(job)),
          onUpdate: (_old, job) => queue.add(keyOf(job)),
          onDelete: (job) => {
            queue.add(keyOf(job));
            for (const pod of pods.lister.byIndex(BY_CONTROLLER_UID, job.metadata.uid!)) checkOrphan(pod);
          },
        }),
        pods.addEventHandler({
          onAdd: enqueueForPod,
          onUpdate: (old, pod) => {
            const before = ownerKeyOf(old, JOBS);
            if (before && before !== ownerKeyOf(pod, JOBS)) queue.add(before);
            enqueueForPod(pod);
          },
          onDelete: (pod) => {
            const owner = ownerKeyOf(pod, JOBS);
            if (owner) queue.add(owner);
          },
        }),
      ];
      /** syncOrphanPod: re-check against the cache, then remove the finalizer. */
      const syncOrphan = async (key: string) => {
        const { namespace, name } = splitKey(key);
        const pod = pods.lister.get(namespace, name);
        if (!pod || !hasTrackingFinalizer(pod)) return;
        const ref = controllerOf(pod);
        if (ref) {
          if (ref.kind !== 'Job' || ref.apiVersion !== apiVersionOfType(JOBS)) return;
          const job = jobOf(pod);
          if (job && (!isJobFinished(job) || isManagedElsewhere(job))) return;
        }
        await control.removeFinalizer(pod);
      };
      const running = await startReconciler({ context, queue, informers: [jobs, pods], reconcile: (key) => control.sync(key), handlers });
      // Only once both caches are whole can a missing Job be told from one not yet listed.
      orphans.run(context.workers, syncOrphan);
      return {
        async stop() {
          await running.stop();
          await orphans.shutDown();
        },
      };
    },
  };
}

export const jobController = newJobController();
