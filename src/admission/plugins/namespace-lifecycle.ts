/**
 * NamespaceLifecycle (upstream's plugin of that name): a namespaced object may only be created in
 * a namespace that exists and is not being terminated, and the system namespaces the control
 * plane itself needs can never be deleted.
 */
import type { AdmissionAttributes, AdmissionPlugin } from '../admission.js';
import type { Registry } from '../../registry/registry.js';
import { errors } from '../../api/status.js';

/** Upstream's immortal namespaces (kube-apiserver's defaults, kube-node-lease included). */
export const PROTECTED_NAMESPACES: ReadonlySet<string> = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

/**
 * Reviews of permissions in a namespace are answered even where it does not exist, so a missing
 * namespace cannot be told apart from one the user may not see (as upstream).
 */
const ACCESS_REVIEWS = new Set(['localsubjectaccessreviews']);

function check(registry: () => Registry, attributes: AdmissionAttributes): void {
  const { operation, resource, namespace, name } = attributes;
  if (operation === 'DELETE' && resource.group === '' && resource.resource === 'namespaces' && !attributes.subresource) {
    if (name && PROTECTED_NAMESPACES.has(name)) throw errors.forbiddenObject({ group: '', resource: 'namespaces' }, name, 'this namespace may not be deleted');
    return;
  }
  if (operation !== 'CREATE' || !namespace || ACCESS_REVIEWS.has(resource.resource)) return;
  const stored = registry().of('', 'namespaces').tryGet(undefined, namespace);
  if (!stored) throw errors.notFound({ group: '', resource: 'namespaces' }, namespace);
  if (stored.object.metadata.deletionTimestamp || (stored.object as { status?: { phase?: string } }).status?.phase === 'Terminating') {
    throw errors.forbiddenObject(resource, name ?? '', `unable to create new content in namespace ${namespace} because it is being terminated`, [
      { reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' },
    ]);
  }
}

export function namespaceLifecycle(registry: () => Registry): AdmissionPlugin {
  return {
    name: 'NamespaceLifecycle',
    // Creates are refused in the mutating phase, before any webhook sees them; deletes (which pass
    // only the validating phase here) in the validating one.
    admit: (attributes) => check(registry, attributes),
    validate: (attributes) => {
      if (attributes.operation === 'DELETE') check(registry, attributes);
    },
  };
}
