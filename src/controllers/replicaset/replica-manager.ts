/**
 * The replica manager behind both the ReplicaSet and the ReplicationController controllers (as
 * upstream runs one implementation for both): keep `spec.replicas` active pods that match the
 * selector, adopting orphans and releasing pods that stop matching, and report what it sees in
 * status.
 *
 * Upstream tracks "expectations" (creations and deletions it has asked for but not yet seen in
 * its cache) so it never acts twice on a stale cache. In process, a write is in the shared cache
 * by the time its promise resolves, and the work queue never runs one key on two workers, so a
 * sync always sees its own earlier writes: no expectations are needed.
 */
import { jsonEqual, nowRfc3339 } from '../../api/object.js';
import { matchesLabels, type LabelSelector } from '../../api/selectors.js';
import type { Obj } from '../../client/api-client.js';
import type { Fields } from '../../registry/common/fields.js';
import type { SharedInformer } from '../../client/informer.js';
import { PODS, splitKey, type ResourceType } from '../../client/resource-types.js';
import type { ControllerContext, RunningController } from '../manager.js';
import { controllerOf, keyOf, startReconciler } from '../reconciler.js';
import { BY_CONTROLLER_UID, claimCandidates, claimObjects, indexByControllerUid, newControllerRef } from '../controller-ref.js';
import { isNamespaceTerminating, PodControl } from '../pod-control.js';
import { isPodActive, isPodAvailable, isPodReady, podReadyTime } from '../pod-state.js';
import { SLOW_START_INITIAL_BATCH, slowStartBatch } from '../slow-start.js';
import { podsToDelete } from './deletion-ranking.js';

/** Upstream's burstReplicas: at most this many pods created or deleted per sync. */
export const BURST_REPLICAS = 500;

export interface ReplicaKind {
  type: ResourceType;
  /** The owner's selector as requirements; undefined when it has none usable. */
  selector(owner: Obj): LabelSelector | undefined;
}

