/** coordination.k8s.io/v1 Lease: leader election and node heartbeats. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { validateNonNegativeInteger } from './common/validation.js';
import type { Fields } from './common/fields.js';

function validateLeaseSpec(spec: Fields): FieldError[] {
  const errs: FieldError[] = [];
  const duration = spec.leaseDurationSeconds;
  if (duration !== undefined && !(Number.isInteger(duration) && duration > 0)) errs.push(fieldErrors.invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  errs.push(...validateNonNegativeInteger(spec.leaseTransitions, 'spec.leaseTransitions'));
  return errs;
}

export const leases: KindStrategy = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,

  validate: (lease) => validateLeaseSpec(isPlainObject(lease.spec) ? lease.spec : {}),

  columns: [{ name: 'Holder', type: 'string', description: 'holderIdentity contains the identity of the holder of a current lease.', cell: (l) => l.spec?.holderIdentity ?? '' }, ageColumn],
};
