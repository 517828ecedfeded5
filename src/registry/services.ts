/** core/v1 Service. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn, labelsToString } from './common/printing.js';
import { dns1035LabelErrors, dns1123LabelErrors, dns1123SubdomainErrors, validateLabels, validateOneOf, validatePort } from './common/validation.js';
import { isIp } from './common/network.js';
import { abandonServiceAddresses, allocateOnCreate, allocateOnUpdate, needsClusterIp, validateServiceAddresses } from './service-addresses.js';
import { type Fields, listAt, mapAt, valuesAt } from './common/fields.js';

const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const SESSION_AFFINITIES = ['ClientIP', 'None'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
/** At 1.32 (PreferSameZone and PreferSameNode arrive behind 1.33's PreferSameTrafficDistribution gate). */
const TRAFFIC_DISTRIBUTIONS = ['PreferClose'];
const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10800;
const IANA_SERVICE_NAME = /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;

function defaultPorts(ports: Fields[]): void {
  for (const port of ports) {
    if (!isPlainObject(port)) continue;
    port.protocol ??= 'TCP';
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
  }
}

function validateTargetPort(value: unknown, field: string): FieldError[] {
  if (typeof value === 'number') return validatePort(value, field);
  if (typeof value === 'string' && IANA_SERVICE_NAME.test(value) && /[a-z]/.test(value) && !value.includes('--')) return [];
  return [fieldErrors.invalid(field, value, 'must contain only lowercase alphanumerics or \'-\', at least one letter, no more than 15 characters, and may not start or end with \'-\' (an IANA service name), or be a port number between 1 and 65535, inclusive')];
}

