/**
 * admissionregistration.k8s.io/v1: MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
 * ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding — defaults and validation as
 * upstream's; the admission plugins (src/admission/) act on them.
 */
import { fieldErrors, type FieldError } from '../api/status.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { qualifiedNameErrors, validateLabelSelector, validateOneOf } from './common/validation.js';
import { CelCompileError, compile } from '../cel/program.js';

const OPERATIONS = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];
const SCOPES = ['*', 'Cluster', 'Namespaced'];
export const WEBHOOK_VARIABLES = ['object', 'oldObject', 'request', 'authorizer', 'params', 'namespaceObject', 'variables'];

function defaultRules(rules: Obj[] | undefined): void {
  for (const rule of rules ?? []) if (rule && typeof rule === 'object') rule.scope ??= '*';
}

function defaultWebhook(webhook: Obj, mutating: boolean): void {
  webhook.failurePolicy ??= 'Fail';
  webhook.matchPolicy ??= 'Equivalent';
  webhook.namespaceSelector ??= {};
  webhook.objectSelector ??= {};
  webhook.timeoutSeconds ??= 10;
  if (mutating) webhook.reinvocationPolicy ??= 'Never';
  if (webhook.clientConfig?.service) webhook.clientConfig.service.port ??= 443;
  defaultRules(webhook.rules);
}

function validateRules(rules: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(rules)) return errs;
  rules.forEach((rule: Obj, i) => {
    const at = `${path}[${i}]`;
    for (const [field, list] of [['apiGroups', rule.apiGroups], ['apiVersions', rule.apiVersions], ['resources', rule.resources]] as const) {
      if (!Array.isArray(list) || list.length === 0) errs.push(fieldErrors.required(`${at}.${field}`));
    }
    if (!Array.isArray(rule.operations) || rule.operations.length === 0) errs.push(fieldErrors.required(`${at}.operations`));
    else rule.operations.forEach((op: string, j: number) => errs.push(...validateOneOf(op, `${at}.operations[${j}]`, OPERATIONS)));
    errs.push(...validateOneOf(rule.scope, `${at}.scope`, SCOPES));
  });
  return errs;
}

function validateMatchConditions(conditions: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(conditions)) return errs;
  const names = new Set<string>();
  conditions.forEach((condition: Obj, i) => {
    const at = `${path}[${i}]`;
    if (!condition.name) errs.push(fieldErrors.required(`${at}.name`));
    else {
      for (const message of qualifiedNameErrors(condition.name)) errs.push(fieldErrors.invalid(`${at}.name`, condition.name, message));
      if (names.has(condition.name)) errs.push(fieldErrors.duplicate(`${at}.name`, condition.name));
      names.add(condition.name);
    }
    errs.push(...validateExpression(condition.expression, `${at}.expression`));
  });
  return errs;
}

export function validateExpression(expression: unknown, path: string, variables = WEBHOOK_VARIABLES): FieldError[] {
  if (typeof expression !== 'string' || expression === '') return [fieldErrors.required(path)];
  try {
    compile(expression, variables);
    return [];
  } catch (error) {
    if (error instanceof CelCompileError) return [fieldErrors.invalid(path, expression, `compilation failed: ${error.message}`)];
    throw error;
  }
}

function validateClientConfig(config: Obj | undefined, path: string): FieldError[] {
  if (!config || typeof config !== 'object') return [fieldErrors.required(path)];
  const errs: FieldError[] = [];
  if (config.url === undefined && config.service === undefined) errs.push(fieldErrors.required(path, 'exactly one of url or service is required'));
  if (config.url !== undefined && config.service !== undefined) errs.push(fieldErrors.required(path, 'exactly one of url or service is required'));
  if (typeof config.url === 'string') {
    try {
      const url = new URL(config.url);
      if (url.protocol !== 'https:') errs.push(fieldErrors.invalid(`${path}.url`, config.url, "'https' is the only allowed URL scheme"));
    } catch {
      errs.push(fieldErrors.invalid(`${path}.url`, config.url, 'host must be specified'));
    }
  }
  if (config.service) {
    if (!config.service.name) errs.push(fieldErrors.required(`${path}.service.name`, 'service name is required'));
    if (!config.service.namespace) errs.push(fieldErrors.required(`${path}.service.namespace`, 'service namespace is required'));
  }
  return errs;
}

