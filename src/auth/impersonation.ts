/**
 * Impersonation (upstream's WithImpersonation filter): `Impersonate-User`, `-Group`, `-Uid` and
 * `-Extra-<key>` headers switch the request's user, once the requester is authorized for the
 * `impersonate` verb on each: users (or the service account), groups, uids and userextras/<key>.
 */
import { errors } from '../api/status.js';
import { ANONYMOUS, AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP, type UserInfo } from './authenticate.js';
import { forbidden, type AuthorizationAttributes, type Authorizer } from './authorization.js';
import { serviceAccountUser } from './system-users.js';

const USER = 'impersonate-user';
const GROUP = 'impersonate-group';
const UID = 'impersonate-uid';
const EXTRA_PREFIX = 'impersonate-extra-';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether any header asks to impersonate (cheap; most requests carry none). */
export function wantsImpersonation(headers: ReadonlyArray<readonly [string, string]>): boolean {
  return headers.some(([name]) => name.startsWith('impersonate-'));
}

/** "system:serviceaccount:<ns>:<name>" split, when it is a well-formed service-account name. */
function splitServiceAccount(username: string): { namespace: string; name: string } | undefined {
  const prefix = 'system:serviceaccount:';
  if (!username.startsWith(prefix)) return undefined;
  const parts = username.slice(prefix.length).split(':');
  if (parts.length !== 2 || !DNS_LABEL.test(parts[0]) || parts[0].length > 63 || !DNS_SUBDOMAIN.test(parts[1]) || parts[1].length > 253) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

interface Request {
  kind: 'User' | 'ServiceAccount' | 'Group' | 'UID' | 'UserExtra';
  name: string;
  namespace?: string;
  key?: string;
}

function describe(requests: Request[]): string {
  return `[${requests.map((r) => `{${r.kind} ${r.namespace ?? ''} ${r.name}${r.key ? ` ${r.key}` : ''}}`).join(' ')}]`;
}

/**
 * The user a request acts as. `headers` are every header line (lower-case names), repeated
 * headers kept apart. Throws 400 for groups, uid or extras without a user, 403 when an
 * impersonation is not authorized.
 */
export function impersonate(requester: UserInfo, headers: ReadonlyArray<readonly [string, string]>, authorizer: Authorizer): UserInfo {
  const requests: Request[] = [];
  const username = headers.find(([name]) => name === USER)?.[1] ?? '';
  if (username) {
    const account = splitServiceAccount(username);
    requests.push(account ? { kind: 'ServiceAccount', name: account.name, namespace: account.namespace } : { kind: 'User', name: username });
  }
  const groups = headers.filter(([name]) => name === GROUP).map(([, value]) => value);
  for (const group of groups) requests.push({ kind: 'Group', name: group });
  const uid = headers.find(([name]) => name === UID)?.[1] ?? '';
  if (uid) requests.push({ kind: 'UID', name: uid });
  const extra: Record<string, string[]> = {};
  for (const [name, value] of headers) {
    if (!name.startsWith(EXTRA_PREFIX)) continue;
    const key = unescapeExtraKey(name.slice(EXTRA_PREFIX.length)).toLowerCase();
    (extra[key] ??= []).push(value);
    requests.push({ kind: 'UserExtra', name: value, key });
  }
  if (!username) {
    // Upstream answers 500 here; a client's malformed headers are a 400 for us.
    throw errors.badRequest(`requested ${describe(requests)} without impersonating a user`);
  }

  for (const request of requests) {
    const attributes: AuthorizationAttributes = { user: requester, verb: 'impersonate', isResourceRequest: true, name: request.name };
    switch (request.kind) {
      case 'ServiceAccount':
        Object.assign(attributes, { group: '', resource: 'serviceaccounts', namespace: request.namespace });
        break;
      case 'User':
        Object.assign(attributes, { group: '', resource: 'users' });
        break;
      case 'Group':
        Object.assign(attributes, { group: '', resource: 'groups' });
        break;
      case 'UID':
        Object.assign(attributes, { group: 'authentication.k8s.io', resource: 'uids' });
        break;
      case 'UserExtra':
        Object.assign(attributes, { group: 'authentication.k8s.io', resource: 'userextras', subresource: request.key });
        break;
    }
    const decision = authorizer.authorize(attributes);
    if (!decision.allowed) throw forbidden(attributes, decision.reason);
  }

  const account = splitServiceAccount(username);
  const resultGroups = account && groups.length === 0 ? serviceAccountUser(account.namespace, account.name).groups.filter((g) => g !== AUTHENTICATED_GROUP) : [...groups];
  if (username !== ANONYMOUS.name) {
    if (!resultGroups.includes(AUTHENTICATED_GROUP) && !resultGroups.includes(UNAUTHENTICATED_GROUP)) resultGroups.push(AUTHENTICATED_GROUP);
  } else if (!resultGroups.includes(UNAUTHENTICATED_GROUP)) resultGroups.push(UNAUTHENTICATED_GROUP);
  const user: UserInfo = { name: username, groups: resultGroups };
  if (uid) user.uid = uid;
  if (Object.keys(extra).length > 0) user.extra = extra;
  return user;
}
