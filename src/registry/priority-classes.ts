/** scheduling.k8s.io/v1 PriorityClass. */
import { fieldErrors, type FieldError } from '../api/status.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { immutable, validateOneOf } from './common/validation.js';

const PREEMPTION_POLICIES = ['Never', 'PreemptLowerPriority'];
const SYSTEM_PREFIX = 'system-';
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
/** The only classes allowed to use the reserved prefix, with their fixed values. */
export const SYSTEM_PRIORITY_CLASSES: Record<string, number> = {
  'system-cluster-critical': 2_000_000_000,
  'system-node-critical': 2_000_001_000,
};

function validateValue(priorityClass: Obj): FieldError[] {
  const name: string = priorityClass.metadata.name ?? '';
  const value = priorityClass.value;
  if (typeof value !== 'number' || !Number.isInteger(value)) return [fieldErrors.typeInvalid('value', value, 'must be an integer')];
  if (name.startsWith(SYSTEM_PREFIX)) {
    const known = SYSTEM_PRIORITY_CLASSES[name];
    if (known === undefined) return [fieldErrors.forbidden('metadata.name', `priority class names with '${SYSTEM_PREFIX}' prefix are reserved for system use only. error: ${name} is not a known system priority class`)];
    if (known !== value) return [fieldErrors.forbidden('metadata.name', `priority class names with '${SYSTEM_PREFIX}' prefix are reserved for system use only. error: value of ${name} PriorityClass must be ${known}`)];
    return [];
  }
  if (value > HIGHEST_USER_DEFINABLE_PRIORITY) return [fieldErrors.forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`)];
  return [];
}

export const priorityClasses: KindStrategy = {
  group: 'scheduling.k8s.io',
  version: 'v1',
  kind: 'PriorityClass',
  plural: 'priorityclasses',
  singular: 'priorityclass',
  shortNames: ['pc'],
  namespaced: false,
  // Upstream starts generation at 1; value and preemptionPolicy are immutable, so it rarely moves.
  generation: true,

  defaults(priorityClass) {
    priorityClass.preemptionPolicy ??= 'PreemptLowerPriority';
  },
  validate(priorityClass, old) {
    const errs = [...validateValue(priorityClass), ...validateOneOf(priorityClass.preemptionPolicy, 'preemptionPolicy', PREEMPTION_POLICIES)];
    if (old) {
      if (priorityClass.value !== old.value) errs.push(fieldErrors.forbidden('value', 'may not be changed in an update.'));
      errs.push(...immutable('preemptionPolicy', priorityClass.preemptionPolicy, old.preemptionPolicy));
    }
    return errs;
  },

  columns: [
    { name: 'Value', type: 'integer', description: 'value represents the integer value of this priority class.', cell: (p) => p.value ?? 0 },
    { name: 'Global-Default', type: 'boolean', description: 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.', cell: (p) => p.globalDefault ?? false },
    ageColumn,
    { name: 'PreemptionPolicy', type: 'string', description: 'preemptionPolicy is the Policy for preempting pods with lower priority.', cell: (p) => p.preemptionPolicy ?? '' },
  ],
};
