/**
 * The REST operations of each served resource, described once in a neutral form that the
 * OpenAPI v2 and v3 renderers both read: which paths exist, with which verbs, parameters,
 * bodies and responses, and the Kubernetes extensions (action, group-version-kind) on each.
 */

import type { GroupVersionKind } from './definitions.js';

export interface ServedResource {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Kubernetes verbs: get, list, watch, create, update, patch, delete, deletecollection. */
  verbs: string[];
  /** e.g. ['status', 'scale']. */
  subresources: string[];
}

export type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';
export type ParameterType = 'string' | 'integer' | 'boolean';

export interface Parameter {
  name: string;
  in: 'path' | 'query';
  type: ParameterType;
  description: string;
  required?: boolean;
}

export interface Operation {
  method: Method;
  operationId: string;
  description: string;
  action: string;
  gvk: GroupVersionKind;
  parameters: Parameter[];
  /** Definition name of the request body, if the operation takes one. */
  body?: { definition: string; required: boolean };
  /** Definition name of the success response; undefined for plain text (logs). */
  response?: string;
  successCodes: string[];
  consumes: string[];
}

export interface PathSpec {
  path: string;
  /** Parameters shared by every operation of the path. */
  parameters: Parameter[];
  operations: Operation[];
}

/** Looks up the definition of a served group-version-kind. */
export type DefinitionLookup = (gvk: GroupVersionKind) => string | undefined;

export interface OperationOptions {
  /** Advertise the fieldValidation query parameter on create, update and patch. */
  advertiseFieldValidation: boolean;
}

export const PATCH_CONTENT_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];
export const RESPONSE_CONTENT_TYPES = ['application/json', 'application/yaml'];

const STATUS = 'io.k8s.apimachinery.pkg.apis.meta.v1.Status';
const DELETE_OPTIONS = 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions';
const PATCH = 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch';

const query = (name: string, type: ParameterType, description: string): Parameter => ({ name, in: 'query', type, description });
const pathParameter = (name: string, description: string): Parameter => ({ name, in: 'path', type: 'string', description, required: true });

const PRETTY = query('pretty', 'string', "If 'true', the output is pretty printed.");
const NAME = pathParameter('name', 'name of the object');
const NAMESPACE = pathParameter('namespace', 'object name and auth scope, such as for teams and projects');
const DRY_RUN = query('dryRun', 'string', 'When present (only "All" is valid), modifications are not persisted.');
const FIELD_MANAGER = query('fieldManager', 'string', 'Name of the actor making these changes, recorded in managedFields.');
const FIELD_VALIDATION = query('fieldValidation', 'string',
  'How to treat unknown or duplicate fields in the body: Ignore, Warn (the default) or Strict.');
const FORCE = query('force', 'boolean', 'Force an apply request to take ownership of conflicting fields.');
const LIST_PARAMETERS = [
  query('allowWatchBookmarks', 'boolean', 'Ask for BOOKMARK watch events.'),
  query('continue', 'string', 'The continue token of the previous page of a paginated list.'),
  query('fieldSelector', 'string', 'Only return objects whose fields match this selector.'),
  query('labelSelector', 'string', 'Only return objects whose labels match this selector.'),
  query('limit', 'integer', 'The most objects to return in one page.'),
  query('resourceVersion', 'string', 'The resource version to serve the request from.'),
  query('resourceVersionMatch', 'string', 'How resourceVersion applies: Exact or NotOlderThan.'),
  query('sendInitialEvents', 'boolean', 'Start a watch with synthetic ADDED events for existing objects.'),
  query('timeoutSeconds', 'integer', 'Time limit of the list or watch call.'),
  query('watch', 'boolean', 'Watch for changes instead of listing.'),
];
const DELETE_PARAMETERS = [
  DRY_RUN,
  query('gracePeriodSeconds', 'integer', 'Seconds before the object is deleted; zero deletes immediately.'),
  query('ignoreStoreReadErrorWithClusterBreakingPotential', 'boolean',
    'Delete an object that cannot be read from storage (unsafe).'),
  query('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy.'),
  query('propagationPolicy', 'string', 'Garbage collection of dependents: Orphan, Background or Foreground.'),
];