function validateWebhooks(configuration: Obj, mutating: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (configuration.webhooks ?? []).forEach((webhook: Obj, i: number) => {
    const at = `webhooks[${i}]`;
    if (!webhook.name) errs.push(fieldErrors.required(`${at}.name`));
    else {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(webhook.name)) {
        errs.push(fieldErrors.invalid(`${at}.name`, webhook.name, 'should be a domain with at least three segments separated by dots'));
      }
      if (names.has(webhook.name)) errs.push(fieldErrors.duplicate(`${at}.name`, webhook.name));
      names.add(webhook.name);
    }
    errs.push(...validateRules(webhook.rules, `${at}.rules`));
    errs.push(...validateOneOf(webhook.failurePolicy, `${at}.failurePolicy`, ['Fail', 'Ignore']));
    errs.push(...validateOneOf(webhook.matchPolicy, `${at}.matchPolicy`, ['Equivalent', 'Exact']));
    if (!webhook.sideEffects) errs.push(fieldErrors.required(`${at}.sideEffects`, 'must specify one of None, NoneOnDryRun'));
    else errs.push(...validateOneOf(webhook.sideEffects, `${at}.sideEffects`, ['None', 'NoneOnDryRun']));
    if (!Array.isArray(webhook.admissionReviewVersions) || webhook.admissionReviewVersions.length === 0) {
      errs.push(fieldErrors.required(`${at}.admissionReviewVersions`, 'must specify one of v1, v1beta1'));
    } else if (!webhook.admissionReviewVersions.some((v: string) => v === 'v1' || v === 'v1beta1')) {
      errs.push(fieldErrors.invalid(`${at}.admissionReviewVersions`, webhook.admissionReviewVersions, 'must include at least one of v1, v1beta1'));
    }
    if (typeof webhook.timeoutSeconds === 'number' && (webhook.timeoutSeconds < 1 || webhook.timeoutSeconds > 30)) {
      errs.push(fieldErrors.invalid(`${at}.timeoutSeconds`, webhook.timeoutSeconds, 'the timeout value must be between 1 and 30 seconds'));
    }
    if (mutating) errs.push(...validateOneOf(webhook.reinvocationPolicy, `${at}.reinvocationPolicy`, ['IfNeeded', 'Never']));
    errs.push(...validateLabelSelector(webhook.namespaceSelector, `${at}.namespaceSelector`));
    errs.push(...validateLabelSelector(webhook.objectSelector, `${at}.objectSelector`));
    errs.push(...validateMatchConditions(webhook.matchConditions, `${at}.matchConditions`));
    errs.push(...validateClientConfig(webhook.clientConfig, `${at}.clientConfig`));
  });
  return errs;
}

const webhooksColumn = { name: 'Webhooks', type: 'integer' as const, cell: (o: Obj) => (o.webhooks ?? []).length };

function webhookConfiguration(kind: string, plural: string, singular: string, mutating: boolean): KindStrategy {
  return {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    kind,
    plural,
    singular,
    categories: ['api-extensions'],
    namespaced: false,
    defaults(configuration) {
      for (const webhook of configuration.webhooks ?? []) if (webhook && typeof webhook === 'object') defaultWebhook(webhook, mutating);
    },
    validate: (configuration) => validateWebhooks(configuration, mutating),
    columns: [webhooksColumn, ageColumn],
  };
}

export const mutatingWebhookConfigurations = webhookConfiguration('MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', 'mutatingwebhookconfiguration', true);
export const validatingWebhookConfigurations = webhookConfiguration('ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', 'validatingwebhookconfiguration', false);

