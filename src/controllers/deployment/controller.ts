/**
 * The Deployment controller (upstream's deployment_controller.go): watches Deployments, their
 * ReplicaSets and (for Recreate) their pods, and syncs each deployment key — claim its
 * ReplicaSets, then only status while it is being deleted, a plain scale when paused or when
 * only the replica count changed, else a rollout by its strategy.
 */
import { isPlainObject, jsonEqual } from '../../api/object.js';
import { matchesLabels, selectorFromSpec } from '../../api/selectors.js';
import type { Obj } from '../../client/api-client.js';
import { DEPLOYMENTS, PODS, REPLICA_SETS, splitKey } from '../../client/resource-types.js';
import type { ControllerDefinition } from '../manager.js';
import { controllerOf, keyOf, startReconciler } from '../reconciler.js';
import { BY_CONTROLLER_UID, claimCandidates, claimObjects, indexByControllerUid } from '../controller-ref.js';
import { rolloutRecreate } from './recreate.js';
import { rolloutRolling } from './rolling.js';
import { checkPausedConditions, isScalingEvent, sync, syncStatusOnly, updateDeploymentStatus, type SyncContext, type SyncState } from './sync.js';

export const deploymentController: ControllerDefinition = {
  name: 'deployment-controller',
  aliases: ['deployment'],
  serviceAccount: 'deployment-controller',
  workersFlag: { name: 'concurrent-deployment-syncs', default: 5 },
  async start(context) {
    const { client, events } = context;
    const deployments = context.informers.informer(DEPLOYMENTS);
    const replicaSets = context.informers.informer(REPLICA_SETS);
    const pods = context.informers.informer(PODS);
    indexByControllerUid(replicaSets);
    indexByControllerUid(pods);
    const queue = context.newQueue();
    const enqueue = (d: Obj) => queue.add(keyOf(d));

    const resolve = (namespace: string | undefined, ref: ReturnType<typeof controllerOf>): Obj | undefined => {
      if (!ref || ref.kind !== 'Deployment') return undefined;
      const d = deployments.lister.get(namespace, ref.name);
      return d?.metadata.uid === ref.uid ? d : undefined;
    };
    /** Deployments whose selector matches an orphan ReplicaSet (they may adopt it). */
    const matchingDeployments = (rs: Obj): Obj[] =>
      deployments.lister.list(rs.metadata.namespace).filter((d) => {
        const selector = selectorFromSpec(d.spec?.selector);
        return selector.length > 0 && matchesLabels(selector, rs.metadata.labels);
      });
    const replicaSetGone = (rs: Obj) => {
      const d = resolve(rs.metadata.namespace, controllerOf(rs));
      if (d) enqueue(d);
    };

    const handlers = [
      deployments.addEventHandler({ onAdd: enqueue, onUpdate: (_old, d) => enqueue(d), onDelete: enqueue }),
      replicaSets.addEventHandler({
        onAdd(rs) {
          if (rs.metadata.deletionTimestamp) return replicaSetGone(rs);
          const d = resolve(rs.metadata.namespace, controllerOf(rs));
          if (d) return enqueue(d);
          if (!controllerOf(rs)) matchingDeployments(rs).forEach(enqueue);
        },
        onUpdate(old, rs) {
          if (old.metadata.resourceVersion === rs.metadata.resourceVersion) return;
          const ref = controllerOf(rs);
          const oldRef = controllerOf(old);
          const refChanged = !jsonEqual(ref, oldRef);
          if (refChanged && oldRef) replicaSetGone(old);
          if (ref) {
            const d = resolve(rs.metadata.namespace, ref);
            if (d) enqueue(d);
            return;
          }
          if (refChanged || !jsonEqual(old.metadata.labels ?? {}, rs.metadata.labels ?? {})) matchingDeployments(rs).forEach(enqueue);
        },
        onDelete: replicaSetGone,
      }),
      // Recreate waits for the old pods to be gone.
      pods.addEventHandler({
        onDelete(pod) {
          const rs = replicaSets.lister.get(pod.metadata.namespace, controllerOf(pod)?.name ?? '');
          if (!rs || rs.metadata.uid !== controllerOf(pod)?.uid) return;
          const d = resolve(rs.metadata.namespace, controllerOf(rs));
          if (d && d.spec?.strategy?.type === 'Recreate') enqueue(d);
        },
      }),
    ];

    const syncContext: SyncContext = {
      client,
      events,
      replicaSets: replicaSets.lister,
      podsOf: (rs) => pods.lister.byIndex(BY_CONTROLLER_UID, rs.metadata.uid!).filter((pod) => pod.metadata.namespace === rs.metadata.namespace),
      now: () => Date.now(),
    };

    async function reconcile(key: string) {
      const { namespace, name } = splitKey(key);
      const cached = deployments.lister.get(namespace, name);
      if (!cached) return;
      const state: SyncState = { d: copyForSync(cached), rsList: [] };
      const d = state.d;
      const selector = isPlainObject(d.spec?.selector) ? selectorFromSpec(d.spec.selector) : [];
      if (selector.length === 0) {
        events.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
        if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
          d.status = { ...(d.status ?? {}), observedGeneration: d.metadata.generation };
          await updateDeploymentStatus(syncContext, state);
        }
        return;
      }
      state.rsList = await claimObjects({ client, owner: d, ownerType: DEPLOYMENTS, type: REPLICA_SETS, selector, candidates: claimCandidates(replicaSets, d, selector) });

      if (d.metadata.deletionTimestamp) return void (await syncStatusOnly(syncContext, state));
      await checkPausedConditions(syncContext, state);
      if (state.d.spec?.paused) return void (await sync(syncContext, state));
      if (await isScalingEvent(syncContext, state)) return void (await sync(syncContext, state));
      const requeueAfterMs = state.d.spec?.strategy?.type === 'Recreate' ? await rolloutRecreate(syncContext, state) : await rolloutRolling(syncContext, state);
      return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
    }

    return startReconciler({ context, queue, informers: [deployments, replicaSets, pods], reconcile, handlers });
  },
};

/**
 * The deployment as a sync may change it: its annotations and status (conditions are replaced,
 * never edited in place); the spec and everything else stay shared with the cache, read-only.
 */
function copyForSync(cached: Obj): Obj {
  const annotations = cached.metadata.annotations ? { ...cached.metadata.annotations } : undefined;
  return { ...cached, metadata: { ...cached.metadata, annotations }, status: { ...(cached.status ?? {}) } };
}
