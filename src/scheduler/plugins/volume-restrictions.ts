/**
 * VolumeRestrictions (upstream's plugins/volumerestrictions). Filter: a disk a pod on the node
 * already mounts conflicts — the same GCE PD unless both mount it read-only, the same AWS EBS
 * volume, the same Ceph RBD image (a shared monitor, same pool and image) or iSCSI IQN unless both
 * are read-only. PreFilter: a claim with the ReadWriteOncePod access mode already used by a
 * scheduled pod anywhere makes every node Unschedulable (preemption may free it); AddPod/RemovePod
 * keep that count right for preemption's what-ifs. A pod with neither kind of volume skips.
 */
import type { Lister } from '../../client/informer.js';
import type { PodInfo } from '../node-info.js';
import type { Snapshot } from '../snapshot.js';
import { status, type Plugin, type Pod } from '../types.js';

export const NAME = 'VolumeRestrictions';
export const REASON_DISK_CONFLICT = 'node(s) had no available disk';
export const REASON_RWOP_CONFLICT = 'node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode';
const STATE_KEY = 'PreFilter' + NAME;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

function needsDiskCheck(volume: Fields): boolean {
  return !!(volume.gcePersistentDisk || volume.awsElasticBlockStore || volume.rbd || volume.iscsi);
}

function overlap(a: readonly string[] = [], b: readonly string[] = []): boolean {
  return a.some((value) => b.includes(value));
}

/** Whether `volume` conflicts with one of `existing`'s volumes. */
export function diskConflict(volume: Fields, existing: Pod): boolean {
  for (const other of (existing.spec?.volumes ?? []) as Fields[]) {
    const [gce, otherGce] = [volume.gcePersistentDisk, other.gcePersistentDisk];
    if (gce && otherGce && gce.pdName === otherGce.pdName && !(gce.readOnly && otherGce.readOnly)) return true;
    if (volume.awsElasticBlockStore && other.awsElasticBlockStore && volume.awsElasticBlockStore.volumeID === other.awsElasticBlockStore.volumeID) return true;
    const [iscsi, otherIscsi] = [volume.iscsi, other.iscsi];
    if (iscsi && otherIscsi && iscsi.iqn === otherIscsi.iqn && !(iscsi.readOnly && otherIscsi.readOnly)) return true;
    const [rbd, otherRbd] = [volume.rbd, other.rbd];
    if (rbd && otherRbd && overlap(rbd.monitors, otherRbd.monitors) && (rbd.pool ?? 'rbd') === (otherRbd.pool ?? 'rbd') && rbd.image === otherRbd.image && !(rbd.readOnly && otherRbd.readOnly)) return true;
  }
  return false;
}

class RestrictionsState {
  constructor(
    /** The pod's volumes that need the disk check. */
    readonly disks: Fields[],
    /** Names of the pod's claims with ReadWriteOncePod. */
    readonly readWriteOncePod: ReadonlySet<string>,
    /** Scheduled pods' references to those claims. */
    public conflicts: number,
  ) {}

  clone(): RestrictionsState {
    return new RestrictionsState(this.disks, this.readWriteOncePod, this.conflicts);
  }

  update(pod: Pod, changed: PodInfo, sign: 1 | -1): void {
    if (changed.pod.metadata.namespace !== pod.metadata.namespace) return;
    for (const claim of changed.claims) if (this.readWriteOncePod.has(claim)) this.conflicts += sign;
  }
}

export function volumeRestrictions(claims: Lister): Plugin {
  return {
    name: NAME,
    events: ['Pod/Delete', 'Node/Add', 'Node/UpdateNodeLabel', 'Node/UpdateNodeTaint', 'PersistentVolumeClaim/Add'],
    preFilter(state, pod, snapshot: Snapshot) {
      const volumes = (pod.spec?.volumes ?? []) as Fields[];
      if (volumes.length === 0) return status.skip();
      const disks = volumes.filter(needsDiskCheck);
      const namespace = pod.metadata.namespace!;
      const readWriteOncePod = new Set<string>();
      let conflicts = 0;
      for (const volume of volumes) {
        const name = volume.persistentVolumeClaim?.claimName;
        if (!name) continue;
        const claim = claims.get(namespace, name);
        if (!claim) return status.unresolvable(`persistentvolumeclaim "${name}" not found`);
        if (!((claim.spec?.accessModes ?? []) as string[]).includes('ReadWriteOncePod') || readWriteOncePod.has(name)) continue;
        readWriteOncePod.add(name);
        if ((snapshot.usedPVCs.get(`${namespace}/${name}`) ?? 0) > 0) conflicts++;
      }
      if (disks.length === 0 && conflicts === 0 && readWriteOncePod.size === 0) return status.skip();
      state.write(STATE_KEY, new RestrictionsState(disks, readWriteOncePod, conflicts));
      return undefined;
    },
    addPod(state, pod, added) {
      state.read<RestrictionsState>(STATE_KEY)?.update(pod, added, 1);
    },
    removePod(state, pod, removed) {
      state.read<RestrictionsState>(STATE_KEY)?.update(pod, removed, -1);
    },
    filter(state, _pod, nodeInfo) {
      const s = state.read<RestrictionsState>(STATE_KEY);
      if (!s) return undefined;
      for (const disk of s.disks) for (const existing of nodeInfo.pods) if (diskConflict(disk, existing.pod)) return status.unschedulable(REASON_DISK_CONFLICT);
      if (s.conflicts > 0) return status.unschedulable(REASON_RWOP_CONFLICT);
      return undefined;
    },
  };
}
