/**
 * What an object costs against a ResourceQuota (upstream's quota evaluators, pkg/quota/v1):
 * object counts (`count/<resource>[.<group>]` and the legacy names `pods`, `services`, …), pod
 * compute (`requests.cpu`, `cpu`, `limits.memory`, extended resources, hugepages), PVC storage
 * (also per storage class), Service load balancers and node ports — and which quotas an object
 * falls under (scopes and scopeSelector). The admission plugin and the quota controller both
 * count with this module, so they can never disagree.
 */
import type { Obj } from '../../registry/strategy.js';
import { add, compare, max, quantity, ZERO, type Quantity } from '../quantity.js';

export type Usage = Map<string, Quantity>;

/** Core kinds with a legacy object-count name beside `count/<plural>`. */
const LEGACY_COUNT_NAMES = new Set(['pods', 'services', 'secrets', 'configmaps', 'persistentvolumeclaims', 'replicationcontrollers', 'resourcequotas']);
const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';
const NATIVE_COMPUTE = new Set(['cpu', 'memory', 'ephemeral-storage']);

/** "group/plural" as the registry names a resource ("" group for core). */
export function resourceKey(group: string, plural: string): string {
  return `${group}/${plural}`;
}

function countName(group: string, plural: string): string {
  return group ? `count/${plural}.${group}` : `count/${plural}`;
}

function one(): Quantity {
  return quantity('1');
}

function sumResources(lists: Array<Record<string, unknown> | undefined>): Map<string, Quantity> {
  const total = new Map<string, Quantity>();
  for (const list of lists) for (const [name, value] of Object.entries(list ?? {})) total.set(name, add(total.get(name) ?? ZERO, quantity(value)));
  return total;
}

function maxResources(a: Map<string, Quantity>, b: Map<string, Quantity>): Map<string, Quantity> {
  const result = new Map(a);
  for (const [name, value] of b) result.set(name, max(result.get(name) ?? ZERO, value));
  return result;
}

/** A pod's effective requests or limits: max(sum of containers, largest init container) plus overhead. */
export function podResources(spec: Obj, field: 'requests' | 'limits'): Map<string, Quantity> {
  const containers: Obj[] = Array.isArray(spec.containers) ? spec.containers : [];
  const inits: Obj[] = Array.isArray(spec.initContainers) ? spec.initContainers : [];
  let total = sumResources(containers.map((c) => c?.resources?.[field]));
  for (const init of inits) total = maxResources(total, sumResources([init?.resources?.[field]]));
  if (spec.overhead) for (const [name, value] of sumResources([spec.overhead])) if (total.has(name) || field === 'requests') total.set(name, add(total.get(name) ?? ZERO, value));
  return total;
}

/** Pods that finished (Succeeded/Failed) no longer count, as upstream's QuotaV1Pod. */
export function podCounts(pod: Obj): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

function isExtended(name: string): boolean {
  return name.includes('/') && !name.startsWith('kubernetes.io/') && !name.startsWith('requests.');
}

function podUsage(pod: Obj): Usage {
  const usage: Usage = new Map();
  if (!podCounts(pod)) return usage;
  usage.set('pods', one());
  usage.set('count/pods', one());
  const spec = pod.spec ?? {};
  for (const [name, value] of podResources(spec, 'requests')) {
    if (NATIVE_COMPUTE.has(name) || name.startsWith('hugepages-')) {
      usage.set(name, value);
      usage.set(`requests.${name}`, value);
    } else if (isExtended(name)) usage.set(`requests.${name}`, value);
  }
  for (const [name, value] of podResources(spec, 'limits')) {
    if (NATIVE_COMPUTE.has(name)) usage.set(`limits.${name}`, value);
  }
  return usage;
}

