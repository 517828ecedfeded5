/**
 * NodeRestriction (upstream's plugin/pkg/admission/noderestriction): narrows what a kubelet
 * (`system:node:<name>` in `system:nodes`) may write beyond what the Node authorizer lets it
 * reach — only its own Node object (never its taints, nor labels outside the kubelet's allowed
 * set), only mirror pods bound to itself and holding no credentials, status of and deletion of
 * pods bound to itself, and only its own Lease and CSINode.
 */
import { jsonEqual } from '../../api/object.js';
import type { Obj } from '../../registry/strategy.js';
import type { Fields } from '../../registry/common/fields.js';
import { admissionForbidden, type AdmissionAttributes, type AdmissionPlugin } from '../admission.js';

const NODE_PREFIX = 'system:node:';
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** The node a request comes from, or undefined when the user is not a node. */
export function requestingNode(attributes: AdmissionAttributes): string | undefined {
  const user = attributes.user;
  if (!user || !user.name.startsWith(NODE_PREFIX) || !user.groups.includes('system:nodes')) return undefined;
  return user.name.slice(NODE_PREFIX.length) || undefined;
}

const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname', 'kubernetes.io/arch', 'kubernetes.io/os', 'beta.kubernetes.io/arch', 'beta.kubernetes.io/os', 'beta.kubernetes.io/instance-type',
  'failure-domain.beta.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.kubernetes.io/region', 'node.kubernetes.io/instance-type',
]);
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

/** Labels in the kubernetes.io / k8s.io namespaces a kubelet may not set on itself (upstream's node-restriction rules). */
function forbiddenLabel(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return false;
  const prefix = key.slice(0, slash);
  if (prefix === 'node-restriction.kubernetes.io' || prefix.endsWith('.node-restriction.kubernetes.io')) return true;
  const isKubernetes = prefix === 'kubernetes.io' || prefix.endsWith('.kubernetes.io') || prefix === 'k8s.io' || prefix.endsWith('.k8s.io');
  if (!isKubernetes || KUBELET_LABELS.has(key)) return false;
  return !KUBELET_LABEL_NAMESPACES.some((ns) => prefix === ns || prefix.endsWith(`.${ns}`));
}

function referencesKind(spec: Fields, kind: 'secrets' | 'configmaps' | 'persistentvolumeclaims'): boolean {
  const volumes: Fields[] = Array.isArray(spec.volumes) ? spec.volumes : [];
  const containers: Fields[] = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
  const envRefs = (field: 'secretKeyRef' | 'configMapKeyRef', fromField: 'secretRef' | 'configMapRef') =>
    containers.some((c) => (c?.env ?? []).some((e: Fields) => e?.valueFrom?.[field]) || (c?.envFrom ?? []).some((e: Fields) => e?.[fromField]));
  const projected = (source: 'secret' | 'configMap') => volumes.some((v) => (v?.projected?.sources ?? []).some((s: Fields) => s?.[source]));
  if (kind === 'secrets') return (spec.imagePullSecrets ?? []).length > 0 || volumes.some((v) => v?.secret) || projected('secret') || envRefs('secretKeyRef', 'secretRef');
  if (kind === 'configmaps') return volumes.some((v) => v?.configMap) || projected('configMap') || envRefs('configMapKeyRef', 'configMapRef');
  return volumes.some((v) => v?.persistentVolumeClaim || v?.ephemeral);
}

function checkMirrorPodCreate(attributes: AdmissionAttributes, node: string, pod: Obj): void {
  const refuse = (why: string) => admissionForbidden(attributes, why);
  if (pod.metadata.annotations?.[MIRROR_ANNOTATION] === undefined) throw refuse(`pod does not have "${MIRROR_ANNOTATION}" annotation, node "${node}" can only create mirror pods`);
  if (pod.spec?.nodeName !== node) throw refuse(`node "${node}" can only create pods with spec.nodeName set to itself`);
  const owners: Fields[] = pod.metadata.ownerReferences ?? [];
  if (owners.length > 1) throw refuse(`node "${node}" can only create pods with a single owner reference set to itself`);
  if (owners.length === 1 && !(owners[0].apiVersion === 'v1' && owners[0].kind === 'Node' && owners[0].name === node)) {
    throw refuse(`node "${node}" can only create pods with an owner reference set to itself`);
  }
  const spec = pod.spec ?? {};
  if (spec.serviceAccountName) throw refuse(`node "${node}" can not create pods that use service accounts`);
  for (const kind of ['secrets', 'configmaps', 'persistentvolumeclaims'] as const) if (referencesKind(spec, kind)) throw refuse(`node "${node}" can not create pods that reference ${kind}`);
}

