/** core/v1 LimitRange and ResourceQuota: per-namespace resource policy. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn, createdAtColumn } from './common/printing.js';
import { isQuantity, parseQuantity, qualifiedNameErrors, validateOneOf } from './common/validation.js';
import type { Fields } from './common/fields.js';

const LIMIT_TYPES = ['Pod', 'Container', 'PersistentVolumeClaim'];
const QUOTA_SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity'];
const QUANTITY_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

type ResourceList = Fields;

function validateResourceList(list: unknown, field: string): FieldError[] {
  if (list === undefined || list === null) return [];
  if (!isPlainObject(list)) return [fieldErrors.typeInvalid(field, list, 'must be a map of resource names to quantities')];
  const errs: FieldError[] = [];
  for (const [name, quantity] of Object.entries(list)) {
    for (const p of qualifiedNameErrors(name)) errs.push(fieldErrors.invalid(`${field}[${name}]`, name, p));
    if (!isQuantity(quantity)) errs.push(fieldErrors.invalid(`${field}[${name}]`, quantity, QUANTITY_MESSAGE));
    else if (parseQuantity(quantity) < 0) errs.push(fieldErrors.invalid(`${field}[${name}]`, quantity, 'must be greater than or equal to 0'));
  }
  return errs;
}

/** Container defaults fall back to max, and default requests to the defaults, then to min (upstream SetDefaults_LimitRangeItem). */
function defaultLimitItem(item: Fields): void {
  if (item.type !== 'Container') return;
  const fill = (target: ResourceList, source: unknown) => {
    for (const [name, quantity] of Object.entries(isPlainObject(source) ? source : {})) if (!(name in target)) target[name] = quantity as string;
  };
  const defaults: ResourceList = isPlainObject(item.default) ? item.default : {};
  fill(defaults, item.max);
  if (Object.keys(defaults).length > 0) item.default = defaults;
  const defaultRequests: ResourceList = isPlainObject(item.defaultRequest) ? item.defaultRequest : {};
  fill(defaultRequests, item.default);
  fill(defaultRequests, item.min);
  if (Object.keys(defaultRequests).length > 0) item.defaultRequest = defaultRequests;
}

function validateLimitItem(item: Fields, field: string): FieldError[] {
  const errs = validateOneOf(item.type, `${field}.type`, LIMIT_TYPES, true);
  for (const section of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) errs.push(...validateResourceList(item[section], `${field}.${section}`));
  if (item.type === 'Pod') {
    for (const section of ['default', 'defaultRequest']) {
      if (item[section] !== undefined) errs.push(fieldErrors.forbidden(`${field}.${section}`, "may not be specified when `type` is 'Pod'"));
    }
  }
  const min: ResourceList = isPlainObject(item.min) ? item.min : {};
  const max: ResourceList = isPlainObject(item.max) ? item.max : {};
  for (const [name, low] of Object.entries(min)) {
    if (name in max && parseQuantity(low) > parseQuantity(max[name])) {
      errs.push(fieldErrors.invalid(`${field}.min[${name}]`, low, `min value ${low} is greater than max value ${max[name]}`));
    }
  }
  return errs;
}

export const limitRanges: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  plural: 'limitranges',
  singular: 'limitrange',
  shortNames: ['limits'],
  namespaced: true,

  defaults(limitRange) {
    for (const item of (Array.isArray(limitRange.spec?.limits) ? limitRange.spec.limits : []) as Fields[]) if (isPlainObject(item)) defaultLimitItem(item);
  },
  validate(limitRange) {
    const limits: unknown = limitRange.spec?.limits;
    if (!Array.isArray(limits)) return limits === undefined ? [] : [fieldErrors.typeInvalid('spec.limits', limits, 'must be a list')];
    return limits.flatMap((item: Fields, i: number) => validateLimitItem(item ?? {}, `spec.limits[${i}]`));
  },

  columns: [createdAtColumn],
};

/** "cpu: 100m/1, pods: 2/10" for requests and the same for limits.* (upstream printResourceQuota). */
function quotaUsage(quota: Obj, limits: boolean): string {
  const hard: ResourceList = quota.status?.hard ?? {};
  const used: ResourceList = quota.status?.used ?? {};
  return Object.keys(hard)
    .sort()
    .filter((name) => name.startsWith('limits.') === limits)
    .map((name) => `${name}: ${used[name] ?? '0'}/${hard[name]}`)
    .join(', ');
}

export const resourceQuotas: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  singular: 'resourcequota',
  shortNames: ['quota'],
  namespaced: true,
  statusSubresource: true,

  prepareForCreate(quota) {
    quota.status = {};
  },
  validate(quota) {
    const spec: Fields = isPlainObject(quota.spec) ? quota.spec : {};
    const errs = validateResourceList(spec.hard, 'spec.hard');
    for (const [i, scope] of ((Array.isArray(spec.scopes) ? spec.scopes : []) as unknown[]).entries()) {
      errs.push(...validateOneOf(scope, `spec.scopes[${i}]`, QUOTA_SCOPES, true));
    }
    return errs;
  },

  columns: [
    ageColumn,
    { name: 'Request', type: 'string', description: 'Request represents a minimum amount of cpu/memory that a container may consume.', cell: (q) => quotaUsage(q, false) },
    { name: 'Limit', type: 'string', description: 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.', cell: (q) => quotaUsage(q, true) },
  ],
};
