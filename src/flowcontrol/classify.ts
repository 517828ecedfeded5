/**
 * Which FlowSchema a request belongs to, and its flow within it (upstream's
 * apf_filter matching): subjects by user, group or service account; resource rules by verb,
 * API group, resource (or resource/subresource) and namespace (or cluster scope); non-resource
 * rules by verb and URL (exact, or a prefix ending in "/*").
 */
import type { UserInfo } from '../auth/authenticate.js';
import type { Obj } from '../registry/strategy.js';
import type { RequestInfo } from '../server/request-info.js';

const ALL = '*';
const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

export interface RequestDigest {
  user: UserInfo;
  info: RequestInfo;
}

/** A list field as stored; anything else (never valid, but never trusted either) as empty. */
const list = (value: unknown): Obj[] => (Array.isArray(value) ? value.filter((item) => typeof item === 'object' && item !== null) : []);

export function matchesFlowSchema(schema: Obj, digest: RequestDigest): boolean {
  return list(schema.spec?.rules).some((rule) => matchesRule(rule, digest));
}

/** ByUser: the user name; ByNamespace: the namespace; no method: one flow for everyone. */
export function flowDistinguisher(schema: Obj, digest: RequestDigest): string {
  switch (schema.spec?.distinguisherMethod?.type) {
    case 'ByUser':
      return digest.user.name;
    case 'ByNamespace':
      return digest.info.namespace ?? '';
    default:
      return '';
  }
}

function matchesRule(rule: Obj, digest: RequestDigest): boolean {
  if (!list(rule.subjects).some((subject) => matchesSubject(subject, digest.user))) return false;
  if (digest.info.isResourceRequest) return list(rule.resourceRules).some((resourceRule) => matchesResourceRule(resourceRule, digest.info));
  return list(rule.nonResourceRules).some((nonResourceRule) => matchesNonResourceRule(nonResourceRule, digest.info));
}

function matchesSubject(subject: Obj, user: UserInfo): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.user?.name === ALL || subject.user?.name === user.name;
    case 'Group':
      return subject.group?.name === ALL || user.groups.includes(subject.group?.name);
    case 'ServiceAccount': {
      if (!user.name.startsWith(SERVICE_ACCOUNT_PREFIX)) return false;
      const [namespace, name] = user.name.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
      return subject.serviceAccount?.namespace === namespace && (subject.serviceAccount?.name === ALL || subject.serviceAccount?.name === name);
    }
    default:
      return false;
  }
}

function listHas(values: unknown, value: string): boolean {
  return Array.isArray(values) && (values.includes(ALL) || values.includes(value));
}

function matchesResourceRule(rule: Obj, info: RequestInfo): boolean {
  if (!listHas(rule.verbs, info.verb) || !listHas(rule.apiGroups, info.group)) return false;
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : (info.resource ?? '');
  if (!listHas(rule.resources, resource)) return false;
  // As upstream, a request on a Namespace itself (/api/v1/namespaces/x) counts as in namespace x.
  if (!info.namespace) return rule.clusterScope === true;
  return listHas(rule.namespaces, info.namespace);
}

function matchesNonResourceRule(rule: Obj, info: RequestInfo): boolean {
  if (!listHas(rule.verbs, info.verb)) return false;
  return (Array.isArray(rule.nonResourceURLs) ? rule.nonResourceURLs : []).some((url: unknown) => typeof url === 'string' && (url === ALL || url === info.path || (url.endsWith('/*') && info.path.startsWith(url.slice(0, -1)))));
}
