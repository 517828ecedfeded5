/**
 * The identities the control plane's own components act under, as upstream names them. The
 * bootstrap RBAC policy grants each what its upstream counterpart is granted.
 */
import type { UserInfo } from './authenticate.js';

const AUTHENTICATED = 'system:authenticated';

/** The API server's loopback identity (upstream's `system:apiserver`, in system:masters). */
export const LOOPBACK_USER: UserInfo = { name: 'system:apiserver', groups: ['system:masters', AUTHENTICATED] };
export const SCHEDULER_USER: UserInfo = { name: 'system:kube-scheduler', groups: [AUTHENTICATED] };
export const CONTROLLER_MANAGER_USER: UserInfo = { name: 'system:kube-controller-manager', groups: [AUTHENTICATED] };

/** A service account's user, as its tokens authenticate (`system:serviceaccount:<ns>:<name>`). */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return { name: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, AUTHENTICATED] };
}

/** A kubelet's user (`system:node:<name>` in `system:nodes`), as its client certificate says. */
export function nodeUser(nodeName: string): UserInfo {
  return { name: `system:node:${nodeName}`, groups: ['system:nodes', AUTHENTICATED] };
}
