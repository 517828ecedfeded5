/**
 * audit.k8s.io/v1 Policy (upstream's --audit-policy-file): rules in order, the first that
 * matches a request decides its level (None, Metadata, Request, RequestResponse) and adds its
 * omitStages to the policy's; a request no rule matches is not logged. A rule matches by users,
 * userGroups, verbs, resources (group + resource or "resource/subresource", "*", "*\/sub",
 * "resource/*", resourceNames), namespaces ("" = cluster-scoped) and nonResourceURLs (exact or
 * a prefix ending in "*"); rules naming resources or namespaces never match non-resource
 * requests and rules naming nonResourceURLs never match resource requests.
 */
import { parse as parseYaml } from 'yaml';
import type { UserInfo } from '../auth/authenticate.js';
import type { RequestInfo } from '../server/request-info.js';

export const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type Level = (typeof LEVELS)[number];
export const STAGES = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
export type Stage = (typeof STAGES)[number];

interface GroupResources {
  group?: string;
  resources?: string[];
  resourceNames?: string[];
}

interface PolicyRule {
  level: Level;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: GroupResources[];
  namespaces?: string[];
  nonResourceURLs?: string[];
  omitStages?: Stage[];
  omitManagedFields?: boolean;
}

export interface AuditDecision {
  level: Level;
  omitStages: ReadonlySet<Stage>;
  omitManagedFields: boolean;
}

const NOT_LOGGED: AuditDecision = { level: 'None', omitStages: new Set(), omitManagedFields: false };

export class AuditPolicy {
  private constructor(
    private readonly rules: readonly PolicyRule[],
    private readonly omitStages: readonly Stage[],
    private readonly omitManagedFields: boolean,
  ) {}

  /** Parses and checks a policy document (YAML or JSON); throws with what is wrong. */
  static parse(text: string): AuditPolicy {
    const document = parseYaml(text) as Record<string, unknown> | null;
    if (!document || typeof document !== 'object') throw new Error('audit policy: the file holds no Policy object');
    if (document.kind !== 'Policy') throw new Error(`audit policy: kind must be Policy, got ${JSON.stringify(document.kind)}`);
    if (document.apiVersion !== 'audit.k8s.io/v1') throw new Error(`audit policy: apiVersion must be audit.k8s.io/v1, got ${JSON.stringify(document.apiVersion)}`);
    const rules = (document.rules ?? []) as PolicyRule[];
    if (!Array.isArray(rules) || rules.length === 0) throw new Error('audit policy: rules: Required value: at least one rule must be specified');
    rules.forEach((rule, i) => {
      if (!LEVELS.includes(rule?.level)) throw new Error(`audit policy: rules[${i}].level: Unsupported value: ${JSON.stringify(rule?.level)}: supported values: ${LEVELS.map((l) => `"${l}"`).join(', ')}`);
      for (const stage of rule.omitStages ?? []) checkStage(stage, `rules[${i}].omitStages`);
      if (rule.nonResourceURLs?.length && (rule.resources?.length || rule.namespaces?.length)) {
        throw new Error(`audit policy: rules[${i}].nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs`);
      }
    });
    const omitStages = (document.omitStages ?? []) as Stage[];
    for (const stage of omitStages) checkStage(stage, 'omitStages');
    return new AuditPolicy(rules, omitStages, document.omitManagedFields === true);
  }

  decide(user: UserInfo, info: RequestInfo): AuditDecision {
    for (const rule of this.rules) {
      if (!ruleMatches(rule, user, info)) continue;
      if (rule.level === 'None') return NOT_LOGGED;
      return {
        level: rule.level,
        omitStages: new Set([...this.omitStages, ...(rule.omitStages ?? [])]),
        omitManagedFields: rule.omitManagedFields ?? this.omitManagedFields,
      };
    }
    return NOT_LOGGED;
  }
}

function checkStage(stage: unknown, field: string): void {
  if (!STAGES.includes(stage as Stage)) throw new Error(`audit policy: ${field}: Unsupported value: ${JSON.stringify(stage)}: supported values: ${STAGES.map((s) => `"${s}"`).join(', ')}`);
}

function ruleMatches(rule: PolicyRule, user: UserInfo, info: RequestInfo): boolean {
  if (rule.users?.length && !rule.users.includes(user.name)) return false;
  if (rule.userGroups?.length && !rule.userGroups.some((group) => user.groups.includes(group))) return false;
  if (rule.verbs?.length && !rule.verbs.includes(info.verb)) return false;
  if (rule.resources?.length || rule.namespaces?.length) return info.isResourceRequest && matchesResource(rule, info);
  if (rule.nonResourceURLs?.length) return !info.isResourceRequest && matchesNonResource(rule.nonResourceURLs, info.path);
  return true;
}

function matchesResource(rule: PolicyRule, info: RequestInfo): boolean {
  if (rule.namespaces?.length && !rule.namespaces.includes(info.namespace ?? '')) return false;
  if (!rule.resources?.length) return true;
  const resource = info.resource ?? '';
  const combined = info.subresource ? `${resource}/${info.subresource}` : resource;
  return rule.resources.some((groupResources) => {
    if ((groupResources.group ?? '') !== info.group) return false;
    const names = groupResources.resourceNames ?? [];
    if (names.length > 0 && !names.includes(info.name ?? '')) return false;
    const resources = groupResources.resources ?? [];
    if (resources.length === 0) return true;
    return resources.some((pattern) => {
      if (pattern === '*' || pattern === combined) return true;
      if (pattern.startsWith('*/')) return info.subresource !== undefined && pattern.slice(2) === info.subresource;
      if (pattern.endsWith('/*')) return pattern.slice(0, -2) === resource;
      return false;
    });
  });
}

function matchesNonResource(urls: readonly string[], path: string): boolean {
  return urls.some((url) => url === '*' || url === path || (url.endsWith('*') && path.startsWith(url.slice(0, -1))));
}
