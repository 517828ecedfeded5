/** policy/v1 PodDisruptionBudget. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { validateIntOrPercent, validateLabelSelector, validateOneOf } from './common/validation.js';
import type { Fields } from './common/fields.js';

const UNHEALTHY_POD_EVICTION_POLICIES = ['IfHealthyBudget', 'AlwaysAllow'];

function validateBudget(value: unknown, field: string): FieldError[] {
  const errs = validateIntOrPercent(value, field);
  if (errs.length === 0 && typeof value === 'string' && parseInt(value, 10) > 100) errs.push(fieldErrors.invalid(field, value, 'must not be greater than 100%'));
  return errs;
}

function validateSpec(spec: Fields): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(fieldErrors.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  errs.push(...validateBudget(spec.minAvailable, 'spec.minAvailable'), ...validateBudget(spec.maxUnavailable, 'spec.maxUnavailable'));
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  errs.push(...validateOneOf(spec.unhealthyPodEvictionPolicy, 'spec.unhealthyPodEvictionPolicy', UNHEALTHY_POD_EVICTION_POLICIES));
  return errs;
}

const budgetCell = (value: unknown) => (value === undefined || value === null ? 'N/A' : String(value));

export const podDisruptionBudgets: KindStrategy = {
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  shortNames: ['pdb'],
  namespaced: true,
  statusSubresource: true,
  generation: true,

  prepareForCreate(budget) {
    // Upstream serialises these counters even when zero.
    budget.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  },
  validate: (budget) => validateSpec(isPlainObject(budget.spec) ? budget.spec : {}),

  columns: [
    { name: 'Min Available', type: 'string', description: 'The minimum number of pods that must be available.', cell: (b) => budgetCell(b.spec?.minAvailable) },
    { name: 'Max Unavailable', type: 'string', description: 'The maximum number of pods that may be unavailable.', cell: (b) => budgetCell(b.spec?.maxUnavailable) },
    { name: 'Allowed Disruptions', type: 'integer', description: 'Calculated number of pods that may be disrupted at this time.', cell: (b) => b.status?.disruptionsAllowed ?? 0 },
    ageColumn,
  ],
};
