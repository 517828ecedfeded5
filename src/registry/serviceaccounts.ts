/** core/v1 ServiceAccount. */
import { fieldErrors, type FieldError } from '../api/status.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { dns1123SubdomainErrors } from './common/validation.js';

function validateSecretReferences(account: Obj): FieldError[] {
  const errs: FieldError[] = [];
  for (const list of ['secrets', 'imagePullSecrets'] as const) {
    const references: unknown = account[list];
    if (references === undefined) continue;
    if (!Array.isArray(references)) {
      errs.push(fieldErrors.typeInvalid(list, references, 'must be a list'));
      continue;
    }
    references.forEach((reference: Obj, i: number) => {
      if (typeof reference?.name === 'string' && reference.name !== '') {
        for (const p of dns1123SubdomainErrors(reference.name)) errs.push(fieldErrors.invalid(`${list}[${i}].name`, reference.name, p));
      }
    });
  }
  if (account.automountServiceAccountToken !== undefined && typeof account.automountServiceAccountToken !== 'boolean') {
    errs.push(fieldErrors.typeInvalid('automountServiceAccountToken', account.automountServiceAccountToken, 'must be a boolean'));
  }
  return errs;
}

export const serviceAccounts: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  shortNames: ['sa'],
  namespaced: true,

  validate: (account) => validateSecretReferences(account),

  columns: [{ name: 'Secrets', type: 'string', description: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.', cell: (a) => (a.secrets ?? []).length }, ageColumn],
};
