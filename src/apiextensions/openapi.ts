/**
 * OpenAPI definitions of custom resources, named as upstream names them (group reversed, then
 * version and kind: "com.example.stable.v1.CronTab"), so `kubectl explain` and client-side
 * tooling find them in /openapi/v2 and /openapi/v3 beside the built-in kinds.
 */
import type { Definitions, Schema } from '../api/openapi/definitions.js';
import { deepCopy } from '../api/object.js';
import type { CustomResourceStrategy } from './custom-resource-strategy.js';
import type { JSONSchemaProps } from './structural-schema.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

export function crdDefinitionName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

const API_VERSION_DESCRIPTION = 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const KIND_DESCRIPTION = 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

/** A JSONSchemaProps as an OpenAPI schema: the same keywords, minus what OpenAPI has no place for. */
function toOpenApi(schema: JSONSchemaProps): Schema {
  const copy = deepCopy(schema) as Record<string, unknown>;
  // x-kubernetes-validations are server-side; they stay out of the published document as upstream.
  delete copy['x-kubernetes-validations'];
  if (copy.properties) copy.properties = Object.fromEntries(Object.entries(schema.properties!).map(([k, v]) => [k, toOpenApi(v)]));
  if (schema.items) copy.items = toOpenApi(schema.items);
  if (typeof schema.additionalProperties === 'object') copy.additionalProperties = toOpenApi(schema.additionalProperties);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) if (schema[key]) copy[key] = schema[key]!.map(toOpenApi);
  return copy as Schema;
}

export function customResourceDefinitions(strategies: readonly CustomResourceStrategy[]): Definitions {
  const definitions: Definitions = {};
  for (const strategy of strategies) {
    const { group, version, kind } = strategy;
    const name = crdDefinitionName(group, version, kind);
    const root = toOpenApi(strategy.customResource.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    definitions[name] = {
      ...root,
      type: 'object',
      properties: {
        apiVersion: { description: API_VERSION_DESCRIPTION, type: 'string' },
        kind: { description: KIND_DESCRIPTION, type: 'string' },
        metadata: { $ref: `#/definitions/${META}.ObjectMeta` },
        ...Object.fromEntries(Object.entries(root.properties ?? {}).filter(([key]) => key !== 'apiVersion' && key !== 'kind' && key !== 'metadata')),
      },
      'x-kubernetes-group-version-kind': [{ group, version, kind }],
    };
    definitions[`${name}List`] = {
      description: `${kind}List is a list of ${kind}`,
      type: 'object',
      required: ['items'],
      properties: {
        apiVersion: { description: API_VERSION_DESCRIPTION, type: 'string' },
        items: { description: `List of ${strategy.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`, type: 'array', items: { $ref: `#/definitions/${name}` } },
        kind: { description: KIND_DESCRIPTION, type: 'string' },
        metadata: { $ref: `#/definitions/${META}.ListMeta` },
      },
      'x-kubernetes-group-version-kind': [{ group, version, kind: `${kind}List` }],
    };
  }
  return definitions;
}