interface SubresourceShape {
  /** The kind the subresource reads and writes, when not the parent's own. */
  kind?: GroupVersionKind;
  methods: Method[];
}

/** The subresources Kubernetes defines, with the kind each one exchanges. */
const SUBRESOURCES: Record<string, SubresourceShape> = {
  status: { methods: ['get', 'put', 'patch'] },
  scale: { kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, methods: ['get', 'put', 'patch'] },
  ephemeralcontainers: { methods: ['get', 'put', 'patch'] },
  resize: { methods: ['get', 'put', 'patch'] },
  approval: { methods: ['get', 'put', 'patch'] },
  finalize: { methods: ['put'] },
  binding: { kind: { group: '', version: 'v1', kind: 'Binding' }, methods: ['post'] },
  eviction: { kind: { group: 'policy', version: 'v1', kind: 'Eviction' }, methods: ['post'] },
  token: { kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, methods: ['post'] },
  log: { methods: ['get'] },
};

/** "api/v1" or "apis/<group>/<version>": the key of a group-version in /openapi/v3. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

/** The camel-cased group-version inside upstream operation ids, e.g. "CoreV1", "RbacAuthorizationV1". */
function operationGroupVersion(group: string, version: string): string {
  const words = group === '' ? ['core'] : group.replace(/\.k8s\.io$/, '').split(/[.-]/);
  return [...words, version].map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

function subresourceSuffix(subresource: string): string {
  return subresource.charAt(0).toUpperCase() + subresource.slice(1);
}

/** Every path of one served resource; empty when its kind has no known schema. */
export function resourcePaths(resource: ServedResource, lookup: DefinitionLookup, options: OperationOptions): PathSpec[] {
  const gvk: GroupVersionKind = { group: resource.group, version: resource.version, kind: resource.kind };
  const definition = lookup(gvk);
  const listDefinition = lookup({ ...gvk, kind: `${resource.kind}List` });
  if (!definition) return [];

  const verbs = new Set(resource.verbs);
  const base = `/${groupVersionPath(resource.group, resource.version)}`;
  const scope = resource.namespaced ? 'Namespaced' : '';
  const collectionPath = resource.namespaced ? `${base}/namespaces/{namespace}/${resource.plural}` : `${base}/${resource.plural}`;
  const scopeParameters = resource.namespaced ? [NAMESPACE] : [];
  const idPart = (verb: string, suffix = '', idScope = scope) =>
    `${verb}${operationGroupVersion(resource.group, resource.version)}${idScope}${resource.kind}${suffix}`;
  const writeParameters = [DRY_RUN, FIELD_MANAGER, ...(options.advertiseFieldValidation ? [FIELD_VALIDATION] : [])];
  const operation = (method: Method, action: string, verb: string, rest: Partial<Operation>): Operation => ({
    method, action, gvk, operationId: idPart(verb), description: `${action} ${resource.kind}`,
    parameters: [], successCodes: ['200'], consumes: ['*/*'], ...rest,
  });

  const collection: Operation[] = [];
  if (verbs.has('list') && listDefinition) {
    collection.push(operation('get', 'list', 'list', { parameters: LIST_PARAMETERS, response: listDefinition }));
  }
  if (verbs.has('create')) {
    collection.push(operation('post', 'post', 'create', {
      parameters: writeParameters, body: { definition, required: true }, response: definition,
      successCodes: ['200', '201', '202'],
    }));
  }
  if (verbs.has('deletecollection')) {
    collection.push(operation('delete', 'deletecollection', 'deleteCollection', {
      parameters: [...LIST_PARAMETERS.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks'), ...DELETE_PARAMETERS],
      body: { definition: DELETE_OPTIONS, required: false }, response: STATUS,
    }));
  }

  const item: Operation[] = [];
  if (verbs.has('get')) item.push(operation('get', 'get', 'read', { response: definition }));
  if (verbs.has('update')) {
    item.push(operation('put', 'put', 'replace', {
      parameters: writeParameters, body: { definition, required: true }, response: definition, successCodes: ['200', '201'],
    }));
  }
  if (verbs.has('patch')) {
    item.push(operation('patch', 'patch', 'patch', {
      parameters: [...writeParameters, FORCE], body: { definition: PATCH, required: true }, response: definition,
      successCodes: ['200', '201'], consumes: PATCH_CONTENT_TYPES,
    }));
  }
  if (verbs.has('delete')) {
    item.push(operation('delete', 'delete', 'delete', {
      parameters: DELETE_PARAMETERS, body: { definition: DELETE_OPTIONS, required: false }, response: STATUS,
      successCodes: ['200', '202'],
    }));
  }

  const paths: PathSpec[] = [];
  if (collection.length > 0) paths.push({ path: collectionPath, parameters: [...scopeParameters, PRETTY], operations: collection });
  if (item.length > 0) {
    paths.push({ path: `${collectionPath}/{name}`, parameters: [NAME, ...scopeParameters, PRETTY], operations: item });
  }
  if (resource.namespaced && verbs.has('list') && listDefinition) {
    paths.push({
      path: `${base}/${resource.plural}`,
      parameters: [PRETTY],
      operations: [operation('get', 'list', 'list', {
        parameters: LIST_PARAMETERS, response: listDefinition, operationId: idPart('list', 'ForAllNamespaces', ''),
      })],
    });
  }
  for (const subresource of resource.subresources) {
    const spec = subresourcePath(subresource, { gvk, definition, collectionPath, scopeParameters, writeParameters, idPart, lookup });
    if (spec) paths.push(spec);
  }
  return paths;
}

interface SubresourceContext {
  gvk: GroupVersionKind;
  definition: string;
  collectionPath: string;
  scopeParameters: Parameter[];
  writeParameters: Parameter[];
  idPart: (verb: string, suffix: string) => string;
  lookup: DefinitionLookup;
}

function subresourcePath(subresource: string, context: SubresourceContext): PathSpec | undefined {
  const shape = SUBRESOURCES[subresource];
  if (!shape) return undefined;
  const gvk = shape.kind ?? context.gvk;
  const definition = shape.kind ? context.lookup(shape.kind) : context.definition;
  if (!definition) return undefined;
  const suffix = subresourceSuffix(subresource);
  const textResponse = subresource === 'log';
  const operations = shape.methods.map((method): Operation => {
    const base = {
      method, gvk, action: method, description: `${method} ${subresource} of ${context.gvk.kind}`,
      successCodes: ['200'], consumes: ['*/*'], response: textResponse ? undefined : definition,
    };
    switch (method) {
      case 'get':
        return { ...base, operationId: context.idPart('read', suffix), parameters: [] };
      case 'put':
        return { ...base, operationId: context.idPart('replace', suffix), parameters: context.writeParameters,
          body: { definition, required: true }, successCodes: ['200', '201'] };
      case 'patch':
        return { ...base, operationId: context.idPart('patch', suffix), parameters: [...context.writeParameters, FORCE],
          body: { definition: PATCH, required: true }, successCodes: ['200', '201'], consumes: PATCH_CONTENT_TYPES };
      default: // post: subresources that create something (binding, eviction, token)
        return { ...base, operationId: context.idPart('create', suffix), parameters: context.writeParameters,
          body: { definition, required: true }, successCodes: ['200', '201', '202'] };
    }
  });
  return {
    path: `${context.collectionPath}/{name}/${subresource}`,
    parameters: [NAME, ...context.scopeParameters, PRETTY],
    operations,
  };
}
