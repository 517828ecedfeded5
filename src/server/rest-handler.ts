/**
 * The one generic REST handler: every verb on every kind goes through here, into the kind's
 * GenericStore. Nothing in this file knows about a particular kind.
 */
import { ApiError, errors, fieldErrors } from '../api/status.js';
import { deepCopy, isPlainObject, nowRfc3339 } from '../api/object.js';
import { bodyFormat, decodeBody, decodeObject, MAX_BODY_BYTES, negotiate } from '../api/negotiation.js';
import { buildSelection } from '../registry/selection.js';
import { decodeContinue, encodeContinue } from '../api/continue-token.js';
import { cachedPartialObjectMetadata, partialObjectMetadataPieces, tableBuffer, tableJson, type IncludeObject } from '../api/table.js';
import { applyPatch } from '../api/patch/apply-patch.js';
import type { PatchSchema } from '../api/patch/schema.js';
import type { SchemaCheck } from '../api/openapi/index.js';
import type { TypeMismatch } from '../api/openapi/unknown-fields.js';
import { applyConfiguration, applyConflictError, fieldManagerName, withManagedFields } from '../api/apply/index.js';
import { storageError, type GenericStore } from '../registry/generic-store.js';
import { RevisionTooLargeError } from '../storage/store.js';
import type { Registry } from '../registry/registry.js';
import { apiVersionOf, type KindStrategy, type Obj } from '../registry/strategy.js';
import type { StoredObject } from '../storage/store.js';
import type { Exchange } from './exchange.js';
import type { RequestInfo } from './request-info.js';
import { respondJson, respondObject, startWatch } from './responses.js';
import type { Subresource } from './subresources.js';
import { isCustomResource } from '../apiextensions/custom-resource-strategy.js';
import { handleServedOnly, isServedOnly } from './served-only.js';
import { queryBool } from '../api/query-params.js';
import { scaleSubresource, bindingSubresource, evictionSubresource } from './subresources.js';
import { nodeProxySubresource, podAttachSubresource, podExecSubresource, podLogSubresource, podPortForwardSubresource, podProxySubresource, serviceProxySubresource, type KubeletConnector } from './kubelet-proxy.js';
import { approvalSubresource } from './csr-approval.js';

export interface RestContext {
  registry: Registry;
  /** Patch schema of a kind, from the OpenAPI document. */
  patchSchema(strategy: KindStrategy): PatchSchema | undefined;
  /** Unknown fields (for fieldValidation) and wrongly typed values, from the OpenAPI document. */
  checkSchema?(strategy: KindStrategy, object: unknown, prune?: boolean): SchemaCheck;
  /** Waits until this replica may answer a read with these parameters (a follower catching up). */
  freshness?(query: URLSearchParams): Promise<void>;
  /** Told of every watch event written (apiserver_watch_events_*). */
  watchEventSent?(strategy: KindStrategy, bytes: number): void;
  /** Reaches kubelets for the pods/log, exec, attach, portforward and proxy subresources. */
  kubelet?: KubeletConnector;
}

/** Subresources by name; several kinds may share a name (proxy), each handler says which it supports. */
const SUBRESOURCES: Record<string, Subresource[]> = {
  scale: [scaleSubresource],
  binding: [bindingSubresource],
  eviction: [evictionSubresource],
  log: [podLogSubresource],
  exec: [podExecSubresource],
  attach: [podAttachSubresource],
  portforward: [podPortForwardSubresource],
  proxy: [podProxySubresource, serviceProxySubresource, nodeProxySubresource],
  approval: [approvalSubresource],
};

