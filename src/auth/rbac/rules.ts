/**
 * RBAC policy rules: whether a rule allows a request (upstream's RuleAllows), whether one set
 * of rules covers another (the escalation check's Covers), and the compact form escalation
 * errors print.
 */
import type { AuthorizationAttributes } from '../authorization.js';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

const ALL = '*';

/** A rule as sets, built once per stored role version (roles are read far more than written). */
export interface CompiledRule {
  verbs: ReadonlySet<string>;
  groups: ReadonlySet<string>;
  resources: ReadonlySet<string>;
  names: ReadonlySet<string>;
  urls: readonly string[];
  allVerbs: boolean;
  allGroups: boolean;
  allResources: boolean;
}

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A stored rule (any JSON) in the typed shape; absent or malformed lists are empty. */
export function normalizeRule(rule: unknown): PolicyRule {
  const r = (rule ?? {}) as Record<string, unknown>;
  const out: PolicyRule = { verbs: list(r.verbs) };
  if (r.apiGroups !== undefined) out.apiGroups = list(r.apiGroups);
  if (r.resources !== undefined) out.resources = list(r.resources);
  if (r.resourceNames !== undefined) out.resourceNames = list(r.resourceNames);
  if (r.nonResourceURLs !== undefined) out.nonResourceURLs = list(r.nonResourceURLs);
  return out;
}

export function compileRule(rule: PolicyRule): CompiledRule {
  const verbs = new Set(rule.verbs);
  const groups = new Set(rule.apiGroups ?? []);
  const resources = new Set(rule.resources ?? []);
  return {
    verbs,
    groups,
    resources,
    names: new Set(rule.resourceNames ?? []),
    urls: rule.nonResourceURLs ?? [],
    allVerbs: verbs.has(ALL),
    allGroups: groups.has(ALL),
    allResources: resources.has(ALL),
  };
}

const compiledByRole = new WeakMap<object, CompiledRule[]>();

/** The compiled rules of a stored Role or ClusterRole (cached per object version; they are immutable). */
export function compiledRulesOf(role: object & { rules?: unknown }): CompiledRule[] {
  let compiled = compiledByRole.get(role);
  if (!compiled) {
    compiled = (Array.isArray(role.rules) ? role.rules : []).map((rule) => compileRule(normalizeRule(rule)));
    compiledByRole.set(role, compiled);
  }
  return compiled;
}

/** Whether one rule allows the request (upstream's RuleAllows). */
export function ruleAllows(attributes: AuthorizationAttributes, rule: CompiledRule): boolean {
  if (!rule.allVerbs && !rule.verbs.has(attributes.verb)) return false;
  if (!attributes.isResourceRequest) return urlMatches(rule.urls, attributes.path ?? '');
  if (!rule.allGroups && !rule.groups.has(attributes.group ?? '')) return false;
  const subresource = attributes.subresource;
  const resource = subresource ? `${attributes.resource}/${subresource}` : (attributes.resource ?? '');
  if (!rule.allResources && !rule.resources.has(resource) && !(subresource && rule.resources.has(`*/${subresource}`))) return false;
  return rule.names.size === 0 || rule.names.has(attributes.name ?? '');
}

function urlMatches(urls: readonly string[], path: string): boolean {
  for (const url of urls) {
    if (url === ALL || url === path) return true;
    if (url.endsWith(ALL) && path.startsWith(url.replace(/\*+$/, ''))) return true;
  }
  return false;
}

export function rulesAllow(attributes: AuthorizationAttributes, rules: readonly CompiledRule[]): boolean {
  for (const rule of rules) if (ruleAllows(attributes, rule)) return true;
  return false;
}

// --- escalation: does an owner's set of rules cover what is being granted? ---

/** One verb on one group/resource (and name), or one verb on one URL (upstream's BreakdownRule). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const sub: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        if ((rule.resourceNames ?? []).length > 0) for (const name of rule.resourceNames!) sub.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
        else sub.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs) sub.push({ nonResourceURLs: [url], verbs: [verb] });
  return sub;
}

const hasAll = (set: readonly string[] | undefined, wanted: readonly string[] | undefined) => (wanted ?? []).every((w) => (set ?? []).includes(w));

function resourcesCover(owned: readonly string[] = [], wanted: readonly string[] = []): boolean {
  if (owned.includes(ALL) || hasAll(owned, wanted)) return true;
  for (const path of wanted) {
    if (owned.includes(path)) continue;
    const slash = path.indexOf('/');
    if (slash < 0 || !owned.includes(`*/${path.slice(slash + 1)}`)) return false;
  }
  return true;
}

function urlsCover(owned: readonly string[] = [], wanted: readonly string[] = []): boolean {
  return wanted.every((path) => owned.some((own) => own === path || (own.endsWith(ALL) && path.startsWith(own.replace(/\*+$/, '')))));
}

function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = owner.verbs.includes(ALL) || hasAll(owner.verbs, sub.verbs);
  const groups = (owner.apiGroups ?? []).includes(ALL) || hasAll(owner.apiGroups, sub.apiGroups);
  const ownerNames = owner.resourceNames ?? [];
  const names = (sub.resourceNames ?? []).length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, sub.resourceNames);
  return verbs && groups && resourcesCover(owner.resources, sub.resources) && names && urlsCover(owner.nonResourceURLs, sub.nonResourceURLs);
}

/** Whether `owner` holds every permission in `servant`; if not, the missing ones (broken down). */
export function covers(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing = servant.flatMap(breakdownRule).filter((sub) => !owner.some((rule) => ruleCovers(rule, sub)));
  return { covered: missing.length === 0, missing };
}

/** Merges rules on one group/resource (and at most one name) that differ only by verb (upstream's CompactRules). */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const compacted: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const names = rule.resourceNames ?? [];
    const isSimple = names.length <= 1 && (rule.nonResourceURLs ?? []).length === 0 && (rule.apiGroups ?? []).length === 1 && (rule.resources ?? []).length === 1;
    if (!isSimple) {
      compacted.push(rule);
      continue;
    }
    const key = JSON.stringify([rule.apiGroups![0], rule.resources![0], names.length === 1, names[0] ?? '']);
    const existing = simple.get(key);
    if (existing) existing.verbs.push(...rule.verbs);
    else simple.set(key, { ...structuredClone(rule), verbs: [...rule.verbs] });
  }
  return [...compacted, ...simple.values()];
}

/** Go's %q of a string list: ["a" "b"]. */
export function goQuotedList(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;
}

/** The rule as escalation errors print it (upstream's CompactString). */
export function compactString(rule: PolicyRule): string {
  const parts: string[] = [];
  if ((rule.apiGroups ?? []).length > 0) parts.push(`APIGroups:${goQuotedList(rule.apiGroups!)}`);
  if ((rule.resources ?? []).length > 0) parts.push(`Resources:${goQuotedList(rule.resources!)}`);
  if ((rule.nonResourceURLs ?? []).length > 0) parts.push(`NonResourceURLs:${goQuotedList(rule.nonResourceURLs!)}`);
  if ((rule.resourceNames ?? []).length > 0) parts.push(`ResourceNames:${goQuotedList(rule.resourceNames!)}`);
  if (rule.verbs.length > 0) parts.push(`Verbs:${goQuotedList(rule.verbs)}`);
  return `{${parts.join(', ')}}`;
}
