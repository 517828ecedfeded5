/**
 * The PV binder (upstream's pkg/controller/volume/persistentvolume, the binding half; basics).
 * It binds each unbound PersistentVolumeClaim to a PersistentVolume: one whose claimRef already
 * names it (pre-bound by an admin, a provisioner or the scheduler's VolumeBinding), else the
 * smallest matching available one. Claims of WaitForFirstConsumer classes wait until the scheduler
 * has chosen a node: the scheduler's VolumeBinding matches them to PVs itself (it writes the PV's
 * claimRef, completed here) or sets `volume.kubernetes.io/selected-node`, after which the class's
 * provisioner is named on the claim (`volume.kubernetes.io/storage-provisioner`) and its PV,
 * pre-bound to the claim, is awaited. A binding writes the PV's claimRef and phase, then
 * the claim's volumeName, bind-completed annotation and phase/capacity/access modes — so both
 * halves look as upstream's. A PV whose claim is gone becomes Released; an unclaimed one Available.
 * Provisioning, recycling and deletion of volumes are not done here.
 */
import { ApiError } from '../api/status.js';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  NO_PROVISIONER,
  claimClass,
  claimRefOf,
  findMatchingVolume,
  isDelayedBinding,
  isVolumeBoundToClaim,
} from '../api/volume-binding.js';
import type { Obj } from '../client/api-client.js';
import { PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, STORAGE_CLASSES } from '../client/resource-types.js';
import type { ControllerDefinition } from './manager.js';
import { keyOf, startReconciler } from './reconciler.js';

/** Work-queue keys: claims as "namespace/name", volumes as "pv:name". */
const VOLUME_PREFIX = 'pv:';

