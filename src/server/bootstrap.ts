/** What every cluster has from the start: the system namespaces and the `kubernetes` Service. */
import { ApiError } from '../api/status.js';
import type { Registry } from '../registry/registry.js';
import type { Obj } from '../registry/strategy.js';

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const KUBERNETES_SERVICE_IP = '10.96.0.1';

async function ensure(registry: Registry, group: string, plural: string, object: Obj): Promise<void> {
  const generic = registry.of(group, plural);
  if (generic.tryGet(object.metadata.namespace, object.metadata.name!)) return;
  try {
    await generic.create(object);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 409)) throw error;
  }
}

export async function bootstrapCluster(registry: Registry, advertisedAddress: string, port: number): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) {
    await ensure(registry, '', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  const labels = { component: 'apiserver', provider: 'kubernetes' };
  await ensure(registry, '', 'services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels },
    spec: { type: 'ClusterIP', clusterIP: KUBERNETES_SERVICE_IP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }], sessionAffinity: 'None' },
  });
  const ip = /^\d+\.\d+\.\d+\.\d+$/.test(advertisedAddress) ? advertisedAddress : '127.0.0.1';
  await ensure(registry, '', 'endpoints', {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
  });
}