export async function handleResource(ex: Exchange, info: RequestInfo, query: URLSearchParams, context: RestContext): Promise<void> {
  const generic = context.registry.resource(info.group, info.version, info.resource!);
  if (!generic) throw errors.pathNotFound();
  const strategy = generic.strategy;
  if (isServedOnly(strategy)) return handleServedOnly(ex, info, query, strategy, context.registry);
  if (strategy.deprecationWarning) (ex.warnings ??= []).push(strategy.deprecationWarning);
  // A cluster-scoped kind under /namespaces/{ns}/ does not exist (the namespace itself excepted).
  if (!strategy.namespaced && info.namespace && info.resource !== 'namespaces') throw errors.pathNotFound();
  const namespace = strategy.namespaced ? info.namespace : undefined;
  const sub = info.subresource;

  if (sub && sub !== 'status' && !(sub === 'finalize' && strategy.kind === 'Namespace')) {
    const handler = SUBRESOURCES[sub]?.find((candidate) => candidate.supports(strategy));
    if (!handler) throw errors.pathNotFound();
    return handler.handle(ex, info, query, generic, namespace, context);
  }
  if (sub === 'status' && !strategy.statusSubresource) throw errors.pathNotFound();
  if (sub && !info.name) throw errors.pathNotFound();
  const subresource = sub as 'status' | 'finalize' | undefined;

  if (context.freshness && (info.verb === 'get' || info.verb === 'list' || info.verb === 'watch')) await context.freshness(query);
  switch (info.verb) {
    case 'get':
      return getObject(ex, generic, namespace, info.name!, query);
    case 'list':
      return listObjects(ex, generic, namespace, query);
    case 'watch':
      return watchObjects(ex, generic, namespace, info.name, query, context);
    case 'create':
      if (info.name) throw errors.methodNotAllowed('POST', info.path);
      return createObject(ex, generic, namespace, query, context);
    case 'update':
      return updateObject(ex, generic, namespace, info.name!, query, subresource, context);
    case 'patch':
      return patchObject(ex, generic, namespace, info.name!, query, subresource, context);
    case 'delete':
      if (subresource) throw errors.methodNotAllowed('DELETE', info.path);
      return deleteObject(ex, generic, namespace, info.name!, query);
    case 'deletecollection':
      return deleteCollection(ex, generic, namespace, query);
    default:
      throw errors.methodNotAllowed(ex.method, info.path);
  }
}

function getObject(ex: Exchange, generic: GenericStore, namespace: string | undefined, name: string, query: URLSearchParams): void {
  const stored = generic.get(namespace, name);
  const shape = negotiate(ex.header('accept'), ['object', 'table', 'partialMetadata']);
  if (shape === 'table') {
    const meta = { resourceVersion: stored.object.metadata.resourceVersion ?? '' };
    return respondJson(ex, 200, tableJson(generic.strategy, [stored], meta, includeObject(query)), 'application/json;as=Table;v=v1;g=meta.k8s.io');
  }
  if (shape === 'partialMetadata') return respondJson(ex, 200, cachedPartialObjectMetadata(stored), 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io');
  respondObject(ex, 200, stored);
}

function includeObject(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  if (value === 'None' || value === 'Object') return value;
  return 'Metadata';
}

/** A list's or watch's selectors, from its query parameters. */
function selectionFromQuery(strategy: KindStrategy, query: URLSearchParams, name?: string) {
  return buildSelection(strategy, { labelSelector: query.get('labelSelector') ?? undefined, fieldSelector: query.get('fieldSelector') ?? undefined, name });
}

function parseRevision(value: string | null, what: string): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw errors.badRequest(`invalid ${what}: ${JSON.stringify(value)}: must be a non-negative integer`);
  return Number(value);
}

function parseLimit(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw errors.badRequest(`invalid limit: ${JSON.stringify(value)}`);
  const limit = Number(value);
  return limit > 0 ? limit : undefined;
}

