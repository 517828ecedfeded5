/** core/v1 ReplicationController: the original replica controller, with a map selector. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn, labelsToString, templateColumns } from './common/printing.js';
import { defaultPodTemplate } from './common/pod-spec.js';
import { validateLabels } from './common/validation.js';
import { defaultSelectorFromTemplate, templateLabels, validateReplicas, validateTemplate } from './common/workload.js';
import { type Fields, mapAt } from './common/fields.js';

function validateController(controller: Obj): FieldError[] {
  const spec: Fields = controller.spec;
  const errs = validateReplicas(spec);
  const selector = spec.selector;
  if (!isPlainObject(selector) || Object.keys(selector).length === 0) errs.push(fieldErrors.required('spec.selector'));
  else errs.push(...validateLabels(selector, 'spec.selector'));
  errs.push(...validateTemplate(spec.template, 'spec.template', ['Always']));
  const labels = templateLabels(spec.template);
  if (isPlainObject(selector) && isPlainObject(spec.template) && !Object.entries(selector).every(([k, v]) => labels[k] === v)) {
    errs.push(fieldErrors.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  return errs;
}

export const replicationControllers: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  singular: 'replicationcontroller',
  shortNames: ['rc'],
  categories: ['all'],
  namespaced: true,
  statusSubresource: true,
  scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'status.selector' },
  generation: true,
  // core/v1 keeps the pre-GC default: a delete naming no policy orphans the pods.
  defaultGarbageCollectionPolicy: 'OrphanDependents',

  defaults(controller) {
    const spec = mapAt(controller, 'spec');
    if (!spec) return;
    defaultSelectorFromTemplate(controller);
    spec.replicas ??= 1;
    defaultPodTemplate(spec.template);
  },
  prepareForCreate(controller) {
    controller.status = { replicas: 0 };
  },
  validate(controller) {
    if (!isPlainObject(controller.spec)) return [fieldErrors.required('spec')];
    return validateController(controller);
  },

  columns: [
    { name: 'Desired', type: 'integer', description: 'Replicas is the number of desired replicas.', cell: (c) => c.spec?.replicas ?? 0 },
    { name: 'Current', type: 'integer', description: 'Replicas is the most recently observed number of replicas.', cell: (c) => c.status?.replicas ?? 0 },
    { name: 'Ready', type: 'integer', description: 'The number of ready replicas for this replication controller.', cell: (c) => c.status?.readyReplicas ?? 0 },
    ageColumn,
    ...templateColumns((c) => c.spec?.template, (c) => labelsToString(c.spec?.selector)),
  ],
  fieldSelectors: {
    'status.replicas': (c) => String(c.status?.replicas ?? 0),
  },
};
