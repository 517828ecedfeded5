/** apps/v1 ReplicaSet. */
import { fieldErrors } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy } from './strategy.js';
import { ageColumn, formatLabelSelector, templateColumns } from './common/printing.js';
import { defaultPodTemplate } from './common/pod-spec.js';
import { validateNonNegativeInteger } from './common/validation.js';
import { selectorImmutable, validateReplicas, validateSelectorAndTemplate } from './common/workload.js';
import { mapAt } from './common/fields.js';

export const replicaSets: KindStrategy = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  shortNames: ['rs'],
  categories: ['all'],
  namespaced: true,
  statusSubresource: true,
  scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'status.selector' },
  generation: true,

  defaults(replicaSet) {
    const spec = mapAt(replicaSet, 'spec');
    if (!spec) return;
    spec.replicas ??= 1;
    defaultPodTemplate(spec.template);
  },
  prepareForCreate(replicaSet) {
    replicaSet.status = { replicas: 0 };
  },
  validate(replicaSet, old) {
    const spec = replicaSet.spec;
    if (!isPlainObject(spec)) return [fieldErrors.required('spec')];
    const errs = [...validateReplicas(spec), ...validateSelectorAndTemplate(spec, 'deployment'), ...validateNonNegativeInteger(spec.minReadySeconds, 'spec.minReadySeconds')];
    if (old) errs.push(...selectorImmutable(spec, old.spec));
    return errs;
  },

  columns: [
    { name: 'Desired', type: 'integer', description: 'Replicas is the number of desired pods.', cell: (r) => r.spec?.replicas ?? 0 },
    { name: 'Current', type: 'integer', description: 'Replicas is the most recently observed number of non-terminating pods.', cell: (r) => r.status?.replicas ?? 0 },
    { name: 'Ready', type: 'integer', description: 'The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.', cell: (r) => r.status?.readyReplicas ?? 0 },
    ageColumn,
    ...templateColumns((r) => r.spec?.template, (r) => formatLabelSelector(r.spec?.selector)),
  ],
  fieldSelectors: {
    'status.replicas': (r) => String(r.status?.replicas ?? 0),
  },
};
