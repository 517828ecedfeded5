/**
 * The served kinds' OpenAPI documents, and what the REST layer derives from them: the patch
 * schema strategic merge patch and server-side apply walk, and the schema check (unknown
 * fields for fieldValidation, wrongly typed values) and what a typed round trip drops. One
 * OpenAPI source of truth for all of them.
 */
import { checkAgainstSchema, createOpenApi, type OpenApiService, type SchemaCheck } from './openapi/index.js';
import { schemaFromOpenApi, type OpenApiSchemaObject, type PatchSchema } from './patch/schema.js';
import type { KindStrategy } from '../registry/strategy.js';
import type { Definitions } from './openapi/definitions.js';
import { dropOmittedValues } from './openapi/omit-empty.js';

export interface KindSchemas {
  openapi: OpenApiService;
  patchSchema(strategy: KindStrategy): PatchSchema | undefined;
  /** Unknown fields and wrongly typed values of an object of this kind; `prune` drops the unknown ones. */
  checkSchema(strategy: KindStrategy, object: unknown, prune?: boolean): SchemaCheck;
  /** Drops, in place, what upstream's typed round trip of a built-in object drops (omitempty). */
  dropOmitted(strategy: KindStrategy, object: unknown): void;
}

/** `extraDefinitions`: schemas of kinds the generated definitions do not have (custom resources). */
export function buildKindSchemas(kinds: readonly KindStrategy[], extraDefinitions?: Definitions): KindSchemas {
  const openapi = createOpenApi(
    kinds.map((kind) => ({
      group: kind.group,
      version: kind.version,
      kind: kind.kind,
      plural: kind.plural,
      namespaced: kind.namespaced,
      verbs: kind.verbs ?? ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      subresources: [...(kind.statusSubresource ? ['status'] : []), ...(kind.scale ? ['scale'] : []), ...(kind.kind === 'Pod' && kind.group === '' ? ['binding', 'eviction'] : [])],
    })),
    { advertiseFieldValidation: true, extraDefinitions },
  );
  const definitions = openapi.definitions() as Record<string, OpenApiSchemaObject>;
  const cache = new Map<KindStrategy, PatchSchema | undefined>();
  const definitionName = (strategy: KindStrategy) => openapi.definitionNameFor(strategy.group, strategy.version, strategy.kind);
  return {
    openapi,
    patchSchema(strategy) {
      if (!cache.has(strategy)) {
        const name = definitionName(strategy);
        cache.set(strategy, name ? schemaFromOpenApi(definitions, name) : undefined);
      }
      return cache.get(strategy);
    },
    checkSchema(strategy, object, prune) {
      // Custom resources are checked by their own structural schema (types by its validation).
      if (strategy.unknownFields) return { unknownFields: strategy.unknownFields(object as never, prune ?? false), typeMismatches: [] };
      const name = definitionName(strategy);
      return name ? checkAgainstSchema(openapi.definitions(), name, object, prune) : { unknownFields: [], typeMismatches: [] };
    },
    dropOmitted(strategy, object) {
      // Custom resources are unstructured upstream too: they keep what they were given.
      if (strategy.unknownFields) return;
      const name = definitionName(strategy);
      if (name) dropOmittedValues(openapi.definitions(), name, object);
    },
  };
}
