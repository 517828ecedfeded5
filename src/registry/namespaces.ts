/** core/v1 Namespace. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { qualifiedNameErrors } from './common/validation.js';
import { mapAt } from './common/fields.js';

/** The finalizer the namespace controller removes once everything inside is deleted. */
export const KUBERNETES_FINALIZER = 'kubernetes';
export const METADATA_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Upstream labels every namespace with its own name so selectors can pick namespaces by name. */
function labelWithName(namespace: Obj): void {
  const name = namespace.metadata.name;
  if (!name) return;
  namespace.metadata.labels = { ...(namespace.metadata.labels ?? {}), [METADATA_NAME_LABEL]: name };
}

function validateFinalizers(namespace: Obj): FieldError[] {
  const finalizers: unknown = namespace.spec?.finalizers;
  if (finalizers === undefined) return [];
  if (!Array.isArray(finalizers)) return [fieldErrors.typeInvalid('spec.finalizers', finalizers, 'must be a list of strings')];
  const errs: FieldError[] = [];
  finalizers.forEach((f, i) => {
    if (typeof f !== 'string') errs.push(fieldErrors.typeInvalid(`spec.finalizers[${i}]`, f, 'must be a string'));
    else for (const p of qualifiedNameErrors(f)) errs.push(fieldErrors.invalid(`spec.finalizers[${i}]`, f, p));
  });
  return errs;
}

export const namespaces: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  namespaced: false,
  statusSubresource: true,
  nameIsDnsLabel: true,

  defaults(namespace) {
    labelWithName(namespace);
  },
  prepareForCreate(namespace) {
    namespace.status = { phase: 'Active' };
    const spec = mapAt(namespace, 'spec');
    if (!spec) return;
    const finalizers: string[] = Array.isArray(spec.finalizers) ? spec.finalizers : [];
    if (!finalizers.includes(KUBERNETES_FINALIZER)) finalizers.push(KUBERNETES_FINALIZER);
    spec.finalizers = finalizers;
  },
  prepareForUpdate(namespace, old) {
    // spec.finalizers only changes through the /finalize subresource.
    namespace.spec = { ...(isPlainObject(namespace.spec) ? namespace.spec : {}), finalizers: old.spec?.finalizers ?? [] };
    labelWithName(namespace);
  },
  blocksDeletion: (namespace) => (namespace.spec?.finalizers ?? []).length > 0,
  prepareForDelete(namespace) {
    namespace.status = { ...(namespace.status ?? {}), phase: 'Terminating' };
  },
  validate: (namespace) => validateFinalizers(namespace),

  columns: [{ name: 'Status', type: 'string', description: 'The status of the namespace', cell: (n) => n.status?.phase ?? '' }, ageColumn],
  fieldSelectors: {
    'status.phase': (n) => n.status?.phase ?? '',
  },
};