export const pvBinderController: ControllerDefinition = {
  name: 'persistentvolume-binder-controller',
  aliases: ['persistentvolume-binder'],
  serviceAccount: 'persistent-volume-binder',
  start(context) {
    const claims = context.informers.informer(PERSISTENT_VOLUME_CLAIMS);
    const volumes = context.informers.informer(PERSISTENT_VOLUMES);
    const classes = context.informers.informer(STORAGE_CLASSES);
    const queue = context.newQueue('volumes');
    const client = context.client;

    // Claims without a volume, kept from claim events so that a volume or class event queues only
    // those (not a walk over every claim of the cluster).
    const waitingClaims = new Set<string>();
    const trackClaim = (claim: Obj) => {
      const key = keyOf(claim);
      if (claim.spec?.volumeName) waitingClaims.delete(key);
      else waitingClaims.add(key);
      queue.add(key);
    };
    const queueUnboundClaims = () => {
      for (const key of waitingClaims) queue.add(key);
    };
    const onVolume = (volume: Obj) => {
      queue.add(VOLUME_PREFIX + volume.metadata.name);
      const ref = volume.spec?.claimRef;
      if (ref?.name) queue.add(`${ref.namespace}/${ref.name}`);
      // A volume free to bind may satisfy any waiting claim.
      else queueUnboundClaims();
    };
    const handlers = [
      claims.addEventHandler({
        onAdd: trackClaim,
        onUpdate: (_o, c) => trackClaim(c),
        onDelete: (c) => {
          waitingClaims.delete(keyOf(c));
          if (c.spec?.volumeName) queue.add(VOLUME_PREFIX + c.spec.volumeName);
        },
      }),
      volumes.addEventHandler({ onAdd: onVolume, onUpdate: (_o, v) => onVolume(v), onDelete: () => queueUnboundClaims() }),
      classes.addEventHandler({ onAdd: () => queueUnboundClaims(), onUpdate: () => queueUnboundClaims() }),
    ];

    const ignoreNotFound = (error: unknown) => {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    };

    async function setVolumePhase(name: string, phase: string): Promise<void> {
      await client
        .mutate(PERSISTENT_VOLUMES, undefined, name, (latest) => {
          if (latest.status?.phase === phase) return latest;
          latest.status = { ...(latest.status ?? {}), phase, lastPhaseTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
          return latest;
        }, { subresource: 'status' })
        .catch(ignoreNotFound);
    }

    /** Writes both halves of the binding; each write is skipped when already there. */
    async function bind(volume: Obj, claim: Obj): Promise<void> {
      if (!isVolumeBoundToClaim(volume, claim) || !volume.spec.claimRef.uid) {
        await client.mutate(PERSISTENT_VOLUMES, undefined, volume.metadata.name!, (latest) => {
          if (latest.spec?.claimRef && !isVolumeBoundToClaim(latest, claim)) throw new Error(`volume ${volume.metadata.name} was bound to another claim meanwhile`);
          const byUs = !latest.spec.claimRef;
          latest.spec.claimRef = claimRefOf(claim);
          if (byUs) latest.metadata.annotations = { ...(latest.metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
          return latest;
        });
      }
      await setVolumePhase(volume.metadata.name!, 'Bound');
      const bound = await client.mutate(PERSISTENT_VOLUME_CLAIMS, claim.metadata.namespace, claim.metadata.name!, (latest) => {
        if (latest.metadata.uid !== claim.metadata.uid) throw new ApiError(404, 'NotFound', 'claim was replaced');
        const annotations = { ...(latest.metadata.annotations ?? {}) };
        if (!latest.spec.volumeName) {
          latest.spec.volumeName = volume.metadata.name;
          annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
        }
        annotations[ANN_BIND_COMPLETED] = 'yes';
        latest.metadata.annotations = annotations;
        return latest;
      });
      await client.mutate(PERSISTENT_VOLUME_CLAIMS, bound.metadata.namespace, bound.metadata.name!, (latest) => {
        latest.status = { ...(latest.status ?? {}), phase: 'Bound', accessModes: volume.spec?.accessModes, capacity: volume.spec?.capacity };
        return latest;
      }, { subresource: 'status' });
      context.events.event(claim, 'Normal', 'Bound', `Successfully bound to volume ${volume.metadata.name}`);
    }

    async function syncClaim(namespace: string, name: string): Promise<void> {
      const claim = claims.lister.get(namespace, name);
      if (!claim || claim.metadata.deletionTimestamp) return;
      const allVolumes = volumes.lister.list(undefined);
      if (claim.spec?.volumeName) {
        if (claim.status?.phase === 'Bound' && claim.metadata.annotations?.[ANN_BIND_COMPLETED]) return;
        const volume = volumes.lister.get(undefined, claim.spec.volumeName);
        if (!volume) return; // Waits for the named volume to appear.
        if (volume.spec?.claimRef && !isVolumeBoundToClaim(volume, claim)) {
          context.events.event(claim, 'Warning', 'FailedBinding', `volume "${volume.metadata.name}" already bound to a different claim.`);
          return;
        }
        await bind(volume, claim);
        return;
      }
      const storageClass = classes.lister.get(undefined, claimClass(claim));
      const preBound = allVolumes.find((v) => isVolumeBoundToClaim(v, claim));
      if (preBound) return bind(preBound, claim);
      if (isDelayedBinding(storageClass)) {
        // The scheduler matches delayed claims to PVs itself (it writes the claimRef): here only provisioning is left.
        if (!claim.metadata.annotations?.[ANN_SELECTED_NODE]) {
          context.events.event(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
          return;
        }
      } else {
        const volume = findMatchingVolume(claim, allVolumes);
        if (volume) return bind(volume, claim);
      }
      const provisioner = storageClass?.provisioner;
      if (provisioner && provisioner !== NO_PROVISIONER) {
        if (claim.metadata.annotations?.[ANN_STORAGE_PROVISIONER] !== provisioner) {
          await client.mutate(PERSISTENT_VOLUME_CLAIMS, namespace, name, (latest) => {
            latest.metadata.annotations = { ...(latest.metadata.annotations ?? {}), [ANN_STORAGE_PROVISIONER]: provisioner, [ANN_BETA_STORAGE_PROVISIONER]: provisioner };
            return latest;
          });
        }
        context.events.event(claim, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`);
        return;
      }
      if (!claimClass(claim)) context.events.event(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      else if (!storageClass) context.events.event(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${claimClass(claim)}" not found`);
    }

    async function syncVolume(name: string): Promise<void> {
      const volume = volumes.lister.get(undefined, name);
      if (!volume || volume.metadata.deletionTimestamp) return;
      const ref = volume.spec?.claimRef;
      if (!ref?.name) {
        if (volume.status?.phase !== 'Available') await setVolumePhase(name, 'Available');
        return;
      }
      const claim = claims.lister.get(ref.namespace, ref.name);
      if (!claim || (ref.uid && claim.metadata.uid !== ref.uid)) {
        // Its claim is gone: released (kept, for the admin, whatever the reclaim policy; nothing recycles here).
        if (ref.uid && volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed') await setVolumePhase(name, 'Released');
        return;
      }
      if (claim.spec?.volumeName === name && volume.status?.phase !== 'Bound') await setVolumePhase(name, 'Bound');
    }

    async function reconcile(key: string): Promise<void> {
      try {
        if (key.startsWith(VOLUME_PREFIX)) return await syncVolume(key.slice(VOLUME_PREFIX.length));
        const slash = key.indexOf('/');
        await syncClaim(key.slice(0, slash), key.slice(slash + 1));
      } catch (error) {
        ignoreNotFound(error);
      }
    }

    return startReconciler({ context, queue, informers: [claims, volumes, classes], reconcile, handlers });
  },
};
