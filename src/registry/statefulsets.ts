/** apps/v1 StatefulSet. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject, jsonEqual } from '../api/object.js';
import type { KindStrategy } from './strategy.js';
import { ageColumn, templateColumns } from './common/printing.js';
import { defaultPodTemplate } from './common/pod-spec.js';
import { validateNonNegativeInteger, validateOneOf } from './common/validation.js';
import { validateReplicas, validateSelectorAndTemplate } from './common/workload.js';
import { type Fields, mapAt } from './common/fields.js';

const POD_MANAGEMENT_POLICIES = ['OrderedReady', 'Parallel'];
const UPDATE_STRATEGIES = ['RollingUpdate', 'OnDelete'];
const RETENTION_POLICIES = ['Retain', 'Delete'];
/** The only spec fields an update may change (upstream ValidateStatefulSetUpdate). */
const MUTABLE_FIELDS = ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

/** Claim templates are defaulted like claims; upstream also fills their type meta and phase. */
function defaultClaimTemplates(templates: unknown): void {
  if (!Array.isArray(templates)) return;
  for (const claim of templates.filter(isPlainObject) as Fields[]) {
    claim.apiVersion ??= 'v1';
    claim.kind ??= 'PersistentVolumeClaim';
    claim.metadata ??= {};
    (mapAt(claim, 'spec') ?? {}).volumeMode ??= 'Filesystem';
    (mapAt(claim, 'status') ?? {}).phase ??= 'Pending';
  }
}

function validateStatefulSetSpec(spec: Fields): FieldError[] {
  const errs = [...validateReplicas(spec), ...validateSelectorAndTemplate(spec, 'statefulset')];
  errs.push(...validateOneOf(spec.podManagementPolicy, 'spec.podManagementPolicy', POD_MANAGEMENT_POLICIES, true));
  const strategy: Fields = isPlainObject(spec.updateStrategy) ? spec.updateStrategy : {};
  errs.push(...validateOneOf(strategy.type, 'spec.updateStrategy.type', UPDATE_STRATEGIES, true));
  if (strategy.type === 'OnDelete' && strategy.rollingUpdate !== undefined) {
    errs.push(fieldErrors.invalid('spec.updateStrategy.rollingUpdate', strategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
  }
  errs.push(...validateNonNegativeInteger(strategy.rollingUpdate?.partition, 'spec.updateStrategy.rollingUpdate.partition'));
  errs.push(...validateNonNegativeInteger(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  errs.push(...validateNonNegativeInteger(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateNonNegativeInteger(spec.ordinals?.start, 'spec.ordinals.start'));
  const retention: Fields = isPlainObject(spec.persistentVolumeClaimRetentionPolicy) ? spec.persistentVolumeClaimRetentionPolicy : {};
  errs.push(...validateOneOf(retention.whenDeleted, 'spec.persistentVolumeClaimRetentionPolicy.whenDeleted', RETENTION_POLICIES));
  errs.push(...validateOneOf(retention.whenScaled, 'spec.persistentVolumeClaimRetentionPolicy.whenScaled', RETENTION_POLICIES));
  ((Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []) as Fields[]).forEach((claim, i) => {
    if (!claim?.metadata?.name) errs.push(fieldErrors.required(`spec.volumeClaimTemplates[${i}].metadata.name`));
  });
  return errs;
}

function validateUpdate(spec: Fields, oldSpec: Fields): FieldError[] {
  const frozen = (s: Fields) => Object.fromEntries(Object.entries(s).filter(([key]) => !MUTABLE_FIELDS.includes(key)));
  if (jsonEqual(frozen(spec), frozen(oldSpec))) return [];
  return [
    fieldErrors.forbidden(
      'spec',
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
  ];
}

export const statefulSets: KindStrategy = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  shortNames: ['sts'],
  categories: ['all'],
  namespaced: true,
  statusSubresource: true,
  scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'status.selector' },
  generation: true,

  defaults(statefulSet) {
    const spec = mapAt(statefulSet, 'spec');
    if (!spec) return;
    spec.replicas ??= 1;
    spec.podManagementPolicy ??= 'OrderedReady';
    const strategy = mapAt(spec, 'updateStrategy') ?? {};
    strategy.type ??= 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') (mapAt(strategy, 'rollingUpdate') ?? {}).partition ??= 0;
    spec.revisionHistoryLimit ??= 10;
    const retention = mapAt(spec, 'persistentVolumeClaimRetentionPolicy') ?? {};
    retention.whenDeleted ??= 'Retain';
    retention.whenScaled ??= 'Retain';
    defaultPodTemplate(spec.template);
    defaultClaimTemplates(spec.volumeClaimTemplates);
  },
  prepareForCreate(statefulSet) {
    statefulSet.status = { replicas: 0, availableReplicas: 0 };
  },
  validate(statefulSet, old) {
    if (!isPlainObject(statefulSet.spec)) return [fieldErrors.required('spec')];
    const errs = validateStatefulSetSpec(statefulSet.spec);
    if (old) errs.push(...validateUpdate(statefulSet.spec, old.spec ?? {}));
    return errs;
  },

  columns: [
    { name: 'Ready', type: 'string', description: 'Number of the pod with ready state', cell: (s) => `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 0}` },
    ageColumn,
    ...templateColumns((s) => s.spec?.template),
  ],
};
