/**
 * storage.k8s.io/v1 kinds of the Container Storage Interface: CSIDriver, CSINode,
 * VolumeAttachment and CSIStorageCapacity, with upstream's defaults, validation and columns.
 */
import { fieldErrors, type FieldError } from '../api/status.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { immutable, isQuantity, qualifiedNameErrors } from './common/validation.js';

function driverNameErrors(name: unknown, field: string): FieldError[] {
  if (typeof name !== 'string' || name === '') return [fieldErrors.required(field)];
  return qualifiedNameErrors(name.toLowerCase()).map((message) => fieldErrors.invalid(field, name, message));
}

export const csiDrivers: KindStrategy = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'CSIDriver',
  plural: 'csidrivers',
  singular: 'csidriver',
  namespaced: false,
  defaults(driver) {
    driver.spec ??= {};
    if (typeof driver.spec !== 'object' || driver.spec === null) return;
    driver.spec.attachRequired ??= true;
    driver.spec.podInfoOnMount ??= false;
    driver.spec.storageCapacity ??= false;
    driver.spec.fsGroupPolicy ??= 'ReadWriteOnceWithFSType';
    driver.spec.requiresRepublish ??= false;
    driver.spec.seLinuxMount ??= false;
    driver.spec.volumeLifecycleModes ??= ['Persistent'];
  },
  validate(driver, old) {
    const errs = driverNameErrors(driver.metadata.name, 'metadata.name');
    (driver.spec?.volumeLifecycleModes ?? []).forEach((mode: string, i: number) => {
      if (mode !== 'Persistent' && mode !== 'Ephemeral') errs.push(fieldErrors.notSupported(`spec.volumeLifecycleModes[${i}]`, mode, ['Ephemeral', 'Persistent']));
    });
    if (old) {
      errs.push(...immutable('spec.attachRequired', driver.spec?.attachRequired, old.spec?.attachRequired));
      errs.push(...immutable('spec.volumeLifecycleModes', driver.spec?.volumeLifecycleModes, old.spec?.volumeLifecycleModes));
    }
    return errs;
  },
  nameValidation: () => [],
  columns: [
    { name: 'AttachRequired', type: 'boolean', cell: (o) => o.spec?.attachRequired },
    { name: 'PodInfoOnMount', type: 'boolean', cell: (o) => o.spec?.podInfoOnMount },
    { name: 'StorageCapacity', type: 'boolean', cell: (o) => o.spec?.storageCapacity },
    { name: 'TokenRequests', type: 'string', cell: (o) => (o.spec?.tokenRequests?.length ? o.spec.tokenRequests.map((t: Obj) => t.audience).join(',') : '<unset>') },
    { name: 'RequiresRepublish', type: 'boolean', cell: (o) => o.spec?.requiresRepublish },
    { name: 'Modes', type: 'string', cell: (o) => (o.spec?.volumeLifecycleModes ?? []).join(',') || '<none>' },
    ageColumn,
  ],
};

export const csiNodes: KindStrategy = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'CSINode',
  plural: 'csinodes',
  singular: 'csinode',
  namespaced: false,
  validate(node) {
    const errs: FieldError[] = [];
    const seen = new Set<string>();
    (node.spec?.drivers ?? []).forEach((driver: Obj, i: number) => {
      errs.push(...driverNameErrors(driver.name, `spec.drivers[${i}].name`));
      if (seen.has(driver.name)) errs.push(fieldErrors.duplicate(`spec.drivers[${i}].name`, driver.name));
      seen.add(driver.name);
      if (!driver.nodeID) errs.push(fieldErrors.required(`spec.drivers[${i}].nodeID`));
    });
    return errs;
  },
  columns: [{ name: 'Drivers', type: 'integer', cell: (o) => (o.spec?.drivers ?? []).length }, ageColumn],
};

export const volumeAttachments: KindStrategy = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'VolumeAttachment',
  plural: 'volumeattachments',
  singular: 'volumeattachment',
  namespaced: false,
  statusSubresource: true,
  validate(attachment, old) {
    const errs = driverNameErrors(attachment.spec?.attacher, 'spec.attacher');
    if (!attachment.spec?.nodeName) errs.push(fieldErrors.required('spec.nodeName'));
    const source = attachment.spec?.source ?? {};
    if ((source.persistentVolumeName === undefined) === (source.inlineVolumeSpec === undefined)) errs.push(fieldErrors.required('spec.source', 'must specify exactly one of inlineVolumeSpec and persistentVolumeName'));
    if (old) errs.push(...immutable('spec', attachment.spec, old.spec));
    return errs;
  },
  columns: [
    { name: 'Attacher', type: 'string', cell: (o) => o.spec?.attacher },
    { name: 'PV', type: 'string', cell: (o) => o.spec?.source?.persistentVolumeName ?? '' },
    { name: 'Node', type: 'string', cell: (o) => o.spec?.nodeName },
    { name: 'Attached', type: 'boolean', cell: (o) => o.status?.attached ?? false },
    ageColumn,
  ],
};

export const csiStorageCapacities: KindStrategy = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'CSIStorageCapacity',
  plural: 'csistoragecapacities',
  singular: 'csistoragecapacity',
  namespaced: true,
  validate(capacity, old) {
    const errs: FieldError[] = [];
    if (!capacity.storageClassName) errs.push(fieldErrors.required('storageClassName'));
    for (const field of ['capacity', 'maximumVolumeSize']) {
      if (capacity[field] !== undefined && !isQuantity(capacity[field])) errs.push(fieldErrors.invalid(field, capacity[field], "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
    }
    if (old) {
      errs.push(...immutable('storageClassName', capacity.storageClassName, old.storageClassName));
      errs.push(...immutable('nodeTopology', capacity.nodeTopology, old.nodeTopology));
    }
    return errs;
  },
  columns: [
    { name: 'StorageClassName', type: 'string', cell: (o) => o.storageClassName },
    { name: 'Capacity', type: 'string', cell: (o) => o.capacity ?? '<unset>' },
    ageColumn,
  ],
};
