/**
 * Renders the neutral path descriptions and the v2 definitions into the two document formats
 * Kubernetes serves: one Swagger 2.0 document for everything (/openapi/v2) and one OpenAPI 3.0
 * document per group-version (/openapi/v3/<gv>).
 */

import { refName, type Definitions, type Schema } from './definitions.js';
import { RESPONSE_CONTENT_TYPES, type Operation, type Parameter, type PathSpec } from './operations.js';

type Json = Record<string, unknown>;

const BEARER_TOKEN = {
  BearerToken: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' },
};

const v2Ref = (name: string) => ({ $ref: `#/definitions/${name}` });
const v3Ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function v2Parameter(p: Parameter): Json {
  return { name: p.name, in: p.in, description: p.description, type: p.type, uniqueItems: true, ...(p.required ? { required: true } : {}) };
}

function v2Operation(op: Operation, tag: string): Json {
  const parameters: Json[] = op.parameters.map(v2Parameter);
  if (op.body) parameters.unshift({ name: 'body', in: 'body', required: op.body.required, schema: v2Ref(op.body.definition) });
  const responses: Json = {};
  for (const code of op.successCodes) {
    responses[code] = { description: 'OK', schema: op.response ? v2Ref(op.response) : { type: 'string' } };
  }
  responses['401'] = { description: 'Unauthorized' };
  return {
    description: op.description,
    consumes: op.consumes,
    produces: op.response ? RESPONSE_CONTENT_TYPES : ['text/plain'],
    schemes: ['https'],
    tags: [tag],
    operationId: op.operationId,
    parameters,
    responses,
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': op.gvk,
  };
}

/** The tag upstream files operations under, e.g. "core_v1", "apps_v1", "rbacAuthorization_v1". */
export function operationTag(path: string): string {
  const match = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\//.exec(path);
  if (!match) return '';
  if (match[1]) return `core_${match[1]}`;
  const words = match[2]!.replace(/\.k8s\.io$/, '').split(/[.-]/);
  const group = words.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
  return `${group}_${match[3]}`;
}

export function swaggerDocument(version: string, paths: PathSpec[], definitions: Definitions): Json {
  const renderedPaths: Json = {};
  for (const spec of [...paths].sort((a, b) => a.path.localeCompare(b.path))) {
    const item: Json = { parameters: spec.parameters.map(v2Parameter) };
    for (const op of spec.operations) item[op.method] = v2Operation(op, operationTag(spec.path));
    renderedPaths[spec.path] = item;
  }
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version },
    paths: renderedPaths,
    definitions,
    securityDefinitions: BEARER_TOKEN,
    security: [{ BearerToken: [] }],
  };
}

function v3Parameter(p: Parameter): Json {
  return { name: p.name, in: p.in, description: p.description, ...(p.required ? { required: true } : {}),
    schema: { type: p.type, uniqueItems: true } };
}

function v3Operation(op: Operation, tag: string): Json {
  const responses: Json = {};
  for (const code of op.successCodes) {
    const content: Json = {};
    if (op.response) for (const type of RESPONSE_CONTENT_TYPES) content[type] = { schema: v3Ref(op.response) };
    else content['text/plain'] = { schema: { type: 'string' } };
    responses[code] = { description: 'OK', content };
  }
  responses['401'] = { description: 'Unauthorized' };
  const rendered: Json = {
    tags: [tag],
    description: op.description,
    operationId: op.operationId,
    parameters: op.parameters.map(v3Parameter),
  };
  if (op.body) {
    const content: Json = {};
    for (const type of op.consumes) content[type] = { schema: v3Ref(op.body.definition) };
    rendered.requestBody = { content, required: op.body.required };
  }
  return { ...rendered, responses, 'x-kubernetes-action': op.action, 'x-kubernetes-group-version-kind': op.gvk };
}

/**
 * A v2 schema as OpenAPI 3.0 has it: refs point into components, and a ref with sibling
 * keywords (a described property) becomes allOf, as upstream renders it and kubectl explain reads it.
 */
export function toV3Schema(schema: Schema): Schema {
  const converted: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref') continue;
    if (key === 'properties') {
      converted.properties = Object.fromEntries(Object.entries(value as Record<string, Schema>)
        .map(([name, child]) => [name, toV3Schema(child)]));
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      (converted as Json)[key] = toV3Schema(value as Schema);
    } else {
      (converted as Json)[key] = value;
    }
  }
  if (schema.$ref) {
    const ref = v3Ref(refName(schema.$ref));
    if (Object.keys(converted).length === 0) return ref;
    return { allOf: [ref], ...converted };
  }
  return converted;
}

export function openApiV3Document(version: string, paths: PathSpec[], schemas: Definitions): Json {
  const renderedPaths: Json = {};
  for (const spec of [...paths].sort((a, b) => a.path.localeCompare(b.path))) {
    const item: Json = { parameters: spec.parameters.map(v3Parameter) };
    for (const op of spec.operations) item[op.method] = v3Operation(op, operationTag(spec.path));
    renderedPaths[spec.path] = item;
  }
  const components: Record<string, Schema> = {};
  for (const [name, schema] of Object.entries(schemas)) components[name] = toV3Schema(schema);
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version },
    paths: renderedPaths,
    components: { schemas: components, securitySchemes: BEARER_TOKEN },
  };
}
