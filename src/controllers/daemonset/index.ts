/**
 * The DaemonSet controller (kube-controller-manager's "daemonset-controller", acting as the
 * "daemon-set-controller" service account): watches DaemonSets, their pods and the nodes, and
 * reconciles each DaemonSet with DaemonSetControl.
 */
import { jsonEqual } from '../../api/object.js';
import { matchesLabels, selectorFromSpec } from '../../api/selectors.js';
import type { Obj } from '../../client/api-client.js';
import { CONTROLLER_REVISIONS, DAEMON_SETS, NODES, PODS } from '../../client/resource-types.js';
import { realClock, type Clock } from '../clock.js';
import { indexByControllerUid, ownerKeyOf } from '../controller-ref.js';
import type { ControllerDefinition } from '../manager.js';
import { controllerOf, keyOf, startReconciler } from '../reconciler.js';
import { DaemonSetControl } from './control.js';

/** Node changes that can change where daemon pods belong (heartbeats alone do not). */
function placementChanged(old: Obj, node: Obj): boolean {
  const readiness = (n: Obj) => (n.status?.conditions ?? []).map((c: Obj) => `${c.type}=${c.status}`).join(',');
  return !jsonEqual(old.metadata.labels, node.metadata.labels) || !jsonEqual(old.spec, node.spec) || readiness(old) !== readiness(node);
}

export function newDaemonSetController(options: { clock?: Clock } = {}): ControllerDefinition {
  return {
    name: 'daemonset-controller',
    aliases: ['daemonset'],
    serviceAccount: 'daemon-set-controller',
    workersFlag: { name: 'concurrent-daemonset-syncs', default: 2 },
    async start(context) {
      const daemonSets = context.informers.informer(DAEMON_SETS);
      const pods = context.informers.informer(PODS);
      const nodes = context.informers.informer(NODES);
      const revisions = context.informers.informer(CONTROLLER_REVISIONS);
      indexByControllerUid(pods);
      indexByControllerUid(revisions);
      const queue = context.newQueue('daemonset');
      const control = new DaemonSetControl({ client: context.client, daemonSets, pods, nodes, revisions, events: context.events, clock: options.clock ?? realClock });

      const enqueueAll = () => {
        for (const ds of daemonSets.lister.list()) queue.add(keyOf(ds));
      };
      const enqueueForPod = (pod: Obj) => {
        const owner = ownerKeyOf(pod, DAEMON_SETS);
        if (owner) return queue.add(owner);
        if (controllerOf(pod)) return;
        for (const ds of daemonSets.lister.list(pod.metadata.namespace)) {
          const selector = selectorFromSpec(ds.spec?.selector);
          if (selector.length > 0 && matchesLabels(selector, pod.metadata.labels)) queue.add(keyOf(ds));
        }
      };
      const handlers = [
        daemonSets.addEventHandler({ onAdd: (d) => queue.add(keyOf(d)), onUpdate: (_o, d) => queue.add(keyOf(d)), onDelete: (d) => queue.add(keyOf(d)) }),
        pods.addEventHandler({
          onAdd: enqueueForPod,
          onUpdate: (old, pod) => {
            const before = ownerKeyOf(old, DAEMON_SETS);
            if (before && before !== ownerKeyOf(pod, DAEMON_SETS)) queue.add(before);
            enqueueForPod(pod);
          },
          onDelete: (pod) => {
            const owner = ownerKeyOf(pod, DAEMON_SETS);
            if (owner) queue.add(owner);
          },
        }),
        nodes.addEventHandler({
          onAdd: (_node, initial) => {
            if (!initial) enqueueAll();
          },
          onUpdate: (old, node) => {
            if (placementChanged(old, node)) enqueueAll();
          },
          onDelete: enqueueAll,
        }),
      ];
      return startReconciler({ context, queue, informers: [daemonSets, pods, nodes, revisions], reconcile: (key) => control.sync(key), handlers });
    },
  };
}

export const daemonSetController = newDaemonSetController();
