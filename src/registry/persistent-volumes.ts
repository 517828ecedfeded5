/** core/v1 PersistentVolume and PersistentVolumeClaim. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject, jsonEqual, nowRfc3339 } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { isQuantity, parseQuantity, validateOneOf } from './common/validation.js';
import { type Fields, mapAt } from './common/fields.js';

const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
const ACCESS_MODE_ABBREVIATIONS: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const VOLUME_MODES = ['Block', 'Filesystem'];
const LEGACY_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

/** The volume plugins a PersistentVolume may name; exactly one must be given. */
const VOLUME_SOURCES = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'csi', 'fc', 'flexVolume', 'flocker', 'gcePersistentDisk',
  'glusterfs', 'hostPath', 'iscsi', 'local', 'nfs', 'photonPersistentDisk', 'portworxVolume', 'quobyte', 'rbd', 'scaleIO', 'storageos', 'vsphereVolume',
];

/** "RWO,RWX" in upstream's fixed order. */
function accessModesString(modes: unknown): string {
  const given = new Set(Array.isArray(modes) ? modes : []);
  return ACCESS_MODES.filter((m) => given.has(m)).map((m) => ACCESS_MODE_ABBREVIATIONS[m]).join(',');
}

function storageClassOf(object: Obj): string {
  return object.metadata.annotations?.[LEGACY_CLASS_ANNOTATION] ?? object.spec?.storageClassName ?? '';
}

function phaseOf(object: Obj): string {
  return object.metadata.deletionTimestamp ? 'Terminating' : (object.status?.phase ?? '');
}

function validateAccessModes(modes: unknown, required: string | undefined): FieldError[] {
  if (!Array.isArray(modes) || modes.length === 0) return [fieldErrors.required('spec.accessModes', required)];
  const errs: FieldError[] = [];
  modes.forEach((mode, i) => errs.push(...validateOneOf(mode, `spec.accessModes[${i}]`, ACCESS_MODES, true)));
  if (modes.includes('ReadWriteOncePod') && modes.length > 1) {
    errs.push(fieldErrors.forbidden('spec.accessModes', 'may not use ReadWriteOncePod with other access modes'));
  }
  return errs;
}

function volumeSourceOf(spec: Fields): Fields {
  return Object.fromEntries(VOLUME_SOURCES.filter((s) => spec[s] !== undefined).map((s) => [s, spec[s]]));
}

