/** storage.k8s.io/v1 StorageClass. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { jsonEqual } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { immutable, qualifiedNameErrors, validateOneOf } from './common/validation.js';

const RECLAIM_POLICIES = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];

function validateStorageClass(storageClass: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const provisioner = storageClass.provisioner;
  if (typeof provisioner !== 'string' || provisioner === '') errs.push(fieldErrors.required('provisioner'));
  else for (const p of qualifiedNameErrors(provisioner.toLowerCase())) errs.push(fieldErrors.invalid('provisioner', provisioner, p));
  errs.push(...validateOneOf(storageClass.reclaimPolicy, 'reclaimPolicy', RECLAIM_POLICIES));
  errs.push(...validateOneOf(storageClass.volumeBindingMode, 'volumeBindingMode', BINDING_MODES));
  return errs;
}

/** Only metadata, mountOptions, allowVolumeExpansion and allowedTopologies may change. */
function validateUpdate(storageClass: Obj, old: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (!jsonEqual(storageClass.parameters ?? {}, old.parameters ?? {})) errs.push(fieldErrors.forbidden('parameters', 'updates to parameters are forbidden.'));
  if (storageClass.provisioner !== old.provisioner) errs.push(fieldErrors.forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (storageClass.reclaimPolicy !== old.reclaimPolicy) errs.push(fieldErrors.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  errs.push(...immutable('volumeBindingMode', storageClass.volumeBindingMode, old.volumeBindingMode));
  return errs;
}

const DEFAULT_CLASS_ANNOTATIONS = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];

/** Upstream marks the default class in its name cell. */
function nameWithDefaultMark(storageClass: Obj): string {
  const annotations = storageClass.metadata.annotations ?? {};
  const isDefault = DEFAULT_CLASS_ANNOTATIONS.some((key) => annotations[key] === 'true');
  return isDefault ? `${storageClass.metadata.name} (default)` : storageClass.metadata.name ?? '';
}

export const storageClasses: KindStrategy = {
  nameCell: nameWithDefaultMark,
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  singular: 'storageclass',
  shortNames: ['sc'],
  namespaced: false,

  defaults(storageClass) {
    storageClass.reclaimPolicy ??= 'Delete';
    storageClass.volumeBindingMode ??= 'Immediate';
  },
  validate(storageClass, old) {
    const errs = validateStorageClass(storageClass);
    if (old) errs.push(...validateUpdate(storageClass, old));
    return errs;
  },

  columns: [
    { name: 'Provisioner', type: 'string', description: 'provisioner indicates the type of the provisioner.', cell: (s) => s.provisioner ?? '' },
    { name: 'ReclaimPolicy', type: 'string', description: 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.', cell: (s) => s.reclaimPolicy ?? 'Delete' },
    { name: 'VolumeBindingMode', type: 'string', description: 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.', cell: (s) => s.volumeBindingMode ?? 'Immediate' },
    { name: 'AllowVolumeExpansion', type: 'string', description: 'allowVolumeExpansion shows whether the storage class allow volume expand.', cell: (s) => s.allowVolumeExpansion ?? false },
    ageColumn,
  ],
};
