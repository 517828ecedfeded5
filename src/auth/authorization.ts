/**
 * What an authorizer is asked (upstream's authorizer.Attributes) and how it answers. The REST
 * pipeline and the in-process client ask the same authorizer, so in-process components are
 * authorized under their own identities like any other client.
 */
import { errors, type ApiError, type StatusDetails } from '../api/status.js';
import type { UserInfo } from './authenticate.js';

export interface AuthorizationAttributes {
  user: UserInfo;
  /** get, list, watch, create, update, patch, delete, deletecollection, or an HTTP verb for non-resource paths. */
  verb: string;
  isResourceRequest: boolean;
  /** Resource requests. */
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** A list's or watch's selectors as sent (upstream's AuthorizeWithSelectors; the Node authorizer reads them). */
  fieldSelector?: string;
  labelSelector?: string;
  /** Non-resource requests. */
  path?: string;
}

export interface Decision {
  allowed: boolean;
  /** Why, for the Forbidden message and audit (may be empty). */
  reason?: string;
  /** An authorizer that has a view (allow or explicit deny) stops the chain; NoOpinion passes on. */
  noOpinion?: boolean;
}

export interface Authorizer {
  authorize(attributes: AuthorizationAttributes): Decision;
}

/** A rule as SelfSubjectRulesReview reports it. */
export interface ResourceRuleInfo {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
}

export interface NonResourceRuleInfo {
  verbs: string[];
  nonResourceURLs: string[];
}

export interface UserRules {
  resourceRules: ResourceRuleInfo[];
  nonResourceRules: NonResourceRuleInfo[];
  /** True when some authorizer cannot enumerate what it allows. */
  incomplete: boolean;
  errors: string[];
}

/** An authorizer that can also list what it allows (upstream's RuleResolver). */
export interface RuleResolver {
  rulesFor(user: UserInfo, namespace: string): UserRules;
}

/** Every request allowed (tests and tools only; the server always runs the real chain). */
export const allowAll: Authorizer = { authorize: () => ({ allowed: true }) };

export const NO_OPINION: Decision = Object.freeze({ allowed: false, noOpinion: true });

/**
 * Members of these groups may do anything, without asking RBAC (upstream's privileged-group
 * authorizer for system:masters): the short path for the loopback client and the admin.
 */
export function privilegedGroups(...groups: string[]): Authorizer {
  const allowed: Decision = Object.freeze({ allowed: true });
  return {
    authorize(attributes) {
      for (const group of attributes.user.groups) if (groups.includes(group)) return allowed;
      return NO_OPINION;
    },
  };
}

/** Asks each authorizer in turn until one has an opinion (upstream's union authorizer); reasons of the rest are joined. */
export function unionAuthorizer(authorizers: readonly Authorizer[]): Authorizer {
  return {
    authorize(attributes) {
      let reasons: string[] | undefined;
      for (const authorizer of authorizers) {
        const decision = authorizer.authorize(attributes);
        if (!decision.noOpinion) return decision;
        if (decision.reason) (reasons ??= []).push(decision.reason);
      }
      return reasons ? { allowed: false, noOpinion: true, reason: reasons.join('\n') } : NO_OPINION;
    },
  };
}

/** Every resolver's rules together (upstream's union rule resolver). */
export function unionRuleResolver(resolvers: readonly RuleResolver[]): RuleResolver {
  return {
    rulesFor(user, namespace) {
      const all: UserRules = { resourceRules: [], nonResourceRules: [], incomplete: false, errors: [] };
      for (const resolver of resolvers) {
        const rules = resolver.rulesFor(user, namespace);
        all.resourceRules.push(...rules.resourceRules);
        all.nonResourceRules.push(...rules.nonResourceRules);
        all.incomplete ||= rules.incomplete;
        all.errors.push(...rules.errors);
      }
      return all;
    },
  };
}

/** The 403 a denied request gets, worded as upstream's (e.g. `pods "x" is forbidden: User "bob" cannot get resource "pods" in API group "" in the namespace "ns"`). */
export function forbidden(attributes: AuthorizationAttributes, reason = ''): ApiError {
  const user = `User ${JSON.stringify(attributes.user.name)}`;
  const why = reason ? `: ${reason}` : '';
  if (!attributes.isResourceRequest) {
    return errors.forbidden(`forbidden: ${user} cannot ${attributes.verb} path ${JSON.stringify(attributes.path ?? '')}${why}`);
  }
  const group = attributes.group ?? '';
  const resource = attributes.resource ?? '';
  const qualified = group ? `${resource}.${group}` : resource;
  const target = attributes.name ? `${qualified} ${JSON.stringify(attributes.name)}` : qualified;
  const full = attributes.subresource ? `${resource}/${attributes.subresource}` : resource;
  const scope = attributes.namespace ? ` in the namespace ${JSON.stringify(attributes.namespace)}` : ' at the cluster scope';
  const details: StatusDetails = { kind: resource };
  if (attributes.name) details.name = attributes.name;
  if (group) details.group = group;
  return errors.forbidden(`${target} is forbidden: ${user} cannot ${attributes.verb} resource ${JSON.stringify(full)} in API group ${JSON.stringify(group)}${scope}${why}`, details);
}

/** Throws upstream's Forbidden unless `authorizer` allows. */
export function authorizeOrThrow(authorizer: Authorizer, attributes: AuthorizationAttributes): void {
  const decision = authorizer.authorize(attributes);
  if (!decision.allowed) throw forbidden(attributes, decision.reason);
}

/** The pod subresources a WebSocket upgrade (a GET) opens, which upstream also authorizes as `create`. */
const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

/**
 * Upstream's ensureAuthorizedForVerb (AuthorizePodWebsocketUpgradeCreatePermission, on since
 * 1.35): pods/exec, attach and portforward over a WebSocket arrive as `get`, yet run commands in
 * the pod, so the requester must be allowed to `create` them too — as a SPDY POST already is.
 * Upstream's wording: NewForbidden on pods with the authorizer's reason.
 */
export function authorizeConnectCreate(authorizer: Authorizer, attributes: AuthorizationAttributes): void {
  if (!attributes.isResourceRequest || (attributes.group ?? '') !== '' || attributes.resource !== 'pods') return;
  if (!CONNECT_SUBRESOURCES.has(attributes.subresource ?? '') || attributes.verb === 'create') return;
  const decision = authorizer.authorize({ ...attributes, verb: 'create' });
  if (!decision.allowed) throw errors.forbiddenObject({ group: '', resource: 'pods' }, attributes.name ?? '', decision.reason ?? '');
}
