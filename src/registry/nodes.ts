/** core/v1 Node. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject, jsonEqual } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { labelValueErrors, qualifiedNameErrors, validateOneOf } from './common/validation.js';
import { isCidr } from './common/network.js';
import { type Fields, listAt, mapAt } from './common/fields.js';

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const ROLE_LABEL_PREFIX = 'node-role.kubernetes.io/';
const LEGACY_ROLE_LABEL = 'kubernetes.io/role';

/** "Ready", "NotReady", "Unknown", plus ",SchedulingDisabled" when cordoned. */
function nodeStatus(node: Obj): string {
  const ready = listAt(node.status, 'conditions').find((c) => c.type === 'Ready');
  const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

/** Roles come from node-role.kubernetes.io/<role> labels and the legacy kubernetes.io/role label. */
function nodeRoles(node: Obj): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries((node.metadata.labels ?? {}) as Record<string, string>)) {
    if (key.startsWith(ROLE_LABEL_PREFIX) && key.length > ROLE_LABEL_PREFIX.length) roles.add(key.slice(ROLE_LABEL_PREFIX.length));
    else if (key === LEGACY_ROLE_LABEL && value !== '') roles.add(value);
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

function address(node: Obj, type: string): string {
  return listAt(node.status, 'addresses').find((a) => a.type === type)?.address ?? '<none>';
}

function nodeInfo(node: Obj, field: string): string {
  return node.status?.nodeInfo?.[field] || '<unknown>';
}

function validateTaints(taints: unknown): FieldError[] {
  if (taints === undefined) return [];
  if (!Array.isArray(taints)) return [fieldErrors.typeInvalid('spec.taints', taints, 'must be a list')];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  taints.forEach((taint: Obj, i: number) => {
    const field = `spec.taints[${i}]`;
    if (typeof taint?.key !== 'string' || taint.key === '') errs.push(fieldErrors.required(`${field}.key`));
    else for (const p of qualifiedNameErrors(taint.key)) errs.push(fieldErrors.invalid(`${field}.key`, taint.key, p));
    if (typeof taint?.value === 'string') for (const p of labelValueErrors(taint.value)) errs.push(fieldErrors.invalid(`${field}.value`, taint.value, p));
    errs.push(...validateOneOf(taint?.effect, `${field}.effect`, TAINT_EFFECTS, true));
    const identity = `${taint?.key}:${taint?.effect}`;
    if (seen.has(identity)) errs.push(fieldErrors.duplicate(field, `${taint?.key}=${taint?.value ?? ''}:${taint?.effect}`));
    seen.add(identity);
  });
  return errs;
}

/** podCIDR mirrors podCIDRs[0] (see defaults), so podCIDRs alone is checked, as upstream does. */
function validatePodCidrs(spec: Fields): FieldError[] {
  const errs: FieldError[] = [];
  for (const [i, cidr] of ((Array.isArray(spec.podCIDRs) ? spec.podCIDRs : []) as unknown[]).entries()) {
    if (!isCidr(cidr)) errs.push(fieldErrors.invalid(`spec.podCIDRs[${i}]`, cidr, 'must be a valid CIDR'));
  }
  return errs;
}

/** Pod CIDRs (node IPAM) and the provider ID (cloud provider) are set once. */
function validateSetOnce(node: Obj, old: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const oldCidrs: unknown[] = old.spec?.podCIDRs ?? [];
  if (oldCidrs.length > 0 && !jsonEqual(node.spec?.podCIDRs ?? [], oldCidrs)) {
    errs.push(fieldErrors.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  }
  if (old.spec?.providerID && node.spec?.providerID !== old.spec.providerID) {
    errs.push(fieldErrors.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  }
  return errs;
}

export const nodes: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  shortNames: ['no'],
  namespaced: false,
  statusSubresource: true,

  defaults(node) {
    const spec = mapAt(node, 'spec');
    if (!spec) return;
    // podCIDR is the first of podCIDRs; upstream's conversion keeps the two in step.
    if (spec.podCIDR && !Array.isArray(spec.podCIDRs)) spec.podCIDRs = [spec.podCIDR];
    else if (!spec.podCIDR && Array.isArray(spec.podCIDRs) && spec.podCIDRs.length > 0) spec.podCIDR = spec.podCIDRs[0];
    // Allocatable defaults to capacity (upstream SetDefaults_NodeStatus).
    if (isPlainObject(node.status) && isPlainObject(node.status.capacity) && node.status.allocatable === undefined) {
      node.status.allocatable = { ...node.status.capacity };
    }
  },
  // Nodes may set their status on create: the kubelet registers itself with its status.
  validate(node, old) {
    const spec: Fields = isPlainObject(node.spec) ? node.spec : {};
    const errs = [...validateTaints(spec.taints), ...validatePodCidrs(spec)];
    if (old) errs.push(...validateSetOnce(node, old));
    return errs;
  },

  columns: [
    { name: 'Status', type: 'string', description: 'The status of the node', cell: nodeStatus },
    { name: 'Roles', type: 'string', description: 'The roles of the node', cell: nodeRoles },
    ageColumn,
    { name: 'Version', type: 'string', description: 'Kubelet Version reported by the node.', cell: (n) => n.status?.nodeInfo?.kubeletVersion ?? '' },
    { name: 'Internal-IP', type: 'string', priority: 1, description: 'List of addresses reachable to the node.', cell: (n) => address(n, 'InternalIP') },
    { name: 'External-IP', type: 'string', priority: 1, description: 'List of addresses reachable to the node.', cell: (n) => address(n, 'ExternalIP') },
    { name: 'OS-Image', type: 'string', priority: 1, description: 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', cell: (n) => nodeInfo(n, 'osImage') },
    { name: 'Kernel-Version', type: 'string', priority: 1, description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", cell: (n) => nodeInfo(n, 'kernelVersion') },
    { name: 'Container-Runtime', type: 'string', priority: 1, description: 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', cell: (n) => nodeInfo(n, 'containerRuntimeVersion') },
  ],
  fieldSelectors: {
    'spec.unschedulable': (n) => String(n.spec?.unschedulable ?? false),
  },
};
