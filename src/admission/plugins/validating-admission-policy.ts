/**
 * ValidatingAdmissionPolicy: each binding applies its policy (matchConstraints, then the
 * binding's matchResources) with the binding's params, evaluates matchConditions, variables,
 * validations and auditAnnotations in CEL, and acts on failures as validationActions say —
 * Deny refuses, Warn warns the client, Audit records an audit annotation.
 */
import { ApiError } from '../../api/status.js';
import type { Registry } from '../../registry/registry.js';
import type { Obj } from '../../registry/strategy.js';
import { matchesLabels, selectorFromSpec } from '../../api/selectors.js';
import { compile, fromCel, CelEvaluationError, type CompiledExpression } from '../../cel/program.js';
import type { AdmissionAttributes, AdmissionPlugin } from '../admission.js';
import { isAdmissionConfiguration, matches, type MatchCriteria } from '../matching.js';
import { celActivation } from '../cel-activation.js';
import { namespaceLabelsFrom, type RegistryRef } from '../webhook-dispatch.js';

const VARIABLES = ['object', 'oldObject', 'request', 'params', 'namespaceObject', 'authorizer', 'variables'];
const programs = new Map<string, CompiledExpression>();

function program(expression: string): CompiledExpression {
  let compiled = programs.get(expression);
  if (!compiled) {
    compiled = compile(expression, VARIABLES);
    if (programs.size > 1000) programs.clear();
    programs.set(expression, compiled);
  }
  return compiled;
}

const REASON_CODES: Record<string, number> = { Unauthorized: 401, Forbidden: 403, Invalid: 422, RequestEntityTooLarge: 413 };

function criteria(spec: Obj | undefined): MatchCriteria | undefined {
  if (!spec) return undefined;
  return { rules: spec.resourceRules, excludeRules: spec.excludeResourceRules, namespaceSelector: spec.namespaceSelector, objectSelector: spec.objectSelector, matchPolicy: spec.matchPolicy };
}

/** The params objects a binding refers to (none needed: [undefined]). */
function paramsFor(registry: Registry, policy: Obj, binding: Obj, attributes: AdmissionAttributes): Array<Obj | undefined> | 'missing' {
  const paramKind = policy.spec.paramKind;
  const ref = binding.spec.paramRef;
  if (!paramKind || !ref) return [undefined];
  const generic = registry.kind(paramKind.apiVersion, paramKind.kind);
  if (!generic) return 'missing';
  const namespace = generic.strategy.namespaced ? (ref.namespace ?? attributes.namespace) : undefined;
  if (ref.name) {
    const found = generic.tryGet(namespace, ref.name)?.object as Obj | undefined;
    return found ? [found] : 'missing';
  }
  const selector = selectorFromSpec(ref.selector);
  const found = generic.list(namespace, {}).items.map((item) => item.object as Obj).filter((o) => matchesLabels(selector, o.metadata.labels ?? {}));
  return found.length > 0 ? found : 'missing';
}

interface Violation {
  message: string;
  reason: string;
}

