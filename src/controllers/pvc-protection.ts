/**
 * The PVC protection controller (upstream's pkg/controller/volume/pvcprotection): a claim being
 * deleted keeps its `kubernetes.io/pvc-protection` finalizer while a pod that has not finished
 * uses it (a persistentVolumeClaim volume, or the claim of a generic ephemeral volume), and loses
 * it — completing the deletion — once none does. Pods going away or finishing re-check their claims.
 */
import { ApiError } from '../api/status.js';
import type { Obj } from '../client/api-client.js';
import { PERSISTENT_VOLUME_CLAIMS, PODS } from '../client/resource-types.js';
import { PVC_PROTECTION_FINALIZER } from '../admission/plugins/storage-object-in-use-protection.js';
import type { ControllerDefinition } from './manager.js';
import { keyOf, startReconciler } from './reconciler.js';

const CLAIM_INDEX = 'pvc-protection/claims';

/** The claims a pod's volumes use. */
export function claimsOf(pod: Obj): string[] {
  const volumes: Obj[] = Array.isArray(pod.spec?.volumes) ? pod.spec.volumes : [];
  return volumes.flatMap((v) => (v?.persistentVolumeClaim?.claimName ? [v.persistentVolumeClaim.claimName] : v?.ephemeral ? [`${pod.metadata.name}-${v.name}`] : []));
}

const finished = (pod: Obj) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

export const pvcProtectionController: ControllerDefinition = {
  name: 'persistentvolumeclaim-protection-controller',
  aliases: ['pvc-protection'],
  serviceAccount: 'pvc-protection-controller',
  start(context) {
    const claims = context.informers.informer(PERSISTENT_VOLUME_CLAIMS);
    const pods = context.informers.informer(PODS);
    pods.addIndexer(CLAIM_INDEX, (pod) => claimsOf(pod).map((claim) => `${pod.metadata.namespace}/${claim}`));
    const queue = context.newQueue('pvcprotection');
    const enqueueClaims = (pod: Obj) => {
      for (const claim of claimsOf(pod)) queue.add(`${pod.metadata.namespace}/${claim}`);
    };
    const handlers = [
      claims.addEventHandler({ onAdd: (c) => queue.add(keyOf(c)), onUpdate: (_o, c) => queue.add(keyOf(c)) }),
      pods.addEventHandler({ onUpdate: (old, pod) => finished(pod) && !finished(old) && enqueueClaims(pod), onDelete: enqueueClaims }),
    ];

    async function reconcile(key: string) {
      const [namespace, name] = key.split('/');
      const claim = claims.lister.get(namespace, name);
      if (!claim?.metadata.deletionTimestamp || !(claim.metadata.finalizers ?? []).includes(PVC_PROTECTION_FINALIZER)) return;
      if (pods.lister.byIndex(CLAIM_INDEX, key).some((pod) => !finished(pod))) return;
      try {
        await context.client.update(PERSISTENT_VOLUME_CLAIMS, namespace, name, { ...claim, metadata: { ...claim.metadata, finalizers: claim.metadata.finalizers!.filter((f: string) => f !== PVC_PROTECTION_FINALIZER) } });
      } catch (error) {
        if (error instanceof ApiError && error.code === 404) return;
        throw error;
      }
    }

    return startReconciler({ context, queue, informers: [claims, pods], reconcile, handlers });
  },
};