function claimUsage(claim: Obj): Usage {
  const usage: Usage = new Map([['persistentvolumeclaims', one()], ['count/persistentvolumeclaims', one()]]);
  const className: string | undefined = claim.spec?.storageClassName;
  const requested = claim.spec?.resources?.requests?.storage;
  const allocated = claim.status?.allocatedResources?.storage;
  const storage = requested === undefined && allocated === undefined ? undefined : max(quantity(requested), quantity(allocated));
  if (storage) usage.set('requests.storage', storage);
  if (className) {
    usage.set(`${className}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`, one());
    if (storage) usage.set(`${className}${STORAGE_CLASS_SUFFIX}requests.storage`, storage);
  }
  return usage;
}

function serviceUsage(service: Obj): Usage {
  const type = service.spec?.type ?? 'ClusterIP';
  const ports: Obj[] = Array.isArray(service.spec?.ports) ? service.spec.ports : [];
  const nodePorts = type === 'NodePort' || (type === 'LoadBalancer' && service.spec?.allocateLoadBalancerNodePorts !== false) ? ports.length : ports.filter((p) => p?.nodePort).length;
  return new Map([
    ['services', one()],
    ['count/services', one()],
    ['services.loadbalancers', type === 'LoadBalancer' ? one() : ZERO],
    ['services.nodeports', quantity(String(nodePorts))],
  ]);
}

/** What `object` of resource `group/plural` uses. */
export function usageOf(group: string, plural: string, object: Obj): Usage {
  if (group === '') {
    if (plural === 'pods') return podUsage(object);
    if (plural === 'persistentvolumeclaims') return claimUsage(object);
    if (plural === 'services') return serviceUsage(object);
  }
  const usage: Usage = new Map([[countName(group, plural), one()]]);
  if (group === '' && LEGACY_COUNT_NAMES.has(plural)) usage.set(plural, one());
  return usage;
}

/** Whether a quota's resource name is one `group/plural` objects can use (so the kind matters to that quota). */
export function tracks(group: string, plural: string, resourceName: string): boolean {
  if (resourceName === countName(group, plural)) return true;
  if (group !== '') return false;
  if (LEGACY_COUNT_NAMES.has(plural) && resourceName === plural) return true;
  if (plural === 'pods') {
    return /^(requests\.|limits\.)?(cpu|memory|ephemeral-storage)$/.test(resourceName) || /^(requests\.)?hugepages-/.test(resourceName) || (resourceName.startsWith('requests.') && isExtended(resourceName.slice('requests.'.length)));
  }
  if (plural === 'persistentvolumeclaims') return resourceName === 'requests.storage' || resourceName.includes(STORAGE_CLASS_SUFFIX);
  if (plural === 'services') return resourceName === 'services.loadbalancers' || resourceName === 'services.nodeports';
  return false;
}

/** The resource kind an object-count name counts ("count/deployments.apps" → apps/deployments). */
export function countedResource(resourceName: string): { group: string; plural: string } | undefined {
  if (LEGACY_COUNT_NAMES.has(resourceName)) return { group: '', plural: resourceName };
  if (!resourceName.startsWith('count/')) return undefined;
  const rest = resourceName.slice('count/'.length);
  const dot = rest.indexOf('.');
  return dot < 0 ? { group: '', plural: rest } : { group: rest.slice(dot + 1), plural: rest.slice(0, dot) };
}

interface ScopeRequirement {
  scopeName: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

function scopeRequirements(quota: Obj): ScopeRequirement[] {
  const fromScopes: ScopeRequirement[] = (Array.isArray(quota.spec?.scopes) ? quota.spec.scopes : []).map((scopeName: string) => ({ scopeName, operator: 'Exists' as const }));
  const fromSelector: ScopeRequirement[] = Array.isArray(quota.spec?.scopeSelector?.matchExpressions) ? quota.spec.scopeSelector.matchExpressions : [];
  return [...fromScopes, ...fromSelector];
}

function isBestEffort(spec: Obj): boolean {
  const containers: Obj[] = [...(Array.isArray(spec.containers) ? spec.containers : []), ...(Array.isArray(spec.initContainers) ? spec.initContainers : [])];
  return containers.every((c) => {
    for (const field of ['requests', 'limits']) {
      for (const [name, value] of Object.entries((c?.resources?.[field] ?? {}) as Record<string, unknown>)) {
        if ((name === 'cpu' || name === 'memory') && compare(quantity(value), ZERO) !== 0) return false;
      }
    }
    return true;
  });
}

function crossNamespaceAffinity(spec: Obj): boolean {
  const terms: Obj[] = [];
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const affinity = spec.affinity?.[kind];
    if (!affinity) continue;
    terms.push(...(affinity.requiredDuringSchedulingIgnoredDuringExecution ?? []));
    terms.push(...(affinity.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w: Obj) => w?.podAffinityTerm ?? {}));
  }
  return terms.some((t) => (Array.isArray(t?.namespaces) && t.namespaces.length > 0) || t?.namespaceSelector !== undefined);
}