function evaluatePolicy(policy: Obj, attributes: AdmissionAttributes, params: Obj | undefined, namespaceObject: Obj | undefined): Violation[] {
  const activation = celActivation(attributes, '', { params, namespaceObject });
  const failure = (expression: string, error: unknown): Violation => ({ message: `expression '${expression}' resulted in error: ${error instanceof CelEvaluationError ? error.message : String(error)}`, reason: 'Invalid' });
  for (const condition of policy.spec.matchConditions ?? []) {
    try {
      if (program(condition.expression).evaluate(activation).value !== true) return [];
    } catch (error) {
      return [failure(condition.expression, error)];
    }
  }
  const variables = new Map<string, unknown>();
  activation.variables = variables;
  for (const variable of policy.spec.variables ?? []) {
    try {
      variables.set(variable.name, program(variable.expression).evaluate(activation).value);
    } catch (error) {
      return [failure(variable.expression, error)];
    }
  }
  const violations: Violation[] = [];
  for (const validation of policy.spec.validations ?? []) {
    let result: unknown;
    try {
      result = program(validation.expression).evaluate(activation).value;
    } catch (error) {
      violations.push(failure(validation.expression, error));
      continue;
    }
    if (result === true) continue;
    let message = validation.message ?? `failed expression: ${validation.expression}`;
    if (validation.messageExpression) {
      try {
        const text = fromCel(program(validation.messageExpression).evaluate(activation).value as never);
        if (typeof text === 'string' && text.trim() !== '') message = text;
      } catch {
        // Falls back to message, as upstream.
      }
    }
    violations.push({ message, reason: validation.reason ?? 'Invalid' });
  }
  for (const annotation of policy.spec.auditAnnotations ?? []) {
    try {
      const value = fromCel(program(annotation.valueExpression).evaluate(activation).value as never);
      if (typeof value === 'string' && attributes.auditAnnotations) attributes.auditAnnotations[`${policy.metadata.name}/${annotation.key}`] = value;
    } catch {
      // An annotation that cannot be computed is left out.
    }
  }
  return violations;
}

export function validatingAdmissionPolicy(registryRef: RegistryRef): AdmissionPlugin {
  return {
    name: 'ValidatingAdmissionPolicy',
    validate(attributes) {
      if (isAdmissionConfiguration(attributes)) return;
      const registry = registryRef();
      const bindings = registry.of('admissionregistration.k8s.io', 'validatingadmissionpolicybindings').list(undefined, {}).items.map((i) => i.object as Obj);
      if (bindings.length === 0) return;
      const policies = registry.of('admissionregistration.k8s.io', 'validatingadmissionpolicies');
      const namespaceLabels = namespaceLabelsFrom(registry);
      for (const binding of bindings) {
        const policy = policies.tryGet(undefined, binding.spec?.policyName)?.object as Obj | undefined;
        if (!policy) continue;
        if (!matches(criteria(policy.spec.matchConstraints)!, attributes, namespaceLabels)) continue;
        const bindingCriteria = criteria(binding.spec.matchResources);
        if (bindingCriteria?.rules?.length && !matches(bindingCriteria, attributes, namespaceLabels)) continue;
        const prefix = `ValidatingAdmissionPolicy '${policy.metadata.name}' with binding '${binding.metadata.name}' denied request`;
        const actions: string[] = binding.spec.validationActions ?? [];
        const params = paramsFor(registry, policy, binding, attributes);
        let violations: Violation[];
        if (params === 'missing') {
          if (binding.spec.paramRef?.parameterNotFoundAction === 'Allow') continue;
          violations = [{ message: `failed to configure binding: no params found for policy binding with \`Deny\` parameterNotFoundAction`, reason: 'Invalid' }];
        } else {
          const namespaceObject = attributes.namespace ? (registry.of('', 'namespaces').tryGet(undefined, attributes.namespace)?.object as Obj | undefined) : undefined;
          violations = params.flatMap((p) => evaluatePolicy(policy, attributes, p, namespaceObject));
        }
        const errorsOnly = violations.filter((v) => v.message.startsWith('expression '));
        if (errorsOnly.length > 0 && errorsOnly.length === violations.length && policy.spec.failurePolicy === 'Ignore') continue;
        for (const violation of violations) {
          if (actions.includes('Warn')) attributes.warnings?.push(`Validation failed for ValidatingAdmissionPolicy '${policy.metadata.name}' with binding '${binding.metadata.name}': ${violation.message}`);
          if (actions.includes('Audit') && attributes.auditAnnotations) {
            attributes.auditAnnotations['validation.policy.admission.k8s.io/validation_failure'] = JSON.stringify([{ message: violation.message, policy: policy.metadata.name, binding: binding.metadata.name, expressionIndex: 0, validationActions: actions }]);
          }
        }
        if (actions.includes('Deny') && violations.length > 0) {
          const first = violations[0];
          throw new ApiError(REASON_CODES[first.reason] ?? 422, first.reason, `${prefix}: ${first.message}`);
        }
      }
    },
  };
}
