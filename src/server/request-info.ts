import { parseFieldSelector } from '../api/selectors.js';
import type { UserInfo } from '../auth/authenticate.js';
import { queryBool } from '../api/query-params.js';
import type { AuthorizationAttributes } from '../auth/authorization.js';

/**
 * Parses a resource URL into what it addresses (upstream's RequestInfoFactory):
 * /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}, /apis/{group}/{version}/...
 */
export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  verb: string;
  apiPrefix?: 'api' | 'apis';
  group: string;
  version: string;
  namespace?: string;
  resource?: string;
  name?: string;
  subresource?: string;
  /** Path segments after the subresource (e.g. pods/x/proxy/...). */
  rest: string[];
}

export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const info: RequestInfo = { isResourceRequest: false, path, verb: method.toLowerCase(), group: '', version: '', rest: [] };
  const parts = path.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  if (parts[0] !== 'api' && parts[0] !== 'apis') return info;
  info.apiPrefix = parts[0];
  let i = 1;
  if (info.apiPrefix === 'apis') {
    if (parts.length < 3) return info;
    info.group = parts[i++];
  } else if (parts.length < 2) return info;
  info.version = parts[i++];
  if (i >= parts.length) return info;
  info.isResourceRequest = true;
  let rest = parts.slice(i);
  if (rest[0] === 'namespaces') {
    if (rest.length === 1) {
      rest = ['namespaces'];
    } else if (rest.length === 2) {
      info.namespace = rest[1];
      rest = ['namespaces', rest[1]];
    } else {
      // /namespaces/{ns}/{resource}... ; but /namespaces/{ns}/status|finalize is a namespace subresource.
      if (rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize')) {
        info.namespace = rest[1];
      } else {
        info.namespace = rest[1];
        rest = rest.slice(2);
      }
    }
  }
  info.resource = rest[0];
  info.name = rest[1];
  info.subresource = rest[2];
  info.rest = rest.slice(3);
  const watch = queryBool(query, 'watch');
  switch (method) {
    case 'GET':
    case 'HEAD':
      info.verb = info.name ? 'get' : watch ? 'watch' : 'list';
      if (info.name && watch) info.verb = 'watch';
      break;
    case 'POST':
      info.verb = 'create';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = info.name ? 'delete' : 'deletecollection';
      break;
    default:
      info.verb = method.toLowerCase();
  }
  return info;
}

const PATH_SEGMENT_FORBIDDEN = /^\.{1,2}$|[/%]/;

/**
 * What the authorizer is asked for a request (upstream's RequestInfo as authorizer.Attributes):
 * a list or watch selecting one name by `metadata.name=` is asked for that name, so a
 * resourceNames rule can allow it; non-resource requests are asked for their path as sent.
 */
export function authorizationAttributes(info: RequestInfo, user: UserInfo, query: URLSearchParams, rawPath: string): AuthorizationAttributes {
  if (!info.isResourceRequest) return { user, verb: info.verb, isResourceRequest: false, path: rawPath };
  const attributes: AuthorizationAttributes = {
    user,
    verb: info.verb,
    isResourceRequest: true,
    group: info.group,
    version: info.version,
    resource: info.resource,
    subresource: info.subresource,
    namespace: info.namespace,
    name: info.name,
  };
  const fieldSelector = query.get('fieldSelector') ?? undefined;
  const labelSelector = query.get('labelSelector') ?? undefined;
  if (fieldSelector !== undefined) attributes.fieldSelector = fieldSelector;
  if (labelSelector !== undefined) attributes.labelSelector = labelSelector;
  if (!info.name && (info.verb === 'list' || info.verb === 'watch') && fieldSelector) {
    try {
      const names = parseFieldSelector(fieldSelector).filter((r) => r.field === 'metadata.name' && r.op === '=');
      if (names.length === 1 && names[0].value !== '' && !PATH_SEGMENT_FORBIDDEN.test(names[0].value)) attributes.name = names[0].value;
    } catch {
      // A malformed selector is the list's to refuse; it names nothing to authorize.
    }
  }
  return attributes;
}
