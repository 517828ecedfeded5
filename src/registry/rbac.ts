/** rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding and ClusterRoleBinding. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject, jsonEqual } from '../api/object.js';
import type { KindStrategy, Obj, TableColumn } from './strategy.js';
import { ageColumn, createdAtColumn } from './common/printing.js';
import { pathSegmentNameErrors, validateLabelSelector, validateOneOf } from './common/validation.js';
import { listAt, type Fields } from './common/fields.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
const SUBJECT_KINDS = ['ServiceAccount', 'User', 'Group'];

function isEmpty(value: unknown): boolean {
  return !Array.isArray(value) || value.length === 0;
}

function validateRule(rule: Fields, field: string, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (isEmpty(rule?.verbs)) errs.push(fieldErrors.required(`${field}.verbs`, 'verbs must contain at least one value'));
  if (!isEmpty(rule?.nonResourceURLs)) {
    if (namespaced) errs.push(fieldErrors.invalid(`${field}.nonResourceURLs`, rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
    if (!isEmpty(rule.apiGroups) || !isEmpty(rule.resources) || !isEmpty(rule.resourceNames)) {
      errs.push(fieldErrors.invalid(`${field}.nonResourceURLs`, rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (isEmpty(rule?.apiGroups)) errs.push(fieldErrors.required(`${field}.apiGroups`, 'resource rules must supply at least one api group'));
  if (isEmpty(rule?.resources)) errs.push(fieldErrors.required(`${field}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

function validateRules(role: Obj, namespaced: boolean): FieldError[] {
  return listAt(role, 'rules').flatMap((rule, i) => validateRule(rule, `rules[${i}]`, namespaced));
}

function validateAggregation(role: Obj): FieldError[] {
  const rule = role.aggregationRule;
  if (rule === undefined) return [];
  const selectors = listAt(rule, 'clusterRoleSelectors');
  if (selectors.length === 0) return [fieldErrors.required('aggregationRule.clusterRoleSelectors')];
  return selectors.flatMap((selector, i) => validateLabelSelector(selector, `aggregationRule.clusterRoleSelectors[${i}]`));
}

function defaultSubjects(binding: Obj): void {
  if (isPlainObject(binding.roleRef)) binding.roleRef.apiGroup ||= RBAC_GROUP;
  // A ServiceAccount's group is "" (which the typed round trip leaves out); User and Group get RBAC's.
  for (const subject of listAt(binding, 'subjects')) {
    if (isPlainObject(subject) && subject.kind !== 'ServiceAccount' && !subject.apiGroup) subject.apiGroup = RBAC_GROUP;
  }
}

function validateSubject(subject: Fields, field: string, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!subject?.name) errs.push(fieldErrors.required(`${field}.name`));
  switch (subject?.kind) {
    case 'ServiceAccount':
      if (subject.apiGroup) errs.push(fieldErrors.notSupported(`${field}.apiGroup`, subject.apiGroup, ['']));
      if (!namespaced && !subject.namespace) errs.push(fieldErrors.required(`${field}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (subject.apiGroup !== RBAC_GROUP) errs.push(fieldErrors.notSupported(`${field}.apiGroup`, subject.apiGroup, [RBAC_GROUP]));
      break;
    default:
      errs.push(fieldErrors.notSupported(`${field}.kind`, subject?.kind, SUBJECT_KINDS));
  }
  return errs;
}

function validateBinding(binding: Obj, old: Obj | undefined, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const roleRef: Fields = isPlainObject(binding.roleRef) ? binding.roleRef : {};
  if (roleRef.apiGroup !== RBAC_GROUP) errs.push(fieldErrors.notSupported('roleRef.apiGroup', roleRef.apiGroup ?? '', [RBAC_GROUP]));
  errs.push(...validateOneOf(roleRef.kind, 'roleRef.kind', namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'], true));
  if (!roleRef.name) errs.push(fieldErrors.required('roleRef.name'));
  else for (const p of pathSegmentNameErrors(roleRef.name)) errs.push(fieldErrors.invalid('roleRef.name', roleRef.name, p));
  listAt(binding, 'subjects').forEach((subject, i) => errs.push(...validateSubject(subject, `subjects[${i}]`, namespaced)));
  if (old && !jsonEqual(binding.roleRef, old.roleRef)) errs.push(fieldErrors.invalid('roleRef', binding.roleRef, 'cannot change roleRef'));
  return errs;
}

/** Users, groups and "namespace/name" service accounts of a binding (upstream SubjectsStrings). */
function subjectNames(binding: Obj, kind: string): string {
  return listAt(binding, 'subjects')
    .filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name))
    .join(', ');
}

function bindingColumns(what: string): TableColumn[] {
  return [
    { name: 'Role', type: 'string', description: 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.', cell: (b) => `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}` },
    ageColumn,
    { name: 'Users', type: 'string', priority: 1, description: `Users in the ${what}`, cell: (b) => subjectNames(b, 'User') },
    { name: 'Groups', type: 'string', priority: 1, description: `Groups in the ${what}`, cell: (b) => subjectNames(b, 'Group') },
    { name: 'ServiceAccounts', type: 'string', priority: 1, description: `ServiceAccounts in the ${what}`, cell: (b) => subjectNames(b, 'ServiceAccount') },
  ];
}

const rbacKind = { group: RBAC_GROUP, version: 'v1', nameValidation: pathSegmentNameErrors } as const;

export const roles: KindStrategy = {
  ...rbacKind,
  kind: 'Role',
  plural: 'roles',
  singular: 'role',
  namespaced: true,
  validate: (role) => validateRules(role, true),
  columns: [createdAtColumn],
};

export const clusterRoles: KindStrategy = {
  ...rbacKind,
  kind: 'ClusterRole',
  plural: 'clusterroles',
  singular: 'clusterrole',
  namespaced: false,
  validate: (role) => [...validateRules(role, false), ...validateAggregation(role)],
  columns: [createdAtColumn],
};

export const roleBindings: KindStrategy = {
  ...rbacKind,
  kind: 'RoleBinding',
  plural: 'rolebindings',
  singular: 'rolebinding',
  namespaced: true,
  defaults: defaultSubjects,
  validate: (binding, old) => validateBinding(binding, old, true),
  columns: bindingColumns('roleBinding'),
};

export const clusterRoleBindings: KindStrategy = {
  ...rbacKind,
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  namespaced: false,
  defaults: defaultSubjects,
  validate: (binding, old) => validateBinding(binding, old, false),
  columns: bindingColumns('clusterRoleBinding'),
};