function validatePorts(spec: Fields): FieldError[] {
  const errs: FieldError[] = [];
  const ports: unknown = spec.ports;
  const headless = spec.clusterIP === 'None';
  if (ports !== undefined && !Array.isArray(ports)) return [fieldErrors.typeInvalid('spec.ports', ports, 'must be a list')];
  const list = (ports ?? []) as Fields[];
  if (list.length === 0 && !headless && spec.type !== 'ExternalName') errs.push(fieldErrors.required('spec.ports'));
  const names = new Set<string>();
  const identities = new Set<string>();
  list.forEach((port, i) => {
    const field = `spec.ports[${i}]`;
    if (!isPlainObject(port)) {
      errs.push(fieldErrors.typeInvalid(field, port, 'must be an object'));
      return;
    }
    if (port.name === undefined || port.name === '') {
      if (list.length > 1) errs.push(fieldErrors.required(`${field}.name`));
    } else if (typeof port.name !== 'string') errs.push(fieldErrors.typeInvalid(`${field}.name`, port.name, 'must be a string'));
    else {
      for (const p of dns1123LabelErrors(port.name)) errs.push(fieldErrors.invalid(`${field}.name`, port.name, p));
      if (names.has(port.name)) errs.push(fieldErrors.duplicate(`${field}.name`, port.name));
      names.add(port.name);
    }
    errs.push(...validatePort(port.port, `${field}.port`));
    errs.push(...validateOneOf(port.protocol, `${field}.protocol`, PROTOCOLS, true));
    errs.push(...validateTargetPort(port.targetPort, `${field}.targetPort`));
    if (spec.type === 'ClusterIP' && port.nodePort) errs.push(fieldErrors.forbidden(`${field}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
    const identity = `${port.port}/${port.protocol}`;
    if (identities.has(identity)) errs.push(fieldErrors.duplicate(field, { port: port.port, protocol: port.protocol }));
    identities.add(identity);
  });
  return errs;
}

function validateClusterIp(spec: Fields): FieldError[] {
  const ip = spec.clusterIP;
  if (spec.type === 'ExternalName') {
    return ip ? [fieldErrors.forbidden('spec.clusterIP', 'may not be set for ExternalName services')] : [];
  }
  if (ip === undefined || ip === '' || ip === 'None') {
    if (ip === 'None' && (spec.type === 'NodePort' || spec.type === 'LoadBalancer')) {
      return [fieldErrors.invalid('spec.clusterIPs[0]', ip, `may not be set to 'None' for ${spec.type} services`)];
    }
    return [];
  }
  if (!isIp(ip)) return [fieldErrors.invalid('spec.clusterIPs[0]', ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
  return [];
}

function validateSpec(spec: Fields): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateOneOf(spec.type, 'spec.type', SERVICE_TYPES, true));
  errs.push(...validatePorts(spec));
  errs.push(...validateClusterIp(spec));
  errs.push(...validateLabels(spec.selector, 'spec.selector'));
  errs.push(...validateOneOf(spec.sessionAffinity, 'spec.sessionAffinity', SESSION_AFFINITIES, true));
  if (spec.type === 'ExternalName') {
    const name = spec.externalName;
    if (typeof name !== 'string' || name === '') errs.push(fieldErrors.required('spec.externalName'));
    else for (const p of dns1123SubdomainErrors(name.replace(/\.$/, ''))) errs.push(fieldErrors.invalid('spec.externalName', name, p));
  }
  if (spec.externalTrafficPolicy !== undefined) {
    if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer') {
      errs.push(fieldErrors.invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
    } else errs.push(...validateOneOf(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy', TRAFFIC_POLICIES));
  }
  errs.push(...validateOneOf(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy', TRAFFIC_POLICIES));
  errs.push(...validateOneOf(spec.trafficDistribution, 'spec.trafficDistribution', TRAFFIC_DISTRIBUTIONS));
  for (const [i, ip] of ((Array.isArray(spec.externalIPs) ? spec.externalIPs : []) as unknown[]).entries()) {
    if (!isIp(ip)) errs.push(fieldErrors.invalid(`spec.externalIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  }
  return errs;
}

function validateUpdate(service: Obj, old: Obj): FieldError[] {
  if (!needsClusterIp(service) || !needsClusterIp(old)) return [];
  const before = old.spec?.clusterIP;
  const after = service.spec?.clusterIP;
  if (before && after !== before) return [fieldErrors.invalid('spec.clusterIPs[0]', after ?? '', 'may not change once set')];
  return [];
}

/** EXTERNAL-IP: what reaches the service from outside, by type (upstream getServiceExternalIP). */
function externalIp(service: Obj): string {
  const spec = service.spec ?? {};
  const externalIPs = valuesAt(spec, 'externalIPs');
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const ingress = listAt(service.status?.loadBalancer, 'ingress');
      const balancers = [...new Set(ingress.map((i) => i.ip || i.hostname).filter(Boolean))];
      const all = [...balancers, ...externalIPs];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** PORT(S): "80/TCP", or "80:30080/TCP" when a node port is allocated. */
function servicePorts(service: Obj): string {
  const ports = listAt(service.spec, 'ports');
  if (ports.length === 0) return '<none>';
  return ports.map((p) => (p.nodePort > 0 ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`)).join(',');
}

export const services: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  shortNames: ['svc'],
  categories: ['all'],
  namespaced: true,
  statusSubresource: true,
  // Service names become DNS labels of the cluster domain and must start with a letter (DNS-1035).
  nameValidation: dns1035LabelErrors,

  defaults(service) {
    const spec = mapAt(service, 'spec');
    if (!spec) return;
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    if (spec.sessionAffinity === 'ClientIP') {
      spec.sessionAffinityConfig ??= {};
      spec.sessionAffinityConfig.clientIP ??= {};
      spec.sessionAffinityConfig.clientIP.timeoutSeconds ??= DEFAULT_CLIENT_IP_TIMEOUT_SECONDS;
    }
    if (Array.isArray(spec.ports)) defaultPorts(spec.ports);
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
    if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
    if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
  },
  prepareForCreate(service) {
    service.status = { loadBalancer: {} };
    allocateOnCreate(service);
  },
  prepareForUpdate(service, old) {
    allocateOnUpdate(service, old);
  },
  abandon: abandonServiceAddresses,
  validate(service, old) {
    if (!isPlainObject(service.spec)) return [fieldErrors.required('spec')];
    const errs = validateSpec(service.spec);
    errs.push(...validateServiceAddresses(service));
    if (old) errs.push(...validateUpdate(service, old));
    return errs;
  },

  columns: [
    { name: 'Type', type: 'string', description: 'type determines how the Service is exposed.', cell: (s) => s.spec?.type ?? '' },
    { name: 'Cluster-IP', type: 'string', description: 'clusterIP is the IP address of the service.', cell: (s) => s.spec?.clusterIPs?.[0] ?? '<none>' },
    { name: 'External-IP', type: 'string', description: 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.', cell: externalIp },
    { name: 'Port(s)', type: 'string', description: 'The list of ports that are exposed by this service.', cell: servicePorts },
    ageColumn,
    { name: 'Selector', type: 'string', priority: 1, description: 'Route service traffic to pods with label keys and values matching this selector.', cell: (s) => labelsToString(s.spec?.selector) },
  ],
  fieldSelectors: {
    'spec.clusterIP': (s) => s.spec?.clusterIP ?? '',
    'spec.type': (s) => s.spec?.type ?? '',
  },
};
