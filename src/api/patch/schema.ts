/**
 * The view of an API type's schema that the strategic-merge-patch engine reads, and an adapter
 * that provides it from OpenAPI definitions (v2 `#/definitions/...` or v3
 * `#/components/schemas/...`) carrying the x-kubernetes-* extensions.
 *
 * References are resolved lazily, when a field is first looked at, so recursive types
 * (JSONSchemaProps) and large documents cost nothing up front.
 */

export interface PatchSchema {
  /** Schema of an object field. */
  property(name: string): PatchSchema | undefined;
  /** Schema of array elements. */
  items(): PatchSchema | undefined;
  /** Schema of map values. */
  additionalProperties(): PatchSchema | undefined;
  /** e.g. "merge", "retainKeys", "merge,retainKeys", "replace". */
  readonly patchStrategy?: string;
  readonly patchMergeKey?: string;
  readonly listType?: 'atomic' | 'set' | 'map';
  readonly listMapKeys?: readonly string[];
}

/** The parts of an OpenAPI schema object this module reads; other members are ignored. */
export interface OpenApiSchemaObject {
  readonly $ref?: string;
  readonly allOf?: readonly OpenApiSchemaObject[];
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, OpenApiSchemaObject>>;
  readonly items?: OpenApiSchemaObject | readonly OpenApiSchemaObject[];
  readonly additionalProperties?: boolean | OpenApiSchemaObject;
  readonly 'x-kubernetes-patch-strategy'?: string;
  readonly 'x-kubernetes-patch-merge-key'?: string;
  readonly 'x-kubernetes-list-type'?: string;
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
  readonly [member: string]: unknown;
}

const refPrefixes = ['#/definitions/', '#/components/schemas/'];

/**
 * @param definitions the document's definitions (v2) or components.schemas (v3), by name
 * @param rootRef the root type, as a `$ref` ("#/definitions/io.k8s.api.core.v1.Pod") or a bare name
 */
export function schemaFromOpenApi(
  definitions: Readonly<Record<string, OpenApiSchemaObject>>,
  rootRef: string,
): PatchSchema {
  const resolver = new OpenApiResolver(definitions);
  const rootName = refPrefixes.some((prefix) => rootRef.startsWith(prefix)) ? rootRef : `${refPrefixes[0]}${rootRef}`;
  const root = resolver.resolve(rootName);
  if (!root) throw new Error(`OpenAPI definition ${JSON.stringify(rootRef)} not found`);
  return resolver.wrap(root);
}

class OpenApiResolver {
  private readonly wrapped = new WeakMap<OpenApiSchemaObject, PatchSchema>();

  constructor(private readonly definitions: Readonly<Record<string, OpenApiSchemaObject>>) {}

  resolve(ref: string): OpenApiSchemaObject | undefined {
    const prefix = refPrefixes.find((candidate) => ref.startsWith(candidate));
    if (!prefix) return undefined;
    const name = ref.slice(prefix.length).replace(/~1/g, '/').replace(/~0/g, '~');
    return Object.hasOwn(this.definitions, name) ? this.definitions[name] : undefined;
  }

  wrap(node: OpenApiSchemaObject): PatchSchema {
    let schema = this.wrapped.get(node);
    if (!schema) {
      schema = new OpenApiPatchSchema(this.facets(node), this);
      this.wrapped.set(node, schema);
    }
    return schema;
  }

  /**
   * The node followed by everything it refers to through $ref and allOf. A v3 property is
   * `{allOf: [{$ref}], x-kubernetes-patch-strategy: ...}`: its own extensions come first,
   * the referenced type supplies the fields.
   */
  private facets(node: OpenApiSchemaObject): OpenApiSchemaObject[] {
    const seen = new Set<OpenApiSchemaObject>();
    const visit = (current: OpenApiSchemaObject | undefined): void => {
      if (!current || seen.has(current)) return;
      seen.add(current);
      if (typeof current.$ref === 'string') visit(this.resolve(current.$ref));
      for (const member of current.allOf ?? []) visit(member);
    };
    visit(node);
    return [...seen];
  }
}

class OpenApiPatchSchema implements PatchSchema {
  readonly patchStrategy?: string;
  readonly patchMergeKey?: string;
  readonly listType?: 'atomic' | 'set' | 'map';
  readonly listMapKeys?: readonly string[];

  constructor(
    private readonly facets: readonly OpenApiSchemaObject[],
    private readonly resolver: OpenApiResolver,
  ) {
    this.patchStrategy = this.first((facet) => stringOrUndefined(facet['x-kubernetes-patch-strategy']));
    this.patchMergeKey = this.first((facet) => stringOrUndefined(facet['x-kubernetes-patch-merge-key']));
    this.listType = this.first((facet) => {
      const listType = facet['x-kubernetes-list-type'];
      return listType === 'atomic' || listType === 'set' || listType === 'map' ? listType : undefined;
    });
    this.listMapKeys = this.first((facet) => {
      const keys = facet['x-kubernetes-list-map-keys'];
      return Array.isArray(keys) && keys.every((key) => typeof key === 'string') ? keys : undefined;
    });
  }

  /** Each property's schema, from the first facet declaring it; built on the first lookup. */
  private properties?: Map<string, OpenApiSchemaObject>;
  private itemSchema?: { schema: PatchSchema | undefined };
  private additionalSchema?: { schema: PatchSchema | undefined };

  // Patches and field ownership ask these for every member of every object they walk.
  property(name: string): PatchSchema | undefined {
    if (!this.properties) {
      this.properties = new Map();
      for (const facet of this.facets) {
        for (const [key, node] of Object.entries(facet.properties ?? {})) if (!this.properties.has(key)) this.properties.set(key, node);
      }
    }
    const node = this.properties.get(name);
    return node && this.resolver.wrap(node);
  }

  items(): PatchSchema | undefined {
    this.itemSchema ??= { schema: this.wrapFirst((facet) => (Array.isArray(facet.items) ? facet.items[0] : facet.items)) };
    return this.itemSchema.schema;
  }

  additionalProperties(): PatchSchema | undefined {
    this.additionalSchema ??= { schema: this.wrapFirst((facet) => (typeof facet.additionalProperties === 'object' ? facet.additionalProperties : undefined)) };
    return this.additionalSchema.schema;
  }

  private wrapFirst(pick: (facet: OpenApiSchemaObject) => OpenApiSchemaObject | undefined): PatchSchema | undefined {
    const node = this.first(pick);
    return node && this.resolver.wrap(node);
  }

  private first<T>(pick: (facet: OpenApiSchemaObject) => T | undefined): T | undefined {
    for (const facet of this.facets) {
      const value = pick(facet);
      if (value !== undefined) return value;
    }
    return undefined;
  }
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
