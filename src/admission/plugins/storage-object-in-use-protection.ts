/**
 * StorageObjectInUseProtection (upstream's plugin/pkg/admission/storage/storageobjectinuseprotection):
 * new PersistentVolumeClaims get the `kubernetes.io/pvc-protection` finalizer and new
 * PersistentVolumes `kubernetes.io/pv-protection`, so deleting one in use only marks it; the
 * pvc-protection and pv-protection controllers remove the finalizer once nothing uses it.
 */
import type { AdmissionPlugin } from '../admission.js';

export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

export function storageObjectInUseProtection(): AdmissionPlugin {
  return {
    name: 'StorageObjectInUseProtection',
    admit(attributes) {
      if (attributes.operation !== 'CREATE' || attributes.subresource || attributes.resource.group !== '' || !attributes.object) return;
      const finalizer = attributes.resource.resource === 'persistentvolumeclaims' ? PVC_PROTECTION_FINALIZER : attributes.resource.resource === 'persistentvolumes' ? PV_PROTECTION_FINALIZER : undefined;
      if (!finalizer) return;
      const finalizers = attributes.object.metadata.finalizers ?? [];
      if (!finalizers.includes(finalizer)) attributes.object.metadata.finalizers = [...finalizers, finalizer];
    },
  };
}