function checkPod(attributes: AdmissionAttributes, node: string): void {
  const refuse = (why: string) => admissionForbidden(attributes, why);
  const bound = (attributes.oldObject ?? attributes.object)?.spec?.nodeName;
  switch (attributes.subresource ?? '') {
    case '':
      if (attributes.operation === 'CREATE') return checkMirrorPodCreate(attributes, node, attributes.object!);
      if (attributes.operation === 'DELETE') {
        if (bound !== node) throw refuse(`node "${node}" can only delete pods with spec.nodeName set to itself`);
        return;
      }
      throw refuse(`unexpected operation "${attributes.operation}", node "${node}" can only create and delete mirror pods`);
    case 'status':
      if (bound !== node) throw refuse(`node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
      return;
    case 'eviction':
      if (bound !== node) throw refuse(`node "${node}" can only evict pods with spec.nodeName set to itself`);
      return;
    default:
      throw refuse(`unexpected subresource "${attributes.subresource}", node "${node}" can only update pod status`);
  }
}

function checkNode(attributes: AdmissionAttributes, node: string): void {
  const refuse = (why: string) => admissionForbidden(attributes, why);
  const target = attributes.name ?? attributes.object?.metadata.name;
  if (target !== node) throw refuse(`node "${node}" is not allowed to modify node "${target ?? ''}"`);
  const object = attributes.object;
  if (!object || attributes.operation === 'DELETE') return;
  const labels: Record<string, string> = object.metadata.labels ?? {};
  if (attributes.operation === 'CREATE') {
    const bad = Object.keys(labels).filter(forbiddenLabel).sort();
    if (bad.length > 0) throw refuse(`node "${node}" is not allowed to set the following labels: ${bad.join(', ')}`);
    return;
  }
  const old = attributes.oldObject;
  if (!old) return;
  if (!attributes.subresource && !jsonEqual(object.spec?.taints ?? [], old.spec?.taints ?? [])) throw refuse(`node "${node}" is not allowed to modify taints`);
  const oldLabels: Record<string, string> = old.metadata.labels ?? {};
  const changed = [...new Set([...Object.keys(labels), ...Object.keys(oldLabels)])].filter((key) => labels[key] !== oldLabels[key] && forbiddenLabel(key)).sort();
  if (changed.length > 0) throw refuse(`node "${node}" is not allowed to modify labels: ${changed.join(', ')}`);
}

function check(attributes: AdmissionAttributes): void {
      const node = requestingNode(attributes);
      if (!node) return;
      const resource = `${attributes.resource.group}/${attributes.resource.resource}`;
      if (resource === '/pods') return checkPod(attributes, node);
      if (resource === '/nodes') return checkNode(attributes, node);
      if (resource === 'coordination.k8s.io/leases') {
        if (attributes.namespace !== NODE_LEASE_NAMESPACE) throw admissionForbidden(attributes, `can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
        if (attributes.name !== node) throw admissionForbidden(attributes, 'can only access node lease with the same name as the requesting node');
        return;
      }
      if (resource === 'storage.k8s.io/csinodes' && attributes.name !== node) throw admissionForbidden(attributes, 'can only access CSINode with the same name as the requesting node');
}

export function nodeRestriction(): AdmissionPlugin {
  return {
    name: 'NodeRestriction',
    // Upstream's is a mutating-phase plugin: it judges the object as the kubelet sent it, before
    // the strategy fills in defaults. Deletes only pass the validating phase here.
    admit(attributes) {
      if (attributes.operation !== 'DELETE') check(attributes);
    },
    validate(attributes) {
      if (attributes.operation === 'DELETE') check(attributes);
    },
  };
}
