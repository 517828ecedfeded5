/**
 * The review APIs, which are asked rather than stored: TokenReview and SelfSubjectReview
 * (authentication.k8s.io/v1); SubjectAccessReview, SelfSubjectAccessReview,
 * LocalSubjectAccessReview and SelfSubjectRulesReview (authorization.k8s.io/v1). Each takes the
 * posted object and answers it with its status filled in, as upstream's REST storage does.
 */
import { errors, fieldErrors, type FieldError } from '../api/status.js';
import type { Obj } from '../registry/strategy.js';
import { AuthenticationError, type RequestAuthenticator, type UserInfo } from './authenticate.js';
import type { AuthorizationAttributes, Authorizer, RuleResolver } from './authorization.js';

export const AUTHENTICATION_GROUP = 'authentication.k8s.io';
export const AUTHORIZATION_GROUP = 'authorization.k8s.io';

export interface ReviewContext {
  authenticator: RequestAuthenticator;
  authorizer: Authorizer;
  rules: RuleResolver;
}

/** The review kinds by plural, as discovery lists them. */
export const REVIEW_KINDS = [
  { group: AUTHENTICATION_GROUP, plural: 'selfsubjectreviews', kind: 'SelfSubjectReview', namespaced: false },
  { group: AUTHENTICATION_GROUP, plural: 'tokenreviews', kind: 'TokenReview', namespaced: false },
  { group: AUTHORIZATION_GROUP, plural: 'localsubjectaccessreviews', kind: 'LocalSubjectAccessReview', namespaced: true },
  { group: AUTHORIZATION_GROUP, plural: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview', namespaced: false },
  { group: AUTHORIZATION_GROUP, plural: 'selfsubjectrulesreviews', kind: 'SelfSubjectRulesReview', namespaced: false },
  { group: AUTHORIZATION_GROUP, plural: 'subjectaccessreviews', kind: 'SubjectAccessReview', namespaced: false },
] as const;

export type ReviewKind = (typeof REVIEW_KINDS)[number];

export function reviewKind(group: string, plural: string | undefined): ReviewKind | undefined {
  return REVIEW_KINDS.find((k) => k.group === group && k.plural === plural);
}

function userInfoJson(user: UserInfo): Record<string, unknown> {
  const info: Record<string, unknown> = { username: user.name, groups: user.groups };
  if (user.uid) info.uid = user.uid;
  if (user.extra) info.extra = user.extra;
  return info;
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function answer(kind: ReviewKind, body: Obj, namespace: string | undefined, spec: unknown, status: Record<string, unknown>): Obj {
  const metadata: Record<string, unknown> = { ...(isObject(body.metadata) ? body.metadata : {}) };
  metadata.creationTimestamp ??= null;
  if (kind.namespaced) metadata.namespace = namespace;
  return { kind: kind.kind, apiVersion: `${kind.group}/v1`, metadata, spec: spec ?? {}, status } as Obj;
}

function invalid(kind: ReviewKind, causes: FieldError[]) {
  return errors.invalid(kind.kind, kind.group, '', causes);
}

/** Answers a posted review of `kind`. `requester` is who asks (after impersonation). */
export function review(kind: ReviewKind, body: Obj, requester: UserInfo, namespace: string | undefined, context: ReviewContext): Obj {
  const spec: Obj = isObject(body.spec) ? body.spec : ({} as Obj);
  switch (kind.kind) {
    case 'SelfSubjectReview':
      return answer(kind, body, undefined, undefined, { userInfo: userInfoJson(requester) });
    case 'TokenReview':
      return tokenReview(kind, body, spec, context);
    case 'SelfSubjectRulesReview': {
      const reviewNamespace = typeof spec.namespace === 'string' ? spec.namespace : '';
      if (!reviewNamespace) throw errors.badRequest('no namespace on request');
      const rules = context.rules.rulesFor(requester, reviewNamespace);
      const status: Record<string, unknown> = { resourceRules: rules.resourceRules, nonResourceRules: rules.nonResourceRules, incomplete: rules.incomplete };
      if (rules.errors.length > 0) status.evaluationError = rules.errors.join(', ');
      return answer(kind, body, undefined, spec, status);
    }
    case 'SubjectAccessReview':
    case 'SelfSubjectAccessReview':
    case 'LocalSubjectAccessReview':
      return accessReview(kind, body, spec, requester, namespace, context);
  }
}

function tokenReview(kind: ReviewKind, body: Obj, spec: Obj, context: ReviewContext): Obj {
  if (typeof spec.token !== 'string' || spec.token === '') throw errors.badRequest('token is required for TokenReview in authentication');
  const audiences = stringList(spec.audiences);
  const result = context.authenticator.tryToken(spec.token, audiences.length > 0 ? audiences : undefined);
  // The token itself is never echoed back.
  const echoed = { ...spec, token: undefined };
  if (result instanceof AuthenticationError) return answer(kind, body, undefined, echoed, { user: {}, error: result.message });
  const status: Record<string, unknown> = { authenticated: true, user: userInfoJson(result.user) };
  if (result.audiences) status.audiences = result.audiences;
  return answer(kind, body, undefined, echoed, status);
}

function accessReview(kind: ReviewKind, body: Obj, spec: Obj, requester: UserInfo, namespace: string | undefined, context: ReviewContext): Obj {
  const resource = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  const causes: FieldError[] = [];
  if (resource !== undefined && resource !== null && nonResource !== undefined && nonResource !== null) {
    causes.push(fieldErrors.invalid('spec.nonResourceAttributes', nonResource, 'cannot be specified in combination with resourceAttributes'));
  } else if ((resource === undefined || resource === null) && (nonResource === undefined || nonResource === null)) {
    causes.push(fieldErrors.invalid('spec.resourceAttributes', null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  }
  if ((resource !== undefined && resource !== null && !isObject(resource)) || (nonResource !== undefined && nonResource !== null && !isObject(nonResource))) {
    causes.push(fieldErrors.typeInvalid('spec', spec, 'resourceAttributes and nonResourceAttributes must be objects'));
  }
  let user = requester;
  if (kind.kind === 'SubjectAccessReview') {
    const groups = stringList(spec.groups);
    const name = typeof spec.user === 'string' ? spec.user : '';
    if (!name && groups.length === 0) causes.push(fieldErrors.invalid('spec.user', name, 'at least one of user or group must be specified'));
    user = { name, groups };
    if (typeof spec.uid === 'string' && spec.uid) user.uid = spec.uid;
    if (isObject(spec.extra)) user.extra = Object.fromEntries(Object.entries(spec.extra).map(([k, v]) => [k, stringList(v)]));
  }
  if (kind.kind === 'LocalSubjectAccessReview') {
    if (!namespace) throw errors.badRequest('namespace is required on this type');
    if (nonResource !== undefined && nonResource !== null) causes.push(fieldErrors.invalid('spec.nonResourceAttributes', nonResource, 'disallowed on this kind of request'));
    if (isObject(resource) && (resource.namespace ?? '') !== namespace) {
      if (causes.length === 0) throw errors.badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
    }
  }
  if (causes.length > 0) throw invalid(kind, causes);

  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  let attributes: AuthorizationAttributes;
  if (isObject(resource)) {
    attributes = {
      user,
      verb: text(resource.verb),
      isResourceRequest: true,
      group: text(resource.group),
      version: text(resource.version),
      resource: text(resource.resource),
      subresource: text(resource.subresource) || undefined,
      namespace: text(resource.namespace) || undefined,
      name: text(resource.name) || undefined,
    };
    if (isObject(resource.fieldSelector) && typeof resource.fieldSelector.rawSelector === 'string') attributes.fieldSelector = resource.fieldSelector.rawSelector;
    if (isObject(resource.labelSelector) && typeof resource.labelSelector.rawSelector === 'string') attributes.labelSelector = resource.labelSelector.rawSelector;
  } else {
    attributes = { user, verb: text(nonResource.verb), isResourceRequest: false, path: text(nonResource.path) };
  }
  const decision = context.authorizer.authorize(attributes);
  const status: Record<string, unknown> = { allowed: decision.allowed };
  if (!decision.allowed && !decision.noOpinion) status.denied = true;
  if (decision.reason) status.reason = decision.reason;
  return answer(kind, body, namespace, spec, status);
}
