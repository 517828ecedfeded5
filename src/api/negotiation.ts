/** Content negotiation: what the client accepts, and decoding request bodies (JSON or YAML). */
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { errors } from './status.js';
import { isPlainObject } from './object.js';
import { yamlNestingEstimate } from './yaml-depth.js';
import { decodeKubernetesProtobuf, PROTOBUF_MEDIA_TYPE } from './protobuf/decode.js';

export type ResponseShape = 'object' | 'table' | 'partialMetadata' | 'discoveryV2' | 'discoveryV2beta1';

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [];
  return accept.split(',').map((part) => {
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
    }
    return { type: type.toLowerCase(), params };
  });
}

const JSONISH = new Set(['application/json', '*/*', 'application/*', 'application/yaml']);

/**
 * The first acceptable shape among those the endpoint can produce. Table and aggregated
 * discovery are only chosen when asked for by name, as upstream.
 */
export function negotiate(accept: string | undefined, allowed: readonly ResponseShape[]): ResponseShape {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return 'object';
  for (const range of ranges) {
    const as = range.params.as;
    if (as === 'Table' && range.params.g === 'meta.k8s.io' && allowed.includes('table')) return 'table';
    if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && range.params.g === 'meta.k8s.io' && allowed.includes('partialMetadata')) return 'partialMetadata';
    if (as === 'APIGroupDiscoveryList' && range.params.g === 'apidiscovery.k8s.io') {
      if (range.params.v === 'v2' && allowed.includes('discoveryV2')) return 'discoveryV2';
      if (range.params.v === 'v2beta1' && allowed.includes('discoveryV2beta1')) return 'discoveryV2beta1';
      continue;
    }
    if (as) continue;
    if (JSONISH.has(range.type)) return 'object';
  }
  // Only protobuf or unknown types were offered; answer JSON like a server without protobuf would not —
  // upstream answers 406 when nothing acceptable is listed.
  const onlyUnservable = ranges.every((r) => !JSONISH.has(r.type) && !r.params.as);
  if (onlyUnservable) throw errors.notAcceptable(`only the following media types are accepted: application/json, application/yaml`);
  return 'object';
}

export const MAX_BODY_BYTES = 3 * 1024 * 1024;
const MAX_DEPTH = 1000;

export type BodyFormat = 'json' | 'yaml' | 'protobuf' | 'json-patch' | 'merge-patch' | 'strategic-merge-patch' | 'apply-patch';

export function bodyFormat(contentType: string | undefined): BodyFormat {
  const type = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  switch (type) {
    case '':
    case 'application/json':
      return 'json';
    case 'application/yaml':
    case 'application/x-yaml':
    case 'text/yaml':
      return 'yaml';
    case PROTOBUF_MEDIA_TYPE:
      return 'protobuf';
    case 'application/json-patch+json':
      return 'json-patch';
    case 'application/merge-patch+json':
      return 'merge-patch';
    case 'application/strategic-merge-patch+json':
      return 'strategic-merge-patch';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+cbor':
      if (type.endsWith('cbor')) throw errors.unsupportedMediaType(contentType ?? '');
      return 'apply-patch';
    default:
      throw errors.unsupportedMediaType(contentType ?? '');
  }
}

/** Parses a body (JSON or YAML text) into a value, with limits on depth. */
export function decodeBody(body: Buffer, format: BodyFormat): unknown {
  if (body.length === 0) throw errors.badRequest('the request body is empty; an object was expected');
  // kubectl 1.32+ sends typed clients' bodies as Kubernetes protobuf.
  if (format === 'protobuf') return decodeKubernetesProtobuf(body);
  const text = body.toString('utf8');
  let value: unknown;
  if ((format === 'yaml' || format === 'apply-patch') && /^\s*[{[]/.test(text) && (value = tryJson(text)) !== undefined) {
    // JSON is YAML, and kubectl sends server-side apply bodies as JSON: the JSON parser does not recurse.
  } else if (format === 'yaml' || format === 'apply-patch') {
    // The YAML parser recurses: refuse what nests too deeply before it runs out of stack.
    if (yamlNestingEstimate(text) > MAX_DEPTH) throw tooDeep();
    const documents = parseAllDocuments(text);
    const list = Array.isArray(documents) ? documents : [documents];
    if (list.length > 1) throw errors.badRequest('the body contains several YAML documents; send one object per request');
    const doc = list[0];
    if (!doc || doc.errors.length > 0) {
      if (doc?.errors.some((e) => STACK_EXHAUSTED.test(e.message))) throw tooDeep();
      throw errors.badRequest(`error converting YAML to JSON: ${doc?.errors[0]?.message ?? 'empty document'}`);
    }
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      if (error instanceof RangeError || STACK_EXHAUSTED.test((error as Error).message)) throw tooDeep();
      throw errors.badRequest(`error converting YAML to JSON: ${(error as Error).message}`);
    }
  } else {
    try {
      value = JSON.parse(text);
    } catch (error) {
      // JSON is valid YAML, and kubectl sometimes sends YAML as application/json: upstream accepts both.
      try {
        value = parseYaml(text, { maxAliasCount: 100 });
      } catch {
        throw errors.badRequest(`error decoding request body: ${(error as Error).message}`);
      }
      if (typeof value !== 'object' || value === null) throw errors.badRequest(`error decoding request body: ${(error as Error).message}`);
    }
  }
  checkDepth(value);
  return value;
}

/** Decodes a body that must be an object (create/update/most patches). */
export function decodeObject(body: Buffer, format: BodyFormat): Record<string, unknown> {
  const value = decodeBody(body, format);
  if (!isPlainObject(value)) throw errors.badRequest(`the request body must be a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  return value;
}

const STACK_EXHAUSTED = /Maximum call stack size exceeded/;

/** The one answer every path gives a body nested deeper than the limit. */
function tooDeep() {
  return errors.badRequest(`the request body is nested too deeply: the maximum depth is ${MAX_DEPTH}`);
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function checkDepth(value: unknown): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > MAX_DEPTH) throw tooDeep();
    for (const child of Object.values(current)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
}
