/** apps/v1 ControllerRevision: an immutable snapshot of a StatefulSet's or DaemonSet's template. */
import { fieldErrors, type FieldError } from '../api/status.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { immutable, validateNonNegativeInteger } from './common/validation.js';

/** "daemonset.apps/fluentd": the controlling owner as kind.group/name. */
function controllerOf(object: Obj): string {
  const owner = (object.metadata.ownerReferences ?? []).find((o) => o.controller);
  if (!owner) return '<none>';
  const slash = owner.apiVersion.indexOf('/');
  const group = slash >= 0 ? owner.apiVersion.slice(0, slash) : '';
  return `${(group ? `${owner.kind}.${group}` : owner.kind).toLowerCase()}/${owner.name}`;
}

function validateRevision(revision: Obj): FieldError[] {
  if (revision.revision === undefined) return [fieldErrors.required('revision')];
  return validateNonNegativeInteger(revision.revision, 'revision');
}

export const controllerRevisions: KindStrategy = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  namespaced: true,

  validate(revision, old) {
    const errs = validateRevision(revision);
    if (old) errs.push(...immutable('data', revision.data, old.data));
    return errs;
  },

  columns: [
    { name: 'Controller', type: 'string', description: 'Controller of the object', cell: controllerOf },
    { name: 'Revision', type: 'string', description: 'Revision indicates the revision of the state represented by Data.', cell: (r) => r.revision ?? 0 },
    ageColumn,
  ],
};
