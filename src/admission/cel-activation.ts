/**
 * The variables admission CEL expressions see (matchConditions, ValidatingAdmissionPolicy):
 * object, oldObject, request, params, namespaceObject — JSON converted to CEL values once per
 * request.
 */
import { toCel } from '../cel/program.js';
import type { AdmissionAttributes } from './admission.js';

/** The AdmissionRequest fields CEL's `request` exposes. */
export function admissionRequest(attributes: AdmissionAttributes, uid: string): Record<string, unknown> {
  return {
    uid,
    kind: attributes.kind,
    resource: attributes.resource,
    ...(attributes.subresource ? { subResource: attributes.subresource } : {}),
    requestKind: attributes.kind,
    requestResource: attributes.resource,
    ...(attributes.subresource ? { requestSubResource: attributes.subresource } : {}),
    name: attributes.name ?? '',
    namespace: attributes.namespace ?? '',
    operation: attributes.operation,
    userInfo: userInfo(attributes),
    dryRun: attributes.dryRun,
  };
}

/** authentication.k8s.io UserInfo of the requester (the server itself when no user is known). */
export function userInfo(attributes: AdmissionAttributes): Record<string, unknown> {
  const user = attributes.user as (AdmissionAttributes['user'] & { uid?: string; extra?: Record<string, string[]> }) | undefined;
  if (!user) return { username: 'system:apiserver', groups: ['system:masters'] };
  return { username: user.name, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) };
}

export function celActivation(attributes: AdmissionAttributes, uid: string, extra: { params?: unknown; namespaceObject?: unknown } = {}): Record<string, unknown> {
  return {
    object: attributes.object === undefined ? null : toCel(attributes.object),
    oldObject: attributes.oldObject === undefined ? null : toCel(attributes.oldObject),
    request: toCel(admissionRequest(attributes, uid)),
    params: extra.params === undefined ? null : toCel(extra.params),
    namespaceObject: extra.namespaceObject === undefined ? null : toCel(extra.namespaceObject),
  };
}
