/** A real registry over a real in-memory store, and the in-process client on it. */
import { allKinds } from '../../src/registry/catalog.js';
import { Registry } from '../../src/registry/registry.js';
import { Store } from '../../src/storage/store.js';
import { InProcessClient } from '../../src/client/in-process.js';
import { LOOPBACK_USER } from '../../src/auth/system-users.js';
import { NAMESPACES } from '../../src/client/resource-types.js';
import { buildKindSchemas } from '../../src/api/schemas.js';

export async function inMemoryCluster(namespaces: string[] = ['default']) {
  const store = new Store();
  const registry = new Registry(allKinds, store);
  const client = new InProcessClient({ registry, user: LOOPBACK_USER, fieldManager: 'test', patchSchema: buildKindSchemas(allKinds).patchSchema });
  for (const name of namespaces) await client.create(NAMESPACES, undefined, { metadata: { name } });
  return { store, registry, client };
}

export function pod(namespace: string, name: string, labels: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...extra } };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
