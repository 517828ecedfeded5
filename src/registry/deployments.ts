/** apps/v1 Deployment. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy } from './strategy.js';
import { ageColumn, formatLabelSelector, templateColumns } from './common/printing.js';
import { defaultPodTemplate } from './common/pod-spec.js';
import { isZeroIntOrPercent, validateIntOrPercent, validateNonNegativeInteger, validateOneOf } from './common/validation.js';
import { selectorImmutable, validateReplicas, validateSelectorAndTemplate } from './common/workload.js';
import { type Fields, mapAt } from './common/fields.js';

const STRATEGY_TYPES = ['Recreate', 'RollingUpdate'];

function validatePercentAtMost100(value: unknown, field: string): FieldError[] {
  if (typeof value === 'string' && /^\d+%$/.test(value) && parseInt(value, 10) > 100) return [fieldErrors.invalid(field, value, 'must not be greater than 100%')];
  return [];
}

function validateStrategy(strategy: Fields | undefined): FieldError[] {
  if (!isPlainObject(strategy)) return [];
  const errs = validateOneOf(strategy.type, 'spec.strategy.type', STRATEGY_TYPES, true);
  const rolling = strategy.rollingUpdate;
  if (strategy.type === 'Recreate' && rolling !== undefined) {
    errs.push(fieldErrors.forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
  }
  if (strategy.type === 'RollingUpdate' && isPlainObject(rolling)) {
    const field = 'spec.strategy.rollingUpdate';
    errs.push(...validateIntOrPercent(rolling.maxUnavailable, `${field}.maxUnavailable`), ...validatePercentAtMost100(rolling.maxUnavailable, `${field}.maxUnavailable`));
    errs.push(...validateIntOrPercent(rolling.maxSurge, `${field}.maxSurge`));
    if (isZeroIntOrPercent(rolling.maxUnavailable) && isZeroIntOrPercent(rolling.maxSurge)) {
      errs.push(fieldErrors.invalid(`${field}.maxUnavailable`, rolling.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
  }
  return errs;
}

function validateDeploymentSpec(spec: Fields): FieldError[] {
  const errs = [...validateReplicas(spec), ...validateSelectorAndTemplate(spec, 'deployment'), ...validateStrategy(spec.strategy)];
  errs.push(...validateNonNegativeInteger(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateNonNegativeInteger(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  errs.push(...validateNonNegativeInteger(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
  if (typeof spec.progressDeadlineSeconds === 'number' && spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
    errs.push(fieldErrors.invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
  return errs;
}

export const deployments: KindStrategy = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  shortNames: ['deploy'],
  categories: ['all'],
  namespaced: true,
  statusSubresource: true,
  scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'status.selector' },
  generation: true,
  // The controller records deployment.kubernetes.io/revision through /status, as upstream's does.
  statusSubresourceMetadata: ['annotations'],

  defaults(deployment) {
    const spec = mapAt(deployment, 'spec');
    if (!spec) return;
    spec.replicas ??= 1;
    const strategy = mapAt(spec, 'strategy') ?? {};
    strategy.type ??= 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') {
      const rolling = mapAt(strategy, 'rollingUpdate') ?? {};
      rolling.maxUnavailable ??= '25%';
      rolling.maxSurge ??= '25%';
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    defaultPodTemplate(spec.template);
  },
  prepareForCreate(deployment) {
    deployment.status = {};
  },
  validate(deployment, old) {
    if (!isPlainObject(deployment.spec)) return [fieldErrors.required('spec')];
    const errs = validateDeploymentSpec(deployment.spec);
    if (old) errs.push(...selectorImmutable(deployment.spec, old.spec));
    return errs;
  },

  columns: [
    { name: 'Ready', type: 'string', description: 'Number of the pod with ready state', cell: (d) => `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}` },
    { name: 'Up-to-date', type: 'string', description: 'Total number of non-terminating pods targeted by this deployment that have the desired template spec.', cell: (d) => d.status?.updatedReplicas ?? 0 },
    { name: 'Available', type: 'string', description: 'Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.', cell: (d) => d.status?.availableReplicas ?? 0 },
    ageColumn,
    ...templateColumns(
      (d) => d.spec?.template,
      (d) => (d.spec?.selector ? formatLabelSelector(d.spec.selector).replace(/^<none>$/, '') : ''),
    ),
  ],
};