function validateVolumeSpec(spec: Fields): FieldError[] {
  const errs: FieldError[] = [];
  const capacity = spec.capacity;
  if (!isPlainObject(capacity) || Object.keys(capacity).length === 0) errs.push(fieldErrors.required('spec.capacity'));
  else if (!('storage' in capacity) || Object.keys(capacity).length > 1) errs.push(fieldErrors.notSupported('spec.capacity', capacity, ['storage']));
  else if (!isQuantity(capacity.storage)) errs.push(fieldErrors.invalid('spec.capacity[storage]', capacity.storage, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
  errs.push(...validateAccessModes(spec.accessModes, undefined));
  const sources = Object.keys(volumeSourceOf(spec));
  if (sources.length === 0) errs.push(fieldErrors.required('spec', 'must specify a volume type'));
  else if (sources.length > 1) errs.push(fieldErrors.forbidden(`spec.${sources[1]}`, 'may not specify more than 1 volume type'));
  if (spec.hostPath !== undefined && !spec.hostPath?.path) errs.push(fieldErrors.required('spec.hostPath.path'));
  if (spec.local !== undefined && !isPlainObject(spec.nodeAffinity)) errs.push(fieldErrors.required('spec.nodeAffinity', 'Local volume requires node affinity'));
  errs.push(...validateOneOf(spec.persistentVolumeReclaimPolicy, 'spec.persistentVolumeReclaimPolicy', RECLAIM_POLICIES));
  errs.push(...validateOneOf(spec.volumeMode, 'spec.volumeMode', VOLUME_MODES));
  return errs;
}

function validateVolumeUpdate(volume: Obj, old: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (!jsonEqual(volumeSourceOf(volume.spec ?? {}), volumeSourceOf(old.spec ?? {}))) {
    errs.push(fieldErrors.forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  }
  if (volume.spec?.volumeMode !== old.spec?.volumeMode) errs.push(fieldErrors.invalid('spec.volumeMode', volume.spec?.volumeMode, 'field is immutable'));
  return errs;
}

export const persistentVolumes: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  singular: 'persistentvolume',
  shortNames: ['pv'],
  namespaced: false,
  statusSubresource: true,

  defaults(volume) {
    const spec = mapAt(volume, 'spec');
    if (!spec) return;
    spec.persistentVolumeReclaimPolicy ??= 'Retain';
    spec.volumeMode ??= 'Filesystem';
  },
  prepareForCreate(volume) {
    volume.status = { phase: 'Pending', lastPhaseTransitionTime: nowRfc3339() };
  },
  validate(volume, old) {
    if (!isPlainObject(volume.spec)) return [fieldErrors.required('spec')];
    const errs = validateVolumeSpec(volume.spec);
    if (old) errs.push(...validateVolumeUpdate(volume, old));
    return errs;
  },

  columns: [
    { name: 'Capacity', type: 'string', description: 'capacity is the description of the persistent volume\'s resources and capacity.', cell: (v) => String(v.spec?.capacity?.storage ?? '0') },
    { name: 'Access Modes', type: 'string', description: 'accessModes contains all ways the volume can be mounted.', cell: (v) => accessModesString(v.spec?.accessModes) },
    { name: 'Reclaim Policy', type: 'string', description: 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.', cell: (v) => v.spec?.persistentVolumeReclaimPolicy ?? '' },
    { name: 'Status', type: 'string', description: 'phase indicates if a volume is available, bound to a claim, or released by a claim.', cell: phaseOf },
    { name: 'Claim', type: 'string', description: 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.', cell: (v) => (v.spec?.claimRef ? `${v.spec.claimRef.namespace ?? ''}/${v.spec.claimRef.name ?? ''}` : '') },
    { name: 'StorageClass', type: 'string', description: 'StorageClass of the pv', cell: storageClassOf },
    { name: 'VolumeAttributesClass', type: 'string', description: 'VolumeAttributesClass of the pv', cell: (v) => v.spec?.volumeAttributesClassName ?? '<unset>' },
    { name: 'Reason', type: 'string', description: 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.', cell: (v) => v.status?.reason ?? '' },
    ageColumn,
    { name: 'VolumeMode', type: 'string', priority: 1, description: 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', cell: (v) => v.spec?.volumeMode ?? '<unset>' },
  ],
};

function validateClaimSpec(spec: Fields): FieldError[] {
  const errs = validateAccessModes(spec.accessModes, 'at least 1 access mode is required');
  const storage = spec.resources?.requests?.storage;
  if (storage === undefined) errs.push(fieldErrors.required('spec.resources[storage]'));
  else if (!isQuantity(storage)) errs.push(fieldErrors.invalid('spec.resources[storage]', storage, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
  else if (!(parseQuantity(storage) > 0)) errs.push(fieldErrors.invalid('spec.resources[storage]', storage, 'must be greater than zero'));
  errs.push(...validateOneOf(spec.volumeMode, 'spec.volumeMode', VOLUME_MODES));
  return errs;
}

/** After creation only resources.requests and volumeAttributesClassName change; volumeName may be set once (binding). */
function validateClaimUpdate(claim: Obj, old: Obj): FieldError[] {
  const comparable = (spec: Fields, volumeName: unknown) => ({ ...spec, resources: { ...(spec.resources ?? {}), requests: undefined }, volumeAttributesClassName: undefined, volumeName });
  const oldSpec: Fields = old.spec ?? {};
  const volumeName = oldSpec.volumeName ? oldSpec.volumeName : claim.spec?.volumeName;
  if (jsonEqual(comparable(claim.spec ?? {}, claim.spec?.volumeName), comparable(oldSpec, volumeName))) return [];
  return [fieldErrors.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims')];
}

export const persistentVolumeClaims: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  shortNames: ['pvc'],
  namespaced: true,
  statusSubresource: true,

  defaults(claim) {
    (mapAt(claim, 'spec') ?? {}).volumeMode ??= 'Filesystem';
  },
  prepareForCreate(claim) {
    claim.status = { phase: 'Pending' };
  },
  validate(claim, old) {
    if (!isPlainObject(claim.spec)) return [fieldErrors.required('spec')];
    const errs = validateClaimSpec(claim.spec);
    if (old) errs.push(...validateClaimUpdate(claim, old));
    return errs;
  },

  columns: [
    { name: 'Status', type: 'string', description: 'phase represents the current phase of PersistentVolumeClaim.', cell: phaseOf },
    { name: 'Volume', type: 'string', description: 'volumeName is the binding reference to the PersistentVolume backing this claim.', cell: (c) => c.spec?.volumeName ?? '' },
    { name: 'Capacity', type: 'string', description: 'capacity represents the actual resources of the underlying volume.', cell: (c) => (c.spec?.volumeName ? String(c.status?.capacity?.storage ?? '0') : '') },
    { name: 'Access Modes', type: 'string', description: 'accessModes contains the actual access modes the volume backing the PVC has.', cell: (c) => (c.spec?.volumeName ? accessModesString(c.status?.accessModes) : '') },
    { name: 'StorageClass', type: 'string', description: 'StorageClass of the pvc', cell: storageClassOf },
    { name: 'VolumeAttributesClass', type: 'string', description: 'VolumeAttributesClass of the pvc', cell: (c) => c.spec?.volumeAttributesClassName ?? '<unset>' },
    ageColumn,
    { name: 'VolumeMode', type: 'string', priority: 1, description: 'volumeMode defines what type of volume is required by the claim.', cell: (c) => c.spec?.volumeMode ?? '<unset>' },
  ],
};
