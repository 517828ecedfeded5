/** Reads every migrated object of a cluster, page by page, through the HTTP client. */
import type { ApiClient, DiscoveredResource, Obj } from '../client/api-client.js';
import { cleanForMigration, migratedResources, resourceLabel, skipReason } from './plan.js';

export interface SourceObject {
  resource: DiscoveredResource;
  /** As the destination receives it (server-set fields removed). */
  object: Obj;
  /** The source's uid, to re-point owner references at the copy. */
  sourceUid: string;
}

export interface Skipped {
  what: string;
  reason: string;
}

export interface SourceState {
  objects: SourceObject[];
  skipped: Skipped[];
  /** Resources not read at all, with the reason. */
  resourcesLeft: Array<{ resource: string; reason: string }>;
}

const PAGE = 500;

export function describe(resource: DiscoveredResource, object: Obj): string {
  const meta = object.metadata;
  return `${resourceLabel(resource)} ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name}`;
}

/** Everything migrated, in creation order; `namespaces` limits it to those namespaces (and their Namespace objects). */
export async function readSource(client: ApiClient, namespaces: readonly string[] = []): Promise<SourceState> {
  const { resources, left } = migratedResources(await client.discover());
  const only = namespaces.length > 0 ? new Set(namespaces) : undefined;
  const objects: SourceObject[] = [];
  const skipped: Skipped[] = [];
  for (const resource of resources) {
    const isNamespaceKind = resource.group === '' && resource.resource === 'namespaces';
    if (only && !resource.namespaced && !isNamespaceKind) continue;
    const scopes: Array<string | undefined> = only && resource.namespaced ? [...only] : [undefined];
    for (const namespace of scopes) {
      let token: string | undefined;
      do {
        const page = await client.list(resource, namespace, { limit: PAGE, continue: token });
        for (const item of page.items) {
          if (only && isNamespaceKind && !only.has(item.metadata.name!)) continue;
          const reason = skipReason(resource, item);
          if (reason) skipped.push({ what: describe(resource, item), reason });
          else objects.push({ resource, object: cleanForMigration(resource, item), sourceUid: item.metadata.uid ?? '' });
        }
        token = page.continue;
      } while (token);
    }
  }
  return { objects, skipped, resourcesLeft: left };
}
