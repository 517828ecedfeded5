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
  /** Non-resource requests. */
  path?: string;
}

export interface Decision {
  allowed: boolean;
  /** Why, for the Forbidden message and audit (may be empty). */
  reason?: string;
}

export interface Authorizer {
  authorize(attributes: AuthorizationAttributes): Decision;
}

/** Every request allowed: what the server does until RBAC is enforced. */
export const allowAll: Authorizer = { authorize: () => ({ allowed: true }) };

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
