/**
 * The OpenAPI endpoints of the API server: /openapi/v2 (JSON or gnostic protobuf) and
 * /openapi/v3 with one document per served group-version, all built from the generated
 * definitions for exactly the resources the server serves. Each document is serialized once,
 * on first request, and its bytes reused.
 */

import { createHash } from 'node:crypto';
import {
  gvkKey, indexByGroupVersionKind, loadGeneratedDefinitions, pickDefinitions, referenceClosure,
  type Definitions, type GroupVersionKind, type Schema,
} from './definitions.js';
import { openApiV3Document, swaggerDocument } from './documents.js';
import { groupVersionPath, resourcePaths, type PathSpec, type ServedResource } from './operations.js';
import { encodeSwaggerDocument } from './v2-protobuf.js';

export type { ServedResource } from './operations.js';
export { checkAgainstSchema, findUnknownFields, type SchemaCheck, type TypeMismatch } from './unknown-fields.js';

export interface OpenApiResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface OpenApiService {
  /** Answers an /openapi/... request; undefined when `path` is not an OpenAPI path. */
  handle(path: string, query: URLSearchParams, headers: { accept?: string; ifNoneMatch?: string }): OpenApiResponse | undefined;
  /** The v2 definitions of every served kind and what they reference (for the patch engine). */
  definitions(): Definitions;
  /** The definition name of a served kind, e.g. ("apps", "v1", "Deployment") → "io.k8s.api.apps.v1.Deployment". */
  definitionNameFor(group: string, version: string, kind: string): string | undefined;
}

export interface OpenApiOptions {
  /**
   * Advertise the fieldValidation query parameter on create/update/patch. kubectl (1.27+) then
   * skips its client-side schema check and sends fieldValidation=Strict, so the server must
   * enforce it; without it kubectl validates client-side against /openapi/v2.
   */
  advertiseFieldValidation?: boolean;
  /** Definitions beside the generated ones (custom resources'), each tagged with its group-version-kind. */
  extraDefinitions?: Definitions;
}

/** What kubectl asks for; "@" is not a token character, so it is never sent back as a Content-Type. */
const PROTOBUF_V2_REQUESTED = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/** The parseable spelling upstream answers with (Go's mime parser rejects the one above). */
const PROTOBUF_V2 = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const JSON_TYPE = 'application/json';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
/** Meta kinds every server publishes, whatever it serves. */
const ALWAYS_PUBLISHED = ['Status', 'DeleteOptions', 'WatchEvent', 'APIResourceList', 'APIGroupList', 'APIGroup', 'APIVersions', 'Patch']
  .map((kind) => `${META}.${kind}`);
/** Meta kinds upstream tags with every served group-version. */
const PER_GROUP_VERSION_KINDS = [`${META}.DeleteOptions`, `${META}.WatchEvent`];
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

interface Serialized {
  body: Buffer;
  etag: string;
}

function serialize(body: Buffer): Serialized {
  return { body, etag: createHash('sha512').update(body).digest('hex').toUpperCase() };
}

function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

export function createOpenApi(resources: ServedResource[], options: OpenApiOptions = {}): OpenApiService {
  const generated = loadGeneratedDefinitions();
  const allDefinitions = options.extraDefinitions ? { ...generated.definitions, ...options.extraDefinitions } : generated.definitions;
  const allByGvk = options.extraDefinitions ? new Map([...indexByGroupVersionKind(generated.definitions), ...indexByGroupVersionKind(options.extraDefinitions)]) : indexByGroupVersionKind(generated.definitions);
  const lookup = (gvk: GroupVersionKind) => allByGvk.get(gvkKey(gvk.group, gvk.version, gvk.kind));
  const operationOptions = { advertiseFieldValidation: options.advertiseFieldValidation ?? false };

  const pathsByGroupVersion = new Map<string, PathSpec[]>();
  const servedGroupVersions = new Map<string, { group: string; version: string }>();
  for (const resource of resources) {
    const key = groupVersionPath(resource.group, resource.version);
    servedGroupVersions.set(key, { group: resource.group, version: resource.version });
    const paths = resourcePaths(resource, lookup, operationOptions);
    pathsByGroupVersion.set(key, [...(pathsByGroupVersion.get(key) ?? []), ...paths]);
  }
  const allPaths = [...pathsByGroupVersion.values()].flat();
  const definitions = servedDefinitions(allDefinitions, allPaths, [...servedGroupVersions.values()]);
  const servedByGvk = indexByGroupVersionKind(definitions);

  const v2Document = once(() => swaggerDocument(generated.kubernetesVersion, allPaths, definitions));
  const v2Json = once(() => serialize(Buffer.from(JSON.stringify(v2Document()))));
  const v2Protobuf = once(() => serialize(encodeSwaggerDocument(v2Document())));
  const v3Documents = new Map<string, () => Serialized>();
  for (const [key, paths] of [...pathsByGroupVersion].sort(([a], [b]) => a.localeCompare(b))) {
    v3Documents.set(key, once(() => {
      const schemas = pickDefinitions(definitions, referenceClosure(definitions, definitionsUsedBy(paths)));
      return serialize(Buffer.from(JSON.stringify(openApiV3Document(generated.kubernetesVersion, paths, schemas))));
    }));
  }
  const v3Index = once(() => {
    const index: Record<string, { serverRelativeURL: string }> = {};
    for (const [key, document] of v3Documents) {
      index[key] = { serverRelativeURL: groupVersionUrl(key, document().etag) };
    }
    return serialize(Buffer.from(JSON.stringify({ paths: index })));
  });

  return {
    handle(path, query, headers) {
      if (path === '/openapi/v2') return serveV2(headers, v2Json, v2Protobuf);
      if (path === '/openapi/v3') return withETag(v3Index(), JSON_TYPE, headers.ifNoneMatch);
      if (path.startsWith('/openapi/v3/')) {
        return serveV3GroupVersion(path.slice('/openapi/v3/'.length), query, headers, v3Documents);
      }
      return undefined;
    },
    definitions: () => definitions,
    definitionNameFor: (group, version, kind) => servedByGvk.get(gvkKey(group, version, kind)),
  };
}

