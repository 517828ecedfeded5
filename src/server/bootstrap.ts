/** What every cluster has from the start: the system namespaces (the `kubernetes` Service: kubernetes-service.ts). */
import { ApiError } from '../api/status.js';
import type { Registry } from '../registry/registry.js';
import type { Obj } from '../registry/strategy.js';

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function ensure(registry: Registry, group: string, plural: string, object: Obj): Promise<void> {
  const generic = registry.of(group, plural);
  if (generic.tryGet(object.metadata.namespace, object.metadata.name!)) return;
  try {
    await generic.create(object);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 409)) throw error;
  }
}

export async function bootstrapCluster(registry: Registry): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) {
    await ensure(registry, '', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
}
