/** A real registry and store guarded by the server's whole admission chain, optionally with controllers running. */
import { Registry as MetricsRegistry } from 'prom-client';
import { AdmissionChain } from '../../src/admission/admission.js';
import { defaultAdmissionPlugins } from '../../src/admission/plugins.js';
import { buildKindSchemas } from '../../src/api/schemas.js';
import { LOOPBACK_USER } from '../../src/auth/system-users.js';
import { InProcessClient } from '../../src/client/in-process.js';
import { InformerFactory } from '../../src/client/informer-factory.js';
import { NAMESPACES, SERVICE_ACCOUNTS } from '../../src/client/resource-types.js';
import { ControllerManager, type ControllerDefinition } from '../../src/controllers/manager.js';
import { allKinds } from '../../src/registry/catalog.js';
import { Registry } from '../../src/registry/registry.js';
import type { Obj } from '../../src/registry/strategy.js';
import { Store } from '../../src/storage/store.js';

export async function admissionCluster(options: { namespaces?: Array<{ name: string; labels?: Record<string, string> }>; controllers?: readonly ControllerDefinition[] } = {}) {
  let registryRef: Registry | undefined;
  const registry = new Registry(allKinds, new Store(), { admission: new AdmissionChain(defaultAdmissionPlugins({ registry: () => registryRef! })) });
  registryRef = registry;
  const client = new InProcessClient({ registry, user: LOOPBACK_USER, fieldManager: 'test', patchSchema: buildKindSchemas(allKinds).patchSchema });
  for (const ns of options.namespaces ?? [{ name: 'default' }]) {
    await client.create(NAMESPACES, undefined, { metadata: { name: ns.name, labels: ns.labels } });
    // What the serviceaccount controller would create; the ServiceAccount plugin needs it.
    await client.create(SERVICE_ACCOUNTS, ns.name, { metadata: { name: 'default' } });
  }
  const informers = new InformerFactory(client);
  const manager = options.controllers ? new ControllerManager(options.controllers, { clientFor: (user, fieldManager) => client.as(user, fieldManager), informers, metrics: new MetricsRegistry() }) : undefined;
  await manager?.start();
  return {
    registry,
    client,
    /** Creates through the registry directly, collecting the warnings admission sends the client. */
    async create(group: string, plural: string, object: Obj): Promise<{ object: Obj; warnings: string[] }> {
      const warnings: string[] = [];
      const stored = await registry.of(group, plural).create(object, { warnings, user: { name: 'alice', groups: ['system:authenticated'] } });
      return { object: stored.object as Obj, warnings };
    },
    async update(group: string, plural: string, object: Obj): Promise<{ object: Obj; warnings: string[] }> {
      const warnings: string[] = [];
      const stored = await registry.of(group, plural).update(object.metadata.namespace, object.metadata.name!, object, { warnings, user: { name: 'alice', groups: ['system:authenticated'] } });
      return { object: stored.object as Obj, warnings };
    },
    async stop() {
      await manager?.stop();
      informers.stop();
    },
  };
}

export function pod(namespace: string, name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): Obj {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, ...metadata }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec } } as Obj;
}

/** A container that satisfies the restricted profile. */
export const RESTRICTED_CONTAINER = {
  name: 'c',
  image: 'nginx',
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
};

/** Polls until `check` passes (bounded): controllers act asynchronously. */
export { eventually } from '../controllers/fixture.js';
