/**
 * Which admission requests a webhook or an admission policy sees: rules (operations, groups,
 * versions, resources with subresources, scope), the namespace and object selectors, and
 * matchPolicy Equivalent (the same group-resource at any served version). Upstream's semantics;
 * shared by the webhook plugins and ValidatingAdmissionPolicy.
 */
import { matchesLabels, selectorFromSpec, type LabelSelectorSpec } from '../api/selectors.js';
import type { Obj } from '../registry/strategy.js';
import type { AdmissionAttributes } from './admission.js';

export interface RuleWithOperations {
  operations?: string[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  resourceNames?: string[];
  scope?: '*' | 'Cluster' | 'Namespaced';
}

export interface MatchCriteria {
  rules?: RuleWithOperations[];
  excludeRules?: RuleWithOperations[];
  namespaceSelector?: LabelSelectorSpec;
  objectSelector?: LabelSelectorSpec;
  matchPolicy?: 'Exact' | 'Equivalent';
}

/** Looks up a namespace's labels (absent namespace: none). */
export type NamespaceLabels = (namespace: string) => Record<string, string> | undefined;

function listMatches(values: readonly string[] | undefined, value: string): boolean {
  return (values ?? []).some((v) => v === '*' || v === value);
}

/** "pods", "pods/status", "*", "*\/status", "pods/*". */
function resourceMatches(patterns: readonly string[] | undefined, resource: string, subresource: string | undefined): boolean {
  return (patterns ?? []).some((pattern) => {
    const [res, sub] = pattern.split('/', 2);
    if (res !== '*' && res !== resource) return false;
    if (sub === undefined) return subresource === undefined || subresource === '';
    return sub === '*' || sub === subresource;
  });
}

export function ruleMatches(rule: RuleWithOperations, attributes: AdmissionAttributes, equivalent: boolean): boolean {
  if (!listMatches(rule.operations, attributes.operation)) return false;
  if (!listMatches(rule.apiGroups, attributes.resource.group)) return false;
  // Equivalent: the rule names the group-resource at another version; the request still matches.
  if (!equivalent && !listMatches(rule.apiVersions, attributes.resource.version)) return false;
  if (!resourceMatches(rule.resources, attributes.resource.resource, attributes.subresource)) return false;
  if (rule.resourceNames?.length && !rule.resourceNames.includes(attributes.name ?? '')) return false;
  const scope = rule.scope ?? '*';
  if (scope === 'Cluster' && attributes.namespace) return false;
  if (scope === 'Namespaced' && !attributes.namespace) return false;
  return true;
}

function selectorMatches(spec: LabelSelectorSpec | undefined, labels: Record<string, string> | undefined): boolean {
  if (!spec || (Object.keys(spec.matchLabels ?? {}).length === 0 && (spec.matchExpressions ?? []).length === 0)) return true;
  return matchesLabels(selectorFromSpec(spec), labels ?? {});
}

/**
 * The namespace selector: for a namespaced object, its namespace's labels; for a Namespace
 * itself, its own; cluster-scoped objects always match.
 */
function namespaceMatches(criteria: MatchCriteria, attributes: AdmissionAttributes, namespaceLabels: NamespaceLabels): boolean {
  const spec = criteria.namespaceSelector;
  if (attributes.resource.group === '' && attributes.resource.resource === 'namespaces') {
    return selectorMatches(spec, (attributes.object ?? attributes.oldObject)?.metadata.labels);
  }
  if (!attributes.namespace) return true;
  return selectorMatches(spec, namespaceLabels(attributes.namespace));
}

/** Either the new or the old object's labels match (upstream's objectSelector). */
function objectMatches(spec: LabelSelectorSpec | undefined, attributes: AdmissionAttributes): boolean {
  const candidates = [attributes.object, attributes.oldObject].filter((o): o is Obj => o !== undefined);
  return candidates.some((object) => selectorMatches(spec, object.metadata.labels));
}

export function matches(criteria: MatchCriteria, attributes: AdmissionAttributes, namespaceLabels: NamespaceLabels): boolean {
  const equivalent = (criteria.matchPolicy ?? 'Equivalent') === 'Equivalent';
  if (!(criteria.rules ?? []).some((rule) => ruleMatches(rule, attributes, false) || (equivalent && ruleMatches(rule, attributes, true)))) return false;
  if ((criteria.excludeRules ?? []).some((rule) => ruleMatches(rule, attributes, equivalent))) return false;
  return namespaceMatches(criteria, attributes, namespaceLabels) && objectMatches(criteria.objectSelector, attributes);
}

/** Admission configuration kinds are never intercepted, so a broken webhook cannot lock itself in. */
export function isAdmissionConfiguration(attributes: AdmissionAttributes): boolean {
  return attributes.resource.group === 'admissionregistration.k8s.io';
}