export async function startReplicaManager(context: ControllerContext, kind: ReplicaKind): Promise<RunningController> {
  const { client, events } = context;
  const owners = context.informers.informer(kind.type);
  const pods = context.informers.informer(PODS);
  indexByControllerUid(owners);
  indexByControllerUid(pods);
  const podControl = new PodControl(client, events);
  const queue = context.newQueue();
  const enqueue = (owner: Obj) => queue.add(keyOf(owner));

  /** The owner a controller reference names, if it is the one cached (same uid). */
  const resolve = (namespace: string | undefined, ref: { kind: string; name: string; uid: string } | undefined): Obj | undefined => {
    if (!ref || ref.kind !== kind.type.kind) return undefined;
    const owner = owners.lister.get(namespace, ref.name);
    return owner?.metadata.uid === ref.uid ? owner : undefined;
  };
  /** Owners whose selector matches an orphan pod (they may adopt it). */
  const matchingOwners = (pod: Obj): Obj[] =>
    owners.lister.list(pod.metadata.namespace).filter((owner) => {
      const selector = kind.selector(owner);
      return selector !== undefined && selector.length > 0 && matchesLabels(selector, pod.metadata.labels);
    });
  const podGone = (pod: Obj) => {
    const owner = resolve(pod.metadata.namespace, controllerOf(pod));
    if (owner) enqueue(owner);
  };

  const handlers = [
    owners.addEventHandler({ onAdd: enqueue, onUpdate: (_old, owner) => enqueue(owner), onDelete: enqueue }),
    pods.addEventHandler({
      onAdd(pod) {
        // A pod already terminating (seen first after a restart) is a deletion to count.
        if (pod.metadata.deletionTimestamp) return podGone(pod);
        const owner = resolve(pod.metadata.namespace, controllerOf(pod));
        if (owner) return enqueue(owner);
        if (!controllerOf(pod)) matchingOwners(pod).forEach(enqueue);
      },
      onUpdate(old, pod) {
        if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
        const labelsChanged = !jsonEqual(old.metadata.labels ?? {}, pod.metadata.labels ?? {});
        if (pod.metadata.deletionTimestamp) {
          // Terminating: the owner replaces it now, without waiting for it to go.
          podGone(pod);
          if (labelsChanged) podGone(old);
          return;
        }
        const ref = controllerOf(pod);
        const oldRef = controllerOf(old);
        const refChanged = !jsonEqual(ref, oldRef);
        if (refChanged && oldRef) podGone(old);
        if (ref) {
          const owner = resolve(pod.metadata.namespace, ref);
          if (!owner) return;
          enqueue(owner);
          // Availability comes minReadySeconds after readiness: look again then.
          const minReadySeconds = owner.spec?.minReadySeconds ?? 0;
          if (minReadySeconds > 0 && !isPodReady(old) && isPodReady(pod)) queue.addAfter(keyOf(owner), minReadySeconds * 1000 + 1000);
          return;
        }
        if (labelsChanged || refChanged) matchingOwners(pod).forEach(enqueue);
      },
      onDelete: podGone,
    }),
  ];

  /** Active pods of every owner sharing this one's controller (a Deployment's ReplicaSets), for spreading deletions. */
  function relatedPods(owner: Obj): Obj[] {
    const family = controllerOf(owner);
    if (!family) return [];
    const seen = new Set<string>();
    const related: Obj[] = [];
    for (const sibling of owners.lister.byIndex(BY_CONTROLLER_UID, family.uid)) {
      if (sibling.metadata.namespace !== owner.metadata.namespace) continue;
      const selector = kind.selector(sibling);
      if (!selector) continue;
      for (const pod of pods.lister.list(sibling.metadata.namespace, selector)) {
        if (seen.has(pod.metadata.uid!)) continue;
        seen.add(pod.metadata.uid!);
        related.push(pod);
      }
    }
    return related;
  }

  async function manageReplicas(owner: Obj, active: Obj[]): Promise<void> {
    const desired: number = owner.spec?.replicas ?? 1;
    const diff = active.length - desired;
    if (diff < 0) {
      const count = Math.min(-diff, BURST_REPLICAS);
      const ref = newControllerRef(owner, kind.type);
      const { error } = await slowStartBatch(count, SLOW_START_INITIAL_BATCH, async () => {
        try {
          await podControl.create(owner.spec?.template, owner, ref);
        } catch (failure) {
          if (!isNamespaceTerminating(failure)) throw failure;
        }
      });
      if (error) throw error;
    } else if (diff > 0) {
      const victims = podsToDelete(active, relatedPods(owner), Math.min(diff, BURST_REPLICAS));
      const results = await Promise.allSettled(victims.map((pod) => podControl.delete(pod, owner)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  async function reconcile(key: string) {
    const { namespace, name } = splitKey(key);
    const owner = owners.lister.get(namespace, name);
    if (!owner) return;
    const selector = kind.selector(owner);
    if (!selector) return;
    const candidates = claimCandidates(pods, owner, selector).filter(isPodActive);
    const active = await claimObjects({ client, owner, ownerType: kind.type, type: PODS, selector, candidates });
    let manageError: Error | undefined;
    if (!owner.metadata.deletionTimestamp) {
      try {
        await manageReplicas(owner, active);
      } catch (error) {
        manageError = error as Error;
      }
    }
    const now = Date.now();
    const status = replicaStatus(owner, active, manageError, now);
    await updateStatus(owner, status);
    if (manageError) throw manageError;
    return nextAvailability(owner, active, now);
  }

  async function updateStatus(owner: Obj, status: Fields): Promise<void> {
    const current = owner.status ?? {};
    if (sameCounts(current, status) && current.observedGeneration === owner.metadata.generation && jsonEqual(current.conditions ?? [], status.conditions ?? [])) return;
    status.observedGeneration = owner.metadata.generation;
    await client.mutate(
      kind.type,
      owner.metadata.namespace,
      owner.metadata.name!,
      (latest) => {
        if (latest.metadata.uid !== owner.metadata.uid) return latest;
        latest.status = withoutZeros(status);
        return latest;
      },
      { subresource: 'status' },
    );
  }

  return startReconciler({ context, queue, informers: [owners, pods] as SharedInformer[], reconcile, handlers });
}

/** Status as upstream computes it from the pods the owner controls (calculateStatus). */
export function replicaStatus(owner: Obj, active: readonly Obj[], manageError: Error | undefined, nowMs: number): Fields {
  const templateLabels: Record<string, string> = owner.spec?.template?.metadata?.labels ?? {};
  const minReadySeconds: number = owner.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of active) {
    const labels = pod.metadata.labels ?? {};
    if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReadySeconds, nowMs)) available++;
    }
  }
  let conditions: Fields[] = [...(owner.status?.conditions ?? [])];
  const failure = conditions.find((c) => c.type === 'ReplicaFailure');
  if (manageError && !failure) {
    const diff = active.length - (owner.spec?.replicas ?? 1);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    conditions.push({ type: 'ReplicaFailure', status: 'True', lastTransitionTime: nowRfc3339(), reason, message: manageError.message });
  } else if (!manageError && failure) {
    conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
  }
  const status: Fields = { replicas: active.length, fullyLabeledReplicas: fullyLabeled, readyReplicas: ready, availableReplicas: available };
  if (conditions.length > 0) status.conditions = conditions;
  return status;
}

function sameCounts(a: Fields, b: Fields): boolean {
  return (a.replicas ?? 0) === b.replicas && (a.fullyLabeledReplicas ?? 0) === b.fullyLabeledReplicas && (a.readyReplicas ?? 0) === b.readyReplicas && (a.availableReplicas ?? 0) === b.availableReplicas;
}

/** Zero counts are left out, as upstream's omitempty serialization does (replicas always stays). */
function withoutZeros(status: Fields): Fields {
  const result: Fields = { replicas: status.replicas };
  for (const field of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']) if (status[field]) result[field] = status[field];
  if (status.conditions) result.conditions = status.conditions;
  return result;
}

/** When a ready pod will have been ready for minReadySeconds, so availability is counted on time. */
function nextAvailability(owner: Obj, active: readonly Obj[], nowMs: number): { requeueAfterMs: number } | undefined {
  const minReadySeconds: number = owner.spec?.minReadySeconds ?? 0;
  if (!minReadySeconds) return undefined;
  let earliest = Infinity;
  for (const pod of active) {
    const since = podReadyTime(pod);
    if (since === undefined || isPodAvailable(pod, minReadySeconds, nowMs)) continue;
    earliest = Math.min(earliest, since + minReadySeconds * 1000);
  }
  return earliest === Infinity ? undefined : { requeueAfterMs: Math.max(0, earliest - nowMs) + 10 };
}
