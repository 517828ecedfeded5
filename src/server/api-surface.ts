/**
 * What the server derives from the served kinds — discovery documents, the OpenAPI documents and
 * the schemas patches and field validation read — kept current as custom resources are installed
 * and removed. Rebuilt whole on each change (CRD writes are rare; requests read the current set).
 */
import { buildDiscovery, type DiscoveryDocuments, type ExtraSubresource } from '../api/discovery.js';
import { buildKindSchemas, type KindSchemas } from '../api/schemas.js';
import type { PatchSchema } from '../api/patch/schema.js';
import type { SchemaCheck } from '../api/openapi/index.js';
import type { Registry } from '../registry/registry.js';
import type { KindStrategy } from '../registry/strategy.js';
import { isCustomResource } from '../apiextensions/custom-resource-strategy.js';
import { customResourceDefinitions } from '../apiextensions/openapi.js';
import type { OpenApiEndpoint } from './server.js';

export interface ApiSurfaceOptions {
  /** Served but not stored (e.g. the attestation resource): discovery only. */
  discoveryOnly?: readonly KindStrategy[];
  extraSubresources?: readonly ExtraSubresource[];
  serverAddress: string;
}

export class ApiSurface {
  private discoveryDocuments!: DiscoveryDocuments;
  private schemas!: KindSchemas;
  /** Discovery of groups served elsewhere (aggregated APIs), merged in. */
  private aggregated: readonly KindStrategy[] = [];

  constructor(
    private readonly registry: Registry,
    private readonly options: ApiSurfaceOptions,
  ) {
    this.rebuild();
    registry.onChange(() => this.rebuild());
  }

  get discovery(): DiscoveryDocuments {
    return this.discoveryDocuments;
  }

  /** Resources of aggregated API groups, as their servers' discovery lists them. */
  setAggregated(kinds: readonly KindStrategy[]): void {
    this.aggregated = kinds;
    this.rebuildDiscovery();
  }

  readonly openapi: OpenApiEndpoint = {
    handle: (path, query, headers) => this.schemas.openapi.handle(path, query, headers),
  };

  readonly patchSchema = (strategy: KindStrategy): PatchSchema | undefined => this.schemas.patchSchema(strategy);

  readonly checkSchema = (strategy: KindStrategy, object: unknown, prune?: boolean): SchemaCheck => this.schemas.checkSchema(strategy, object, prune);

  readonly dropOmitted = (strategy: KindStrategy, object: unknown): void => this.schemas.dropOmitted(strategy, object);

  private rebuild(): void {
    const kinds = this.registry.kinds;
    const custom = kinds.filter(isCustomResource);
    this.schemas = buildKindSchemas(kinds, custom.length > 0 ? customResourceDefinitions(custom) : undefined);
    this.rebuildDiscovery();
  }

  private rebuildDiscovery(): void {
    const kinds = [...this.registry.kinds, ...(this.options.discoveryOnly ?? []), ...this.aggregated];
    this.discoveryDocuments = buildDiscovery(kinds, this.options.extraSubresources, this.options.serverAddress);
  }
}