function podMatchesScope(pod: Obj, requirement: ScopeRequirement): boolean {
  const spec = pod.spec ?? {};
  let matches: boolean;
  switch (requirement.scopeName) {
    case 'Terminating':
      matches = typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds >= 0;
      break;
    case 'NotTerminating':
      matches = !(typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds >= 0);
      break;
    case 'BestEffort':
      matches = isBestEffort(spec);
      break;
    case 'NotBestEffort':
      matches = !isBestEffort(spec);
      break;
    case 'CrossNamespacePodAffinity':
      matches = crossNamespaceAffinity(spec);
      break;
    case 'PriorityClass': {
      const name: string = spec.priorityClassName ?? '';
      const values = requirement.values ?? [];
      if (requirement.operator === 'Exists') return name !== '';
      if (requirement.operator === 'DoesNotExist') return name === '';
      if (requirement.operator === 'In') return values.includes(name);
      return !values.includes(name);
    }
    default:
      return false;
  }
  return requirement.operator === 'DoesNotExist' || requirement.operator === 'NotIn' ? !matches : matches;
}

/** Whether `object` falls under `quota`'s scopes (a quota with scopes only ever covers pods). */
export function inScope(quota: Obj, group: string, plural: string, object: Obj): boolean {
  const requirements = scopeRequirements(quota);
  if (requirements.length === 0) return true;
  if (group !== '' || plural !== 'pods') return false;
  return requirements.every((r) => podMatchesScope(object, r));
}

/** The compute resources every container must state when a quota limits them (upstream's backward-compatibility rule). */
const MUST_SPECIFY = new Map([
  ['cpu', ['requests', 'cpu']], ['requests.cpu', ['requests', 'cpu']], ['memory', ['requests', 'memory']], ['requests.memory', ['requests', 'memory']],
  ['limits.cpu', ['limits', 'cpu']], ['limits.memory', ['limits', 'memory']],
]);

/** "must specify limits.cpu for: a,b; requests.memory for: a", or undefined when every container complies. */
export function podConstraintViolation(pod: Obj, limited: readonly string[]): string | undefined {
  const required = limited.filter((name) => MUST_SPECIFY.has(name));
  if (required.length === 0) return undefined;
  const missing = new Map<string, Set<string>>();
  const spec = pod.spec ?? {};
  for (const container of [...(Array.isArray(spec.containers) ? spec.containers : []), ...(Array.isArray(spec.initContainers) ? spec.initContainers : [])] as Obj[]) {
    for (const name of required) {
      const [field, resource] = MUST_SPECIFY.get(name)!;
      if (container?.resources?.[field]?.[resource] !== undefined) continue;
      // Requests default from limits, so a limit alone also satisfies a request.
      if (field === 'requests' && container?.resources?.limits?.[resource] !== undefined) continue;
      if (!missing.has(name)) missing.set(name, new Set());
      missing.get(name)!.add(String(container?.name ?? ''));
    }
  }
  if (missing.size === 0) return undefined;
  const parts = [...missing.keys()].sort().map((name) => `${name} for: ${[...missing.get(name)!].sort().join(',')}`);
  return `must specify ${parts.join('; ')}`;
}