function listObjects(ex: Exchange, generic: GenericStore, namespace: string | undefined, query: URLSearchParams): void {
  const strategy = generic.strategy;
  const { filter, index } = selectionFromQuery(strategy, query);
  const limit = parseLimit(query.get('limit'));
  const continueToken = query.get('continue');
  const resourceVersion = query.get('resourceVersion');
  const match = query.get('resourceVersionMatch');
  let atRevision: number | undefined;
  let afterKey: string | undefined;
  if (continueToken) {
    if (resourceVersion) throw errors.badRequest('specifying resource version is not allowed when using continue');
    const position = decodeContinue(continueToken);
    atRevision = position.revision;
    afterKey = position.afterKey;
  } else if (match === 'Exact') {
    atRevision = parseRevision(resourceVersion, 'resourceVersion');
    if (atRevision === undefined || atRevision === 0) throw errors.badRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "" or "0"');
  } else if (match && match !== 'NotOlderThan') {
    throw errors.badRequest(`resourceVersionMatch: Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan"`);
  } else {
    const minimum = parseRevision(resourceVersion, 'resourceVersion');
    if (match === 'NotOlderThan' && minimum === undefined) throw errors.badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
    // NotOlderThan: the latest state is never older (however old the revision asked for); a
    // revision from the future cannot be served yet.
    if (minimum !== undefined && minimum > generic.currentRevision) {
      throw storageError(new RevisionTooLargeError(minimum, generic.currentRevision));
    }
  }
  let result;
  try {
    result = generic.list(namespace, { atRevision, afterKey, limit, filter, index });
  } catch (error) {
    if (continueToken && error instanceof ApiError && error.code === 410) {
      throw new ApiError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
    }
    throw error;
  }
  const meta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: String(result.revision) };
  if (result.continueAfter !== undefined) {
    meta.continue = encodeContinue({ revision: result.revision, afterKey: result.continueAfter });
    if (result.remaining !== undefined) meta.remainingItemCount = result.remaining;
  }
  const shape = negotiate(ex.header('accept'), ['object', 'table', 'partialMetadata']);
  // Bodies are assembled from the stored bytes (or views of them) and the summaries' cells: no object is parsed, no text decoded again.
  if (shape === 'table') return respondJson(ex, 200, tableBuffer(strategy, result.items, meta, includeObject(query)), 'application/json;as=Table;v=v1;g=meta.k8s.io');
  if (shape === 'partialMetadata') {
    const pieces: Buffer[] = [Buffer.from(`{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":${JSON.stringify(meta)},"items":[`)];
    result.items.forEach((item, i) => {
      if (i > 0) pieces.push(COMMA);
      partialObjectMetadataPieces(item, pieces);
    });
    pieces.push(LIST_END);
    return respondJson(ex, 200, Buffer.concat(pieces), 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io');
  }
  const pieces: Buffer[] = [Buffer.from(`{"kind":"${strategy.kind}List","apiVersion":"${apiVersionOf(strategy)}","metadata":${JSON.stringify(meta)},"items":[`)];
  result.items.forEach((item, i) => {
    if (i > 0) pieces.push(COMMA);
    pieces.push(...item.jsonPieces());
  });
  pieces.push(LIST_END);
  respondJson(ex, 200, Buffer.concat(pieces));
}

const COMMA = Buffer.from(',');
const LIST_END = Buffer.from(']}');

function watchObjects(ex: Exchange, generic: GenericStore, namespace: string | undefined, name: string | undefined, query: URLSearchParams, context: RestContext): void {
  const shape = negotiate(ex.header('accept'), ['object', 'table']);
  const observe = context.watchEventSent;
  startWatch(ex, generic, {
    namespace,
    filter: selectionFromQuery(generic.strategy, query, name).filter,
    resourceVersion: query.get('resourceVersion') ?? '',
    sendInitialEvents: queryBool(query, 'sendInitialEvents'),
    allowBookmarks: queryBool(query, 'allowWatchBookmarks'),
    timeoutSeconds: parseRevision(query.get('timeoutSeconds'), 'timeoutSeconds'),
    table: shape === 'table' ? includeObject(query) : undefined,
    eventSent: observe && ((bytes) => observe(generic.strategy, bytes)),
  });
}

interface WriteQuery {
  dryRun: boolean;
  /** The manager named by ?fieldManager, else derived from the User-Agent as upstream. */
  fieldManager: string;
  /** Whether ?fieldManager was given (server-side apply requires it). */
  fieldManagerGiven: boolean;
  fieldValidation: 'Ignore' | 'Warn' | 'Strict';
}

