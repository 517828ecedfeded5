/**
 * The StatefulSet controller (kube-controller-manager's "statefulset-controller"): watches
 * StatefulSets and their pods and reconciles each set with StatefulSetControl.
 */
import { selectorFromSpec, matchesLabels } from '../../api/selectors.js';
import type { Obj } from '../../client/api-client.js';
import { CONTROLLER_REVISIONS, PERSISTENT_VOLUME_CLAIMS, PODS, STATEFUL_SETS } from '../../client/resource-types.js';
import { realClock, type Clock } from '../clock.js';
import { indexByControllerUid, ownerKeyOf } from '../controller-ref.js';
import type { ControllerDefinition } from '../manager.js';
import { controllerOf, keyOf, startReconciler } from '../reconciler.js';
import { StatefulSetControl } from './control.js';

export function newStatefulSetController(options: { clock?: Clock } = {}): ControllerDefinition {
  return {
    name: 'statefulset-controller',
    aliases: ['statefulset'],
    serviceAccount: 'statefulset-controller',
    workersFlag: { name: 'concurrent-statefulset-syncs', default: 5 },
    async start(context) {
      const sets = context.informers.informer(STATEFUL_SETS);
      const pods = context.informers.informer(PODS);
      const revisions = context.informers.informer(CONTROLLER_REVISIONS);
      const claims = context.informers.informer(PERSISTENT_VOLUME_CLAIMS);
      indexByControllerUid(pods);
      indexByControllerUid(revisions);
      const queue = context.newQueue('statefulset');
      const control = new StatefulSetControl({
        client: context.client,
        sets,
        pods,
        revisions,
        claims,
        events: context.events,
        clock: options.clock ?? realClock,
        maxUnavailable: context.settings.MaxUnavailableStatefulSet === true,
      });

      /** An orphan pod may be adopted by any set whose selector matches it. */
      const enqueueForPod = (pod: Obj) => {
        const owner = ownerKeyOf(pod, STATEFUL_SETS);
        if (owner) return queue.add(owner);
        if (controllerOf(pod)) return;
        for (const set of sets.lister.list(pod.metadata.namespace)) {
          const selector = selectorFromSpec(set.spec?.selector);
          if (selector.length > 0 && matchesLabels(selector, pod.metadata.labels)) queue.add(keyOf(set));
        }
      };
      const handlers = [
        sets.addEventHandler({ onAdd: (s) => queue.add(keyOf(s)), onUpdate: (_o, s) => queue.add(keyOf(s)), onDelete: (s) => queue.add(keyOf(s)) }),
        pods.addEventHandler({
          onAdd: enqueueForPod,
          onUpdate: (old, pod) => {
            const before = ownerKeyOf(old, STATEFUL_SETS);
            if (before && before !== ownerKeyOf(pod, STATEFUL_SETS)) queue.add(before);
            enqueueForPod(pod);
          },
          onDelete: (pod) => {
            const owner = ownerKeyOf(pod, STATEFUL_SETS);
            if (owner) queue.add(owner);
          },
        }),
      ];
      return startReconciler({ context, queue, informers: [sets, pods, revisions, claims], reconcile: (key) => control.sync(key), handlers });
    },
  };
}

export const statefulSetController = newStatefulSetController();
