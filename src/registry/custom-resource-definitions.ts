/**
 * apiextensions.k8s.io/v1 CustomResourceDefinition: its own validation (names, versions,
 * structural schemas, CEL rules and their cost), defaults, and deletion through the
 * customresourcecleanup finalizer, which the CRD controller removes once every custom resource
 * of the definition is gone.
 */
import { fieldErrors, type FieldError } from '../api/status.js';
import { nowRfc3339 } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { dns1123LabelErrors } from './common/validation.js';
import { structuralErrors } from '../apiextensions/structural-schema.js';
import { compileRules } from '../apiextensions/validation-rules.js';

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

export function setCondition(object: Obj, condition: { type: string; status: string; reason: string; message: string }): boolean {
  object.status ??= {};
  const conditions: Array<Record<string, unknown>> = object.status.conditions ?? [];
  const existing = conditions.find((c) => c.type === condition.type);
  if (existing && existing.status === condition.status && existing.reason === condition.reason && existing.message === condition.message) return false;
  const next = { ...condition, lastTransitionTime: existing && existing.status === condition.status ? existing.lastTransitionTime : nowRfc3339() };
  object.status.conditions = existing ? conditions.map((c) => (c.type === condition.type ? next : c)) : [...conditions, next];
  return true;
}

const KIND_PATTERN = /^[A-Za-z][A-Za-z0-9]*$/;

function validateNames(names: Obj['spec']['names'], path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!names || typeof names !== 'object') return [fieldErrors.required(path)];
  if (!names.plural) errs.push(fieldErrors.required(`${path}.plural`));
  else for (const message of dns1123LabelErrors(names.plural)) errs.push(fieldErrors.invalid(`${path}.plural`, names.plural, message));
  if (names.singular) for (const message of dns1123LabelErrors(names.singular)) errs.push(fieldErrors.invalid(`${path}.singular`, names.singular, message));
  if (!names.kind) errs.push(fieldErrors.required(`${path}.kind`));
  else if (!KIND_PATTERN.test(names.kind)) errs.push(fieldErrors.invalid(`${path}.kind`, names.kind, 'may have mixed case, but should otherwise match: ^[a-zA-Z][a-zA-Z0-9]*$'));
  if (names.listKind && names.listKind === names.kind) errs.push(fieldErrors.invalid(`${path}.listKind`, names.listKind, 'kind and listKind may not be the same'));
  (names.shortNames ?? []).forEach((shortName: string, i: number) => {
    for (const message of dns1123LabelErrors(shortName)) errs.push(fieldErrors.invalid(`${path}.shortNames[${i}]`, shortName, message));
  });
  return errs;
}

function validateVersions(crd: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const versions: Obj[] = Array.isArray(crd.spec.versions) ? crd.spec.versions : [];
  if (versions.length === 0) return [fieldErrors.invalid('spec.versions', versions, 'must have exactly one version marked as storage version')];
  if (versions.filter((v) => v.storage === true).length !== 1) errs.push(fieldErrors.invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));
  if (!versions.some((v) => v.served === true)) errs.push(fieldErrors.invalid('spec.versions', versions, 'must have at least one version marked as served'));
  const seen = new Set<string>();
  versions.forEach((version, i) => {
    const path = `spec.versions[${i}]`;
    if (!version.name) errs.push(fieldErrors.required(`${path}.name`));
    else {
      for (const message of dns1123LabelErrors(version.name)) errs.push(fieldErrors.invalid(`${path}.name`, version.name, message));
      if (seen.has(version.name)) errs.push(fieldErrors.duplicate(`${path}.name`, version.name));
      seen.add(version.name);
    }
    const schema = version.schema?.openAPIV3Schema;
    const schemaPath = `${path}.schema.openAPIV3Schema`;
    if (!schema) {
      errs.push(fieldErrors.required(schemaPath, 'schemas are required'));
      return;
    }
    const structural = structuralErrors(schema, schemaPath);
    errs.push(...structural);
    if (structural.length === 0) compileRules(schema, schemaPath, errs);
    const scale = version.subresources?.scale;
    if (scale) {
      if (!/^\.spec\./.test(scale.specReplicasPath ?? '')) errs.push(fieldErrors.invalid(`${path}.subresources.scale.specReplicasPath`, scale.specReplicasPath ?? '', 'should be a json path under .spec'));
      if (!/^\.status\./.test(scale.statusReplicasPath ?? '')) errs.push(fieldErrors.invalid(`${path}.subresources.scale.statusReplicasPath`, scale.statusReplicasPath ?? '', 'should be a json path under .status'));
    }
    (version.additionalPrinterColumns ?? []).forEach((column: Obj, c: number) => {
      const columnPath = `${path}.additionalPrinterColumns[${c}]`;
      if (!column.name) errs.push(fieldErrors.required(`${columnPath}.name`));
      if (!['integer', 'number', 'string', 'boolean', 'date'].includes(column.type)) errs.push(fieldErrors.notSupported(`${columnPath}.type`, column.type, ['boolean', 'date', 'integer', 'number', 'string']));
      if (!column.jsonPath) errs.push(fieldErrors.required(`${columnPath}.jsonPath`));
    });
  });
  return errs;
}

