/**
 * What a migration carries and in which order, shared by `nautilus import` and `nautilus export`:
 * which served resources are read, which objects stay behind (and why), which fields the source
 * server set and the destination sets again, and the dependency order of creation.
 */
import type { DiscoveredResource, Obj } from '../client/api-client.js';

/**
 * Creation phases, in order: what others need first (namespaces, CRDs, RBAC, service accounts,
 * config, storage), then workloads, then everything else; admission webhooks last, so a webhook
 * whose backend is not running yet cannot refuse the rest of the import.
 */
const PHASES: Array<{ name: string; matches: (r: DiscoveredResource) => boolean }> = [
  { name: 'namespaces', matches: (r) => r.group === '' && r.resource === 'namespaces' },
  { name: 'custom resource definitions', matches: (r) => r.group === 'apiextensions.k8s.io' },
  { name: 'priority and policy', matches: (r) => ['scheduling.k8s.io', 'flowcontrol.apiserver.k8s.io', 'node.k8s.io'].includes(r.group) || (r.group === '' && ['limitranges', 'resourcequotas'].includes(r.resource)) },
  { name: 'rbac', matches: (r) => r.group === 'rbac.authorization.k8s.io' },
  { name: 'service accounts', matches: (r) => r.group === '' && r.resource === 'serviceaccounts' },
  { name: 'config', matches: (r) => r.group === '' && ['configmaps', 'secrets'].includes(r.resource) },
  { name: 'storage', matches: (r) => r.group === 'storage.k8s.io' || (r.group === '' && ['persistentvolumes', 'persistentvolumeclaims'].includes(r.resource)) },
  { name: 'workloads', matches: (r) => ['apps', 'batch', 'autoscaling', 'policy'].includes(r.group) || (r.group === '' && ['pods', 'replicationcontrollers', 'podtemplates'].includes(r.resource)) },
  { name: 'services and networking', matches: (r) => ['networking.k8s.io', 'discovery.k8s.io'].includes(r.group) || (r.group === '' && ['services', 'endpoints'].includes(r.resource)) },
  { name: 'everything else', matches: (r) => !['admissionregistration.k8s.io', 'apiregistration.k8s.io'].includes(r.group) },
  { name: 'admission and api services', matches: () => true },
];

export function phaseOf(resource: DiscoveredResource): number {
  return PHASES.findIndex((phase) => phase.matches(resource));
}

export function phaseName(index: number): string {
  return PHASES[index].name;
}

/** Resources that are not state to move: generated, per-cluster, or not objects at all. */
const NOT_MIGRATED = new Map<string, string>([
  ['events', 'events are a log of the source cluster'],
  ['events.events.k8s.io', 'events are a log of the source cluster'],
  ['nodes', 'nodes register themselves with the destination'],
  ['componentstatuses', 'computed by the server'],
  ['leases.coordination.k8s.io', 'leases are held by running components'],
  ['controllerrevisions.apps', 'owned by their controllers, which write them again'],
  ['certificatesigningrequests.certificates.k8s.io', 'signed by the source cluster'],
  ['csinodes.storage.k8s.io', 'written by the nodes'],
  ['volumeattachments.storage.k8s.io', 'written by the attach controller'],
]);

export function resourceLabel(resource: { resource: string; group: string }): string {
  return resource.group ? `${resource.resource}.${resource.group}` : resource.resource;
}

/** The served resources a migration reads, one version per group; the others with the reason. */
export function migratedResources(discovered: readonly DiscoveredResource[]): { resources: DiscoveredResource[]; left: Array<{ resource: string; reason: string }> } {
  const resources: DiscoveredResource[] = [];
  const left: Array<{ resource: string; reason: string }> = [];
  const seen = new Set<string>();
  for (const resource of discovered) {
    const label = resourceLabel(resource);
    if (seen.has(label)) continue;
    seen.add(label);
    const reason = NOT_MIGRATED.get(label);
    if (reason) left.push({ resource: label, reason });
    else if (!resource.verbs.includes('list') || !resource.verbs.includes('create')) continue; // reviews, bindings, read-only views
    else resources.push(resource);
  }
  resources.sort((a, b) => phaseOf(a) - phaseOf(b));
  return { resources, left };
}

/** Why an object stays behind, or undefined when it is migrated. */
export function skipReason(resource: DiscoveredResource, object: Obj): string | undefined {
  const meta = object.metadata;
  if (meta.ownerReferences?.some((ref: { controller?: boolean }) => ref.controller)) return 'managed by its controller, which creates it again';
  if (meta.deletionTimestamp) return 'being deleted';
  if (meta.labels?.['kubernetes.io/bootstrapping'] === 'rbac-defaults') return "the destination's own bootstrap policy";
  const label = resourceLabel(resource);
  if (label === 'configmaps' && meta.name === 'kube-root-ca.crt') return "published by the destination's root-ca-cert-publisher";
  if (label === 'configmaps' && meta.namespace === 'kube-system' && meta.name === 'extension-apiserver-authentication') return "the destination's own";
  if (label === 'secrets' && object.type === 'kubernetes.io/service-account-token') return "a token signed by the source cluster's key";
  if (meta.namespace === 'default' && meta.name === 'kubernetes' && ['services', 'endpoints', 'endpointslices.discovery.k8s.io'].includes(label)) return "the destination's own API service";
  if (label === 'endpointslices.discovery.k8s.io' && meta.labels?.['endpointslice.kubernetes.io/managed-by']) return 'managed by the endpoint slice controller';
  if (label === 'apiservices.apiregistration.k8s.io' && !object.spec?.service) return 'served by the destination itself';
  return undefined;
}

/**
 * The object as the destination should receive it: without what the source server set (uid,
 * resourceVersion, generation, creationTimestamp, managedFields, selfLink, deletion fields) and
 * without status where a status subresource makes it derived state, written by controllers.
 * Kept: names, labels, annotations, finalizers, spec, data; a Service's clusterIP (the import
 * retries without it when the destination's service range refuses it).
 */
export function cleanForMigration(resource: DiscoveredResource, object: Obj): Obj {
  const { uid: _uid, resourceVersion: _rv, generation: _gen, creationTimestamp: _ct, managedFields: _mf, selfLink: _sl, deletionTimestamp: _dt, deletionGracePeriodSeconds: _dg, ...metadata } = object.metadata as Record<string, unknown>;
  const cleaned: Obj = { ...object, metadata: metadata as Obj['metadata'] };
  cleaned.apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
  cleaned.kind = resource.kind;
  if (resource.subresources?.includes('status')) delete cleaned.status;
  return cleaned;
}

/** A Service without its allocated addresses, for a destination whose service range differs. */
export function withoutClusterIps(object: Obj): Obj {
  const spec = { ...object.spec };
  if (spec.clusterIP === 'None') return object;
  delete spec.clusterIP;
  delete spec.clusterIPs;
  return { ...object, spec };
}
