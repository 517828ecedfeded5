/**
 * What the workload kinds (ReplicationController, Deployment, ReplicaSet, StatefulSet, DaemonSet,
 * Job) share: a label selector that must pick the pods of their template, and the template itself.
 */
import { fieldErrors, type FieldError } from '../../api/status.js';
import { isPlainObject, jsonEqual } from '../../api/object.js';
import { matchesLabels, selectorFromSpec, type LabelSelectorSpec } from '../../api/selectors.js';
import { validatePodTemplate } from './pod-spec.js';
import { validateLabelSelector, validateNonNegativeInteger } from './validation.js';
import type { Fields } from './fields.js';

export function templateLabels(template: unknown): Record<string, string> {
  const metadata = isPlainObject(template) && isPlainObject(template.metadata) ? template.metadata : {};
  return (isPlainObject(metadata.labels) ? metadata.labels : {}) as Record<string, string>;
}

function isEmptySelector(selector: LabelSelectorSpec): boolean {
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

/**
 * spec.selector (a metav1.LabelSelector) is required, non-empty and must select the template's
 * labels; the template is validated as a pod template whose restartPolicy is one of `restartPolicies`.
 */
export function validateSelectorAndTemplate(spec: Fields, kindForMessages: string, restartPolicies: readonly string[] = ['Always']): FieldError[] {
  const errs: FieldError[] = [];
  const selector = spec.selector;
  if (!isPlainObject(selector)) errs.push(fieldErrors.required('spec.selector'));
  else {
    errs.push(...validateLabelSelector(selector, 'spec.selector'));
    if (isEmptySelector(selector)) errs.push(fieldErrors.invalid('spec.selector', selector, `empty selector is invalid for ${kindForMessages}`));
  }
  errs.push(...validateTemplate(spec.template, 'spec.template', restartPolicies));
  if (isPlainObject(selector) && isPlainObject(spec.template) && !isEmptySelector(selector)) {
    const labels = templateLabels(spec.template);
    if (!matchesLabels(selectorFromSpec(selector as LabelSelectorSpec), labels)) {
      errs.push(fieldErrors.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
    }
  }
  return errs;
}

/** A pod template whose restart policy is limited to what the controller can honour. */
export function validateTemplate(template: unknown, field: string, restartPolicies: readonly string[]): FieldError[] {
  const errs = validatePodTemplate(template, field);
  if (!isPlainObject(template) || !isPlainObject(template.spec)) return errs;
  const policy = template.spec.restartPolicy;
  if (policy !== undefined && !restartPolicies.includes(policy as string)) {
    // validatePodTemplate already rejected values unknown to pods; report the narrower set once.
    const index = errs.findIndex((e) => e.field === `${field}.spec.restartPolicy`);
    if (index >= 0) errs.splice(index, 1);
    errs.push(fieldErrors.notSupported(`${field}.spec.restartPolicy`, policy, restartPolicies));
  }
  return errs;
}

export function validateReplicas(spec: Fields): FieldError[] {
  return validateNonNegativeInteger(spec.replicas, 'spec.replicas');
}

/** apps/v1 selectors never change once created. */
export function selectorImmutable(spec: Fields | undefined, oldSpec: Fields | undefined): FieldError[] {
  if (jsonEqual(spec?.selector, oldSpec?.selector)) return [];
  return [fieldErrors.invalid('spec.selector', spec?.selector, 'field is immutable')];
}

/** ReplicationController's selector is a plain map; it (and the labels) default to the template's labels. */
export function defaultSelectorFromTemplate(object: Fields): void {
  const labels = templateLabels(object.spec?.template);
  if (Object.keys(labels).length === 0) return;
  if (!isPlainObject(object.spec.selector) || Object.keys(object.spec.selector).length === 0) object.spec.selector = { ...labels };
  if (!isPlainObject(object.metadata.labels) || Object.keys(object.metadata.labels).length === 0) object.metadata.labels = { ...labels };
}
