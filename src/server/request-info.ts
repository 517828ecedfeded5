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
  const watch = query.get('watch') === 'true' || query.get('watch') === '1';
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