function groupVersionUrl(key: string, etag: string): string {
  return `/openapi/v3/${key}?${new URLSearchParams({ hash: etag }).toString()}`;
}

/** The served kinds' definitions and everything they reference, meta kinds re-tagged to served group-versions. */
function servedDefinitions(all: Definitions, paths: PathSpec[], groupVersions: { group: string; version: string }[]): Definitions {
  const picked = pickDefinitions(all, referenceClosure(all, [...definitionsUsedBy(paths), ...ALWAYS_PUBLISHED]));
  const servedGvs = [...new Map(groupVersions.map((gv) => [`${gv.group}/${gv.version}`, gv])).values()]
    .sort((a, b) => a.group.localeCompare(b.group) || a.version.localeCompare(b.version));
  for (const name of PER_GROUP_VERSION_KINDS) {
    const schema = picked[name];
    if (!schema) continue;
    const kind = name.slice(name.lastIndexOf('.') + 1);
    const retagged: Schema = { ...schema, 'x-kubernetes-group-version-kind': servedGvs.map((gv) => ({ ...gv, kind })) };
    picked[name] = retagged;
  }
  return picked;
}

function definitionsUsedBy(paths: PathSpec[]): string[] {
  return paths.flatMap((p) => p.operations.flatMap((op) => [op.body?.definition, op.response]))
    .filter((name): name is string => name !== undefined);
}

function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === `"${etag}"`);
}

function withETag(document: Serialized, contentType: string, ifNoneMatch: string | undefined,
  extraHeaders: Record<string, string> = {}): OpenApiResponse {
  const headers = { 'Content-Type': contentType, ETag: `"${document.etag}"`, Vary: 'Accept', ...extraHeaders };
  if (notModified(ifNoneMatch, document.etag)) return { status: 304, headers, body: Buffer.alloc(0) };
  return { status: 200, headers, body: document.body };
}

/** Media types of an Accept header in the client's order, parameters dropped, q=0 entries skipped. */
function acceptedTypes(accept: string | undefined): string[] {
  if (!accept || accept.trim() === '') return ['*/*'];
  return accept.split(',').map((clause) => clause.split(';'))
    .filter(([, ...params]) => !params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p)))
    .map(([type]) => type!.trim().toLowerCase());
}

const acceptsJson = (type: string) => type === JSON_TYPE || type === 'application/*' || type === '*/*';

function serveV2(headers: { accept?: string; ifNoneMatch?: string }, json: () => Serialized, protobuf: () => Serialized): OpenApiResponse {
  for (const type of acceptedTypes(headers.accept)) {
    if (acceptsJson(type)) return withETag(json(), JSON_TYPE, headers.ifNoneMatch);
    if (type === PROTOBUF_V2_REQUESTED || type === PROTOBUF_V2) return withETag(protobuf(), PROTOBUF_V2, headers.ifNoneMatch);
  }
  return notAcceptable(headers.accept);
}

function serveV3GroupVersion(key: string, query: URLSearchParams, headers: { accept?: string; ifNoneMatch?: string },
  documents: Map<string, () => Serialized>): OpenApiResponse {
  const document = documents.get(key);
  if (!document) return statusResponse(404, 'NotFound', `the server does not serve an OpenAPI v3 document for "${key}"`);
  if (!acceptedTypes(headers.accept).some(acceptsJson)) return notAcceptable(headers.accept);
  const serialized = document();
  const hash = query.get('hash');
  if (hash && hash !== serialized.etag) {
    // A stale hash: send the client to the current document, as upstream does.
    const location = groupVersionUrl(key, serialized.etag);
    return { status: 301, headers: { Location: location, 'Content-Type': 'text/plain; charset=utf-8' }, body: Buffer.from(`Moved Permanently: ${location}\n`) };
  }
  const caching: Record<string, string> = hash
    ? { 'Cache-Control': 'public, immutable', Expires: new Date(Date.now() + ONE_YEAR_MS).toUTCString() }
    : {};
  return withETag(serialized, JSON_TYPE, headers.ifNoneMatch, caching);
}

function notAcceptable(accept: string | undefined): OpenApiResponse {
  return statusResponse(406, 'NotAcceptable', `none of the media types in Accept "${accept ?? ''}" can be served; use application/json`);
}

function statusResponse(code: number, reason: string, message: string): OpenApiResponse {
  const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  return { status: code, headers: { 'Content-Type': JSON_TYPE }, body: Buffer.from(JSON.stringify(status)) };
}