export const customResourceDefinitions: KindStrategy = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  namespaced: false,
  statusSubresource: true,
  generation: true,

  defaults(crd) {
    const spec = crd.spec;
    if (!spec || typeof spec !== 'object') return;
    if (spec.names && typeof spec.names === 'object') {
      if (spec.names.kind && !spec.names.listKind) spec.names.listKind = `${spec.names.kind}List`;
      if (spec.names.kind && !spec.names.singular) spec.names.singular = String(spec.names.kind).toLowerCase();
    }
    spec.conversion ??= { strategy: 'None' };
    spec.conversion.strategy ??= 'None';
    for (const version of Array.isArray(spec.versions) ? spec.versions : []) {
      if (version && typeof version === 'object' && version.subresources?.scale && version.subresources.scale.labelSelectorPath === '') delete version.subresources.scale.labelSelectorPath;
    }
  },
  prepareForCreate(crd) {
    crd.status = { conditions: [], acceptedNames: { plural: '', kind: '' }, storedVersions: [] };
  },
  // Not yet marked: deletion must wait for the cleanup of its custom resources.
  blocksDeletion: (crd) => !crd.metadata.deletionTimestamp,
  prepareForDelete(crd) {
    const finalizers = crd.metadata.finalizers ?? [];
    if (!finalizers.includes(CRD_CLEANUP_FINALIZER)) crd.metadata.finalizers = [...finalizers, CRD_CLEANUP_FINALIZER];
    setCondition(crd, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionPending', message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon' });
  },
  validate(crd, old) {
    const errs: FieldError[] = [];
    const spec = crd.spec;
    if (!spec || typeof spec !== 'object') return [fieldErrors.required('spec')];
    if (!spec.group) errs.push(fieldErrors.required('spec.group'));
    else if (!String(spec.group).includes('.')) errs.push(fieldErrors.invalid('spec.group', spec.group, 'should be a domain with at least one dot'));
    errs.push(...validateNames(spec.names, 'spec.names'));
    if (spec.names?.plural && spec.group && crd.metadata.name !== `${spec.names.plural}.${spec.group}`) {
      errs.push(fieldErrors.invalid('metadata.name', crd.metadata.name, 'must be spec.names.plural+"."+spec.group'));
    }
    if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') errs.push(fieldErrors.notSupported('spec.scope', spec.scope ?? '', ['Cluster', 'Namespaced']));
    if (spec.conversion?.strategy !== 'None' && spec.conversion?.strategy !== 'Webhook') errs.push(fieldErrors.notSupported('spec.conversion.strategy', spec.conversion?.strategy, ['None', 'Webhook']));
    if (spec.conversion?.strategy === 'Webhook' && !spec.conversion.webhook?.clientConfig) errs.push(fieldErrors.required('spec.conversion.webhook.clientConfig', 'required when strategy is set to Webhook'));
    errs.push(...validateVersions(crd));
    if (old) {
      if (old.spec?.scope !== spec.scope) errs.push(fieldErrors.invalid('spec.scope', spec.scope, 'field is immutable'));
      if (old.spec?.group !== spec.group) errs.push(fieldErrors.invalid('spec.group', spec.group, 'field is immutable'));
      for (const stored of old.status?.storedVersions ?? []) {
        if (!(spec.versions ?? []).some((v: Obj) => v.name === stored)) {
          errs.push(fieldErrors.invalid('status.storedVersions[0]', stored, 'must appear in spec.versions'));
        }
      }
    }
    return errs;
  },
  columns: [{ name: 'Created At', type: 'date', cell: (crd) => crd.metadata.creationTimestamp }],
};
