/**
 * Cluster IPs and node ports of Services. Upstream allocates them in the Service REST storage
 * before validation and rolls back on failure; here the strategy claims them in
 * prepareForCreate/prepareForUpdate under the Service's uid, validation reports values held by
 * another Service, and the store calls `releaseServiceAddresses` when a Service is deleted or its
 * create fails, and `releaseReplacedAddresses(kept, replaced)` after an update (kept = the new
 * version) or when an update fails (kept = the stored version).
 */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { Obj } from './strategy.js';
import { NODE_PORT_RANGE, SERVICE_CIDR, nodePorts, serviceIps } from './common/allocators.js';
import { listAt, type Fields } from './common/fields.js';

const HEADLESS = 'None';

export function needsClusterIp(service: Obj): boolean {
  return service.spec?.type !== 'ExternalName';
}

function needsNodePorts(service: Obj): boolean {
  const type = service.spec?.type;
  return type === 'NodePort' || (type === 'LoadBalancer' && service.spec?.allocateLoadBalancerNodePorts !== false);
}

function needsHealthCheckNodePort(service: Obj): boolean {
  return service.spec?.type === 'LoadBalancer' && service.spec?.externalTrafficPolicy === 'Local';
}

function ownerOf(service: Obj): string {
  return service.metadata.uid ?? `${service.metadata.namespace}/${service.metadata.name}`;
}

function portsOf(service: Obj): Fields[] {
  return listAt(service.spec, 'ports');
}

/** ipFamilyPolicy / ipFamilies for this single-stack IPv4 cluster. */
function defaultIpFamilies(service: Obj): void {
  const spec = service.spec;
  const headlessWithoutSelector = spec.clusterIP === HEADLESS && Object.keys(spec.selector ?? {}).length === 0;
  // Headless services without a selector may front endpoints of any family.
  spec.ipFamilyPolicy ??= headlessWithoutSelector ? 'RequireDualStack' : 'SingleStack';
  spec.ipFamilies ??= ['IPv4'];
}

function claimClusterIp(service: Obj): void {
  const spec = service.spec;
  if (!spec.clusterIP && Array.isArray(spec.clusterIPs) && typeof spec.clusterIPs[0] === 'string') spec.clusterIP = spec.clusterIPs[0];
  if (spec.clusterIP === HEADLESS) spec.clusterIPs = [HEADLESS];
  else if (!spec.clusterIP) {
    const ip = serviceIps.allocate(ownerOf(service));
    if (ip !== undefined) {
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    }
  } else {
    serviceIps.claim(spec.clusterIP, ownerOf(service));
    spec.clusterIPs ??= [spec.clusterIP];
  }
  defaultIpFamilies(service);
}

function claimNodePorts(service: Obj): void {
  const owner = ownerOf(service);
  for (const port of portsOf(service)) {
    if (port.nodePort) nodePorts.claim(port.nodePort, owner);
    else {
      const allocated = nodePorts.allocate(owner);
      if (allocated !== undefined) port.nodePort = allocated;
    }
  }
  if (needsHealthCheckNodePort(service)) {
    if (service.spec.healthCheckNodePort) nodePorts.claim(service.spec.healthCheckNodePort, owner);
    else {
      const allocated = nodePorts.allocate(owner);
      if (allocated !== undefined) service.spec.healthCheckNodePort = allocated;
    }
  }
}

export function allocateOnCreate(service: Obj): void {
  if (!isPlainObject(service.spec)) return;
  if (needsClusterIp(service)) claimClusterIp(service);
  if (needsNodePorts(service)) claimNodePorts(service);
}