function writeQuery(query: URLSearchParams, ex: Exchange): WriteQuery {
  const dryRun = query.getAll('dryRun');
  for (const value of dryRun) if (value !== 'All') throw errors.badRequest(`dryRun: Unsupported value: ${JSON.stringify(value)}: supported values: "All"`);
  const validation = query.get('fieldValidation') ?? 'Warn';
  if (validation !== 'Ignore' && validation !== 'Warn' && validation !== 'Strict') {
    throw errors.badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(validation)}: supported values: "Ignore", "Strict", "Warn"`);
  }
  const fieldManager = query.get('fieldManager') ?? undefined;
  if (fieldManager !== undefined && (fieldManager.length > 128 || /[^\x20-\x7e]/.test(fieldManager))) {
    throw errors.badRequest('fieldManager: Invalid value: must be no more than 128 printable characters');
  }
  return { dryRun: dryRun.length > 0, fieldManager: fieldManagerName(fieldManager, ex.header('user-agent')) || 'unknown', fieldManagerGiven: fieldManager !== undefined, fieldValidation: validation };
}

async function readObjectBody(ex: Exchange): Promise<Obj> {
  const format = bodyFormat(ex.header('content-type'));
  return decodeObject(await ex.readBody(MAX_BODY_BYTES), format) as Obj;
}

/**
 * Decoding rules of upstream's typed decoder: a value of the wrong JSON type is always refused;
 * unknown fields are refused (Strict), or dropped and reported in Warning headers (Warn), or
 * dropped silently (Ignore).
 */
function checkFields(context: RestContext, strategy: KindStrategy, object: unknown, validation: WriteQuery['fieldValidation'], strategicPatch?: unknown): string[] {
  if (!context.checkSchema) return [];
  const { unknownFields, typeMismatches } = context.checkSchema(strategy, object, validation !== 'Strict');
  const cannotHandle = `${strategy.kind} in version "${strategy.version}" cannot be handled as a ${strategy.kind}`;
  if (typeMismatches.length > 0) {
    const first = typeMismatches[0];
    // A strategic merge patch result is converted from a map, not decoded from JSON: upstream
    // answers with the unstructured converter's words (clients match on them).
    if (strategicPatch !== undefined) {
      throw errors.invalid('', '', '', [fieldErrors.invalid('patch', goPrint(strategicPatch), converterError(first))]);
    }
    const goType = (t: string) => (t === 'integer' ? 'number' : t === 'boolean' ? 'bool' : t);
    throw errors.badRequest(`${cannotHandle}: json: cannot unmarshal ${goType(first.actual)} into Go struct field ${first.holder}.${first.path} of type ${first.expected}`);
  }
  if (validation === 'Ignore' || unknownFields.length === 0) return [];
  const messages = unknownFields.map((path) => `unknown field "${path}"`);
  if (validation === 'Strict') throw errors.badRequest(`${cannotHandle}: strict decoding error: ${messages.join(', ')}`);
  return messages;
}

/** Go's name for the kind of a decoded JSON value, as the unstructured converter reports it. */
function goKind(jsonType: string): string {
  return ({ integer: 'int64', number: 'float64', boolean: 'bool', array: 'slice', object: 'map' } as Record<string, string>)[jsonType] ?? jsonType;
}

/** What runtime.DefaultUnstructuredConverter says when a value cannot fill a field. */
function converterError(mismatch: TypeMismatch): string {
  const source = goKind(mismatch.actual);
  if (mismatch.expected === 'array') return `cannot restore slice from ${source}`;
  if (mismatch.expected === 'object') return mismatch.container === 'map' ? `cannot restore map from ${source}` : `cannot restore struct from: ${source}`;
  const target = mismatch.expected === 'integer' ? 'int64' : mismatch.expected === 'number' ? 'float64' : mismatch.expected;
  const numeric = (kind: string) => /^(int|float)/.test(kind);
  // Go converts numbers to numbers (and integers to strings), then refuses what it cannot keep.
  if (numeric(source) && (numeric(target) || (source === 'int64' && target === 'string'))) return `cannot convert ${source} to ${target}`;
  return `unrecognized type: ${target}`;
}

/** A decoded JSON value as Go's %+v prints it (maps with sorted keys). */
function goPrint(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goPrint).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value as object).sort().map((key) => `${key}:${goPrint((value as Record<string, unknown>)[key])}`);
    return `map[${entries.join(' ')}]`;
  }
  return String(value);
}

function checkNamespace(object: Obj, namespace: string | undefined, strategy: KindStrategy): void {
  if (!strategy.namespaced) return;
  object.metadata ??= {};
  if (object.metadata.namespace === undefined || object.metadata.namespace === '') object.metadata.namespace = namespace;
  else if (object.metadata.namespace !== namespace) {
    throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
}

async function createObject(ex: Exchange, generic: GenericStore, namespace: string | undefined, query: URLSearchParams, context: RestContext): Promise<void> {
  const options = writeQuery(query, ex);
  const object = await readObjectBody(ex);
  const warnings = checkFields(context, generic.strategy, object, options.fieldValidation);
  checkNamespace(object, namespace, generic.strategy);
  const stored = await generic.create(object, { dryRun: options.dryRun, fieldManager: options.fieldManager, user: ex.user, warnings: (ex.warnings ??= []) });
  respondObject(ex, 201, stored, warnings);
}

async function updateObject(ex: Exchange, generic: GenericStore, namespace: string | undefined, name: string, query: URLSearchParams, subresource: 'status' | 'finalize' | undefined, context: RestContext): Promise<void> {
  const options = writeQuery(query, ex);
  const object = await readObjectBody(ex);
  const warnings = checkFields(context, generic.strategy, object, options.fieldValidation);
  checkNamespace(object, namespace, generic.strategy);
  const stored = await generic.update(namespace, name, object, { dryRun: options.dryRun, subresource, fieldManager: options.fieldManager, user: ex.user, warnings: (ex.warnings ??= []) });
  respondObject(ex, 200, stored, warnings);
}

async function patchObject(ex: Exchange, generic: GenericStore, namespace: string | undefined, name: string, query: URLSearchParams, subresource: 'status' | 'finalize' | undefined, context: RestContext): Promise<void> {
  const options = writeQuery(query, ex);
  const format = bodyFormat(ex.header('content-type'));
  if (format === 'json' || format === 'yaml' || format === 'protobuf') throw errors.unsupportedMediaType(ex.header('content-type') ?? '');
  const patch = decodeBody(await ex.readBody(MAX_BODY_BYTES), format);
  const strategy = generic.strategy;

  if (format === 'strategic-merge-patch' && isCustomResource(strategy)) {
    // Custom resources have no patch strategies: upstream refuses strategic merge for them.
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
  }
  if (format === 'apply-patch') return serverSideApply(ex, generic, namespace, name, query, subresource, context, options, patch);
  if (query.has('force')) throw errors.badRequest('force: Invalid value: forbidden: may not be specified for non-apply patch');

  let warnings: string[] = [];
  const patchFn = (current: Obj): Obj => {
    const patched = applyPatch(format, current, patch, context.patchSchema(strategy));
    // As upstream, unknown fields are judged on the patched object.
    warnings = checkFields(context, strategy, patched, options.fieldValidation, format === 'strategic-merge-patch' ? patch : undefined);
    return patched;
  };
  const stored = await generic.guaranteedUpdate(namespace, name, patchFn, { dryRun: options.dryRun, subresource, fieldManager: options.fieldManager, user: ex.user, warnings: (ex.warnings ??= []) });
  respondObject(ex, 200, stored, warnings);
}

/** PATCH with application/apply-patch+yaml: merge by field ownership, creating when absent. */
async function serverSideApply(
  ex: Exchange,
  generic: GenericStore,
  namespace: string | undefined,
  name: string,
  query: URLSearchParams,
  subresource: 'status' | 'finalize' | undefined,
  context: RestContext,
  options: WriteQuery,
  patch: unknown,
): Promise<void> {
  const strategy = generic.strategy;
  if (!options.fieldManagerGiven) {
    throw errors.invalid('PatchOptions', 'meta.k8s.io', '', [{ type: 'FieldValueRequired', field: 'fieldManager', detail: 'Required value: is required for apply patch' }]);
  }
  if (!isPlainObject(patch)) throw errors.badRequest('the apply configuration must be an object');
  const applied = patch as Obj;
  if (isPlainObject(applied.metadata)) {
    checkNamespace(applied, namespace, strategy);
    if (applied.metadata.name !== undefined && applied.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
    }
  }
  const force = queryBool(query, 'force');
  const warnings = checkFields(context, strategy, applied, options.fieldValidation);
  const apply = (live: Obj | undefined): Obj => {
    const result = applyConfiguration({
      live,
      applied: deepCopy(applied),
      manager: options.fieldManager,
      force,
      subresource,
      apiVersion: apiVersionOf(strategy),
      schema: context.patchSchema(strategy),
      now: nowRfc3339(),
    });
    if (result.outcome === 'conflict') throw applyConflictError(result.conflicts);
    return withManagedFields(result.object, result.managedFields) as Obj;
  };
  const writeOptions = { dryRun: options.dryRun, subresource, fieldManager: options.fieldManager, managedFieldsComputed: true, user: ex.user, warnings: (ex.warnings ??= []) };
  if (!generic.tryGet(namespace, name)) {
    const created = apply(undefined);
    created.metadata.name = name;
    if (strategy.namespaced) created.metadata.namespace = namespace;
    return respondObject(ex, 201, await generic.create(created, writeOptions), warnings);
  }
  const stored = await generic.guaranteedUpdate(namespace, name, (current) => apply(current), writeOptions);
  respondObject(ex, 200, stored, warnings);
}

interface DeleteBody {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

async function readDeleteOptions(ex: Exchange, query: URLSearchParams): Promise<{ dryRun: boolean; body: DeleteBody }> {
  const raw = await ex.readBody(MAX_BODY_BYTES);
  let body: DeleteBody = {};
  if (raw.length > 0) {
    const decoded = decodeObject(raw, bodyFormat(ex.header('content-type')));
    if (decoded.kind !== undefined && decoded.kind !== 'DeleteOptions') throw errors.badRequest(`the body of a delete must be DeleteOptions, got kind ${JSON.stringify(decoded.kind)}`);
    body = decoded as DeleteBody;
  }
  const policy = query.get('propagationPolicy') ?? body.propagationPolicy;
  if (policy !== undefined && policy !== null && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
    throw errors.badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan"`);
  }
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null && !/^-?\d+$/.test(grace)) throw errors.badRequest(`invalid gracePeriodSeconds: ${JSON.stringify(grace)}`);
  const orphanQuery = query.get('orphanDependents');
  const orphanDependents = orphanQuery !== null ? queryBool(query, 'orphanDependents') : typeof body.orphanDependents === 'boolean' ? body.orphanDependents : undefined;
  if (orphanDependents !== undefined && policy) {
    throw errors.invalid('DeleteOptions', 'meta.k8s.io', '', [fieldErrors.invalid('propagationPolicy', policy, 'orphanDependents and deletionPropagation cannot be both set')]);
  }
  const dryRun = query.getAll('dryRun').includes('All') || (body.dryRun ?? []).includes('All');
  return { dryRun, body: { ...body, orphanDependents, propagationPolicy: policy ?? undefined, gracePeriodSeconds: grace !== null ? Number(grace) : body.gracePeriodSeconds } };
}

