/** What every cluster has from the start: the system namespaces and priority classes (the `kubernetes` Service: kubernetes-service.ts). */
import { ApiError } from '../api/status.js';
import type { Registry } from '../registry/registry.js';
import type { Obj } from '../registry/strategy.js';
import { SYSTEM_PRIORITY_CLASSES } from '../registry/priority-classes.js';

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const PRIORITY_CLASS_DESCRIPTIONS: Record<string, string> = {
  'system-node-critical': 'Used for system critical pods that must not be moved from their current node.',
  'system-cluster-critical': 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
};

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
  for (const [name, value] of Object.entries(SYSTEM_PRIORITY_CLASSES)) {
    await ensure(registry, 'scheduling.k8s.io', 'priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, description: PRIORITY_CLASS_DESCRIPTIONS[name] } as Obj);
  }
}