/** Values the client left out of an update keep what was allocated before (upstream patchAllocatedValues). */
export function allocateOnUpdate(service: Obj, old: Obj): void {
  const spec = service.spec;
  if (!isPlainObject(spec)) return;
  if (needsClusterIp(service) && needsClusterIp(old)) {
    spec.clusterIP ||= old.spec?.clusterIP;
    spec.clusterIPs ??= old.spec?.clusterIPs;
    spec.ipFamilies ??= old.spec?.ipFamilies;
    spec.ipFamilyPolicy ??= old.spec?.ipFamilyPolicy;
  }
  if (needsNodePorts(service) && needsNodePorts(old)) {
    for (const port of portsOf(service)) {
      if (port.nodePort) continue;
      const previous = portsOf(old).find((p) => p.port === port.port && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP'));
      if (previous?.nodePort) port.nodePort = previous.nodePort;
    }
  }
  if (needsHealthCheckNodePort(service) && needsHealthCheckNodePort(old)) spec.healthCheckNodePort ||= old.spec?.healthCheckNodePort;
  if (needsClusterIp(service)) claimClusterIp(service);
  if (needsNodePorts(service)) claimNodePorts(service);
}

/** Reports cluster IPs and node ports that are missing (range full), invalid or held by another Service. */
export function validateServiceAddresses(service: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const spec = service.spec ?? {};
  const owner = ownerOf(service);
  const ip = spec.clusterIP;
  if (needsClusterIp(service) && (ip === undefined || ip === '')) {
    errs.push(fieldErrors.invalid('spec.clusterIPs', [], `failed to allocate a serviceIP: range is full (${SERVICE_CIDR})`));
  } else if (needsClusterIp(service) && typeof ip === 'string' && ip !== HEADLESS) {
    if (!serviceIps.contains(ip)) {
      errs.push(fieldErrors.invalid('spec.clusterIPs', [ip], `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${SERVICE_CIDR}`));
    } else if (serviceIps.ownerOf(ip) !== owner) {
      errs.push(fieldErrors.invalid('spec.clusterIPs', [ip], `failed to allocate IP ${ip}: provided IP is already allocated`));
    }
  }
  if (!needsNodePorts(service)) return errs;
  const checkPort = (value: unknown, field: string) => {
    if (value === undefined || value === 0) errs.push(fieldErrors.invalid(field, value ?? 0, 'failed to allocate a nodePort: range is full'));
    else if (typeof value !== 'number' || value < NODE_PORT_RANGE.first || value > NODE_PORT_RANGE.last) {
      errs.push(fieldErrors.invalid(field, value, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.first}-${NODE_PORT_RANGE.last}`));
    } else if (nodePorts.ownerOf(value) !== owner) {
      errs.push(fieldErrors.invalid(field, value, 'provided port is already allocated'));
    }
  };
  portsOf(service).forEach((port, i) => checkPort(port.nodePort, `spec.ports[${i}].nodePort`));
  if (needsHealthCheckNodePort(service)) checkPort(spec.healthCheckNodePort, 'spec.healthCheckNodePort');
  return errs;
}

function heldValues(service: Obj): { ips: string[]; ports: number[] } {
  const ips = needsClusterIp(service) && typeof service.spec?.clusterIP === 'string' && service.spec.clusterIP !== HEADLESS ? [service.spec.clusterIP] : [];
  const ports = needsNodePorts(service) ? portsOf(service).map((p) => p.nodePort).filter((p): p is number => typeof p === 'number') : [];
  if (needsHealthCheckNodePort(service) && typeof service.spec?.healthCheckNodePort === 'number') ports.push(service.spec.healthCheckNodePort);
  return { ips, ports };
}

/** Frees everything a Service holds (after delete, or when its create did not persist). */
export function releaseServiceAddresses(service: Obj): void {
  const owner = ownerOf(service);
  const { ips, ports } = heldValues(service);
  for (const ip of ips) serviceIps.release(ip, owner);
  for (const port of ports) nodePorts.release(port, owner);
}

/** Frees what `replaced` holds and `kept` does not (two versions of the same Service). */
export function releaseReplacedAddresses(kept: Obj, replaced: Obj): void {
  const owner = ownerOf(replaced);
  const keep = heldValues(kept);
  const drop = heldValues(replaced);
  for (const ip of drop.ips) if (!keep.ips.includes(ip)) serviceIps.release(ip, owner);
  for (const port of drop.ports) if (!keep.ports.includes(port)) nodePorts.release(port, owner);
}

/** Marks what a stored Service holds as taken (seeding the allocators at start-up). */
export function recordServiceAddresses(service: Obj): void {
  const owner = ownerOf(service);
  const { ips, ports } = heldValues(service);
  for (const ip of ips) serviceIps.claim(ip, owner);
  for (const port of ports) nodePorts.claim(port, owner);
}

/**
 * Rebuilds the allocators from the stored Services (at start-up, after log replay) and keeps them
 * in step with committed deletes and updates. The allocators are process-wide: one control plane
 * per process owns them.
 */
export function syncServiceAddresses(stored: Iterable<Obj>): void {
  serviceIps.clear();
  nodePorts.clear();
  for (const service of stored) recordServiceAddresses(service);
}

/** What a Service claimed in prepare but never persisted (dry run, invalid, conflict). */
export function abandonServiceAddresses(attempted: Obj, stored: Obj | undefined): void {
  if (stored) releaseReplacedAddresses(stored, attempted);
  else releaseServiceAddresses(attempted);
}
