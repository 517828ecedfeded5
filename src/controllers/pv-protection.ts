/**
 * The PV protection controller (upstream's pkg/controller/volume/pvprotection): a
 * PersistentVolume being deleted keeps its `kubernetes.io/pv-protection` finalizer while it is
 * Bound to a claim, and loses it once it is not.
 */
import { ApiError } from '../api/status.js';
import { PERSISTENT_VOLUMES } from '../client/resource-types.js';
import { PV_PROTECTION_FINALIZER } from '../admission/plugins/storage-object-in-use-protection.js';
import type { ControllerDefinition } from './manager.js';
import { keyOf, startReconciler } from './reconciler.js';

export const pvProtectionController: ControllerDefinition = {
  name: 'persistentvolume-protection-controller',
  aliases: ['pv-protection'],
  serviceAccount: 'pv-protection-controller',
  start(context) {
    const volumes = context.informers.informer(PERSISTENT_VOLUMES);
    const queue = context.newQueue('pvprotection');
    const handlers = [volumes.addEventHandler({ onAdd: (v) => queue.add(keyOf(v)), onUpdate: (_o, v) => queue.add(keyOf(v)) })];

    async function reconcile(name: string) {
      const volume = volumes.lister.get(undefined, name);
      if (!volume?.metadata.deletionTimestamp || !(volume.metadata.finalizers ?? []).includes(PV_PROTECTION_FINALIZER)) return;
      if (volume.status?.phase === 'Bound') return;
      try {
        await context.client.update(PERSISTENT_VOLUMES, undefined, name, { ...volume, metadata: { ...volume.metadata, finalizers: volume.metadata.finalizers!.filter((f: string) => f !== PV_PROTECTION_FINALIZER) } });
      } catch (error) {
        if (error instanceof ApiError && error.code === 404) return;
        throw error;
      }
    }

    return startReconciler({ context, queue, informers: [volumes], reconcile, handlers });
  },
};