function validatePolicy(policy: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const spec = policy.spec;
  if (!spec || typeof spec !== 'object') return [fieldErrors.required('spec')];
  const variables = ['object', 'oldObject', 'request', 'params', 'namespaceObject', 'authorizer', 'variables'];
  if (!spec.validations?.length && !spec.auditAnnotations?.length) errs.push(fieldErrors.required('spec.validations', 'validations or auditAnnotations must contain at least one item'));
  (spec.variables ?? []).forEach((variable: Obj, i: number) => errs.push(...validateExpression(variable.expression, `spec.variables[${i}].expression`, variables)));
  (spec.validations ?? []).forEach((validation: Obj, i: number) => {
    errs.push(...validateExpression(validation.expression, `spec.validations[${i}].expression`, variables));
    if (validation.messageExpression) errs.push(...validateExpression(validation.messageExpression, `spec.validations[${i}].messageExpression`, variables));
  });
  (spec.auditAnnotations ?? []).forEach((annotation: Obj, i: number) => errs.push(...validateExpression(annotation.valueExpression, `spec.auditAnnotations[${i}].valueExpression`, variables)));
  errs.push(...validateMatchConditions(spec.matchConditions, 'spec.matchConditions'));
  errs.push(...validateOneOf(spec.failurePolicy, 'spec.failurePolicy', ['Fail', 'Ignore']));
  if (spec.matchConstraints?.resourceRules) errs.push(...validateRules(spec.matchConstraints.resourceRules, 'spec.matchConstraints.resourceRules'));
  else errs.push(fieldErrors.required('spec.matchConstraints.resourceRules'));
  return errs;
}

export const validatingAdmissionPolicies: KindStrategy = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'ValidatingAdmissionPolicy',
  plural: 'validatingadmissionpolicies',
  singular: 'validatingadmissionpolicy',
  categories: ['api-extensions'],
  namespaced: false,
  statusSubresource: true,
  generation: true,
  defaults(policy) {
    if (!policy.spec || typeof policy.spec !== 'object') return;
    policy.spec.failurePolicy ??= 'Fail';
    const constraints = policy.spec.matchConstraints;
    if (constraints && typeof constraints === 'object') {
      constraints.matchPolicy ??= 'Equivalent';
      constraints.namespaceSelector ??= {};
      constraints.objectSelector ??= {};
      defaultRules(constraints.resourceRules);
    }
  },
  validate: validatePolicy,
  columns: [
    { name: 'Validations', type: 'integer', cell: (o) => (o.spec?.validations ?? []).length },
    { name: 'ParamKind', type: 'string', cell: (o) => (o.spec?.paramKind ? `${o.spec.paramKind.apiVersion}/${o.spec.paramKind.kind}` : '<unset>') },
    ageColumn,
  ],
};

export const validatingAdmissionPolicyBindings: KindStrategy = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'ValidatingAdmissionPolicyBinding',
  plural: 'validatingadmissionpolicybindings',
  singular: 'validatingadmissionpolicybinding',
  categories: ['api-extensions'],
  namespaced: false,
  generation: true,
  defaults(binding) {
    const constraints = binding.spec?.matchResources;
    if (constraints && typeof constraints === 'object') {
      constraints.matchPolicy ??= 'Equivalent';
      constraints.namespaceSelector ??= {};
      constraints.objectSelector ??= {};
      defaultRules(constraints.resourceRules);
    }
    if (binding.spec?.paramRef && typeof binding.spec.paramRef === 'object') binding.spec.paramRef.parameterNotFoundAction ??= 'Deny';
  },
  validate(binding) {
    const errs: FieldError[] = [];
    if (!binding.spec?.policyName) errs.push(fieldErrors.required('spec.policyName'));
    const actions = binding.spec?.validationActions;
    if (!Array.isArray(actions) || actions.length === 0) errs.push(fieldErrors.required('spec.validationActions'));
    else {
      actions.forEach((action: string, i: number) => errs.push(...validateOneOf(action, `spec.validationActions[${i}]`, ['Audit', 'Deny', 'Warn'])));
      if (actions.includes('Deny') && actions.includes('Warn')) errs.push(fieldErrors.invalid('spec.validationActions', actions, 'must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)'));
    }
    return errs;
  },
  columns: [
    { name: 'PolicyName', type: 'string', cell: (o) => o.spec?.policyName },
    { name: 'ParamRef', type: 'string', cell: (o) => (o.spec?.paramRef ? [o.spec.paramRef.namespace, o.spec.paramRef.name ?? '*'].filter(Boolean).join('/') : '<unset>') },
    ageColumn,
  ],
};
