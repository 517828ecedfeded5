/**
 * DefaultStorageClass (upstream's plugin/pkg/admission/storage/storageclass/setdefault): a new
 * claim that names no storage class (the field absent, not "") gets the default StorageClass —
 * the one annotated `storageclass.kubernetes.io/is-default-class: "true"` (or the beta
 * annotation), the newest if several are.
 */
import type { Registry } from '../../registry/registry.js';
import type { Obj } from '../../registry/strategy.js';
import type { AdmissionPlugin } from '../admission.js';

const DEFAULT_ANNOTATIONS = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];

export function defaultStorageClassOf(registry: Registry): Obj | undefined {
  const defaults = registry
    .of('storage.k8s.io', 'storageclasses')
    .list(undefined, {})
    .items.map((item) => item.object as Obj)
    .filter((sc) => DEFAULT_ANNOTATIONS.some((key) => sc.metadata.annotations?.[key] === 'true'));
  // Newest first; the name breaks ties, as upstream.
  defaults.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  return defaults[0];
}

export function defaultStorageClass(registry: () => Registry): AdmissionPlugin {
  return {
    name: 'DefaultStorageClass',
    admit(attributes) {
      if (attributes.operation !== 'CREATE' || attributes.subresource || attributes.resource.group !== '' || attributes.resource.resource !== 'persistentvolumeclaims') return;
      const spec = attributes.object?.spec;
      if (!spec || typeof spec !== 'object' || spec.storageClassName !== undefined) return;
      const found = defaultStorageClassOf(registry());
      if (found) spec.storageClassName = found.metadata.name;
    },
  };
}