async function deleteObject(ex: Exchange, generic: GenericStore, namespace: string | undefined, name: string, query: URLSearchParams): Promise<void> {
  const { dryRun, body } = await readDeleteOptions(ex, query);
  const result = await generic.delete(namespace, name, { dryRun, preconditions: body.preconditions, gracePeriodSeconds: body.gracePeriodSeconds, propagationPolicy: body.propagationPolicy, orphanDependents: body.orphanDependents, user: ex.user, warnings: (ex.warnings ??= []) });
  if (!result.deleted) return respondObject(ex, 200, result.stored);
  respondJson(ex, 200, JSON.stringify(successStatus(generic, result.stored)));
}

function successStatus(generic: GenericStore, stored: StoredObject) {
  const details: Record<string, unknown> = { name: stored.object.metadata.name, kind: generic.strategy.plural, uid: stored.object.metadata.uid };
  if (generic.strategy.group) details.group = generic.strategy.group;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

async function deleteCollection(ex: Exchange, generic: GenericStore, namespace: string | undefined, query: URLSearchParams): Promise<void> {
  const { dryRun, body } = await readDeleteOptions(ex, query);
  const { filter, index } = selectionFromQuery(generic.strategy, query);
  const { items } = generic.list(namespace, { filter, index });
  const deleted: string[] = [];
  for (const item of items) {
    try {
      const result = await generic.delete(item.object.metadata.namespace, item.object.metadata.name!, { dryRun, propagationPolicy: body.propagationPolicy, orphanDependents: body.orphanDependents, gracePeriodSeconds: body.gracePeriodSeconds, user: ex.user, warnings: (ex.warnings ??= []) });
      deleted.push(result.stored.json.toString('utf8'));
    } catch (error) {
      // Another writer may have removed it first; that is the outcome asked for.
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
  }
  const strategy = generic.strategy;
  respondJson(ex, 200, `{"kind":"${strategy.kind}List","apiVersion":"${apiVersionOf(strategy)}","metadata":{},"items":[${deleted.join(',')}]}`);
}
