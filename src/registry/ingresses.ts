/** networking.k8s.io/v1 Ingress and IngressClass. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { dns1123LabelErrors, dns1123SubdomainErrors, immutable, tooLong, validateOneOf, validatePort } from './common/validation.js';
import { listAt, type Fields } from './common/fields.js';

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const PARAMETER_SCOPES = ['Cluster', 'Namespace'];
const MAX_CONTROLLER_LENGTH = 250;

function validateBackend(backend: unknown, field: string): FieldError[] {
  if (!isPlainObject(backend)) return [fieldErrors.required(field)];
  const { service, resource } = backend as Fields;
  if (service !== undefined && resource !== undefined) return [fieldErrors.invalid(field, backend, 'cannot set both service and resource backends')];
  if (resource !== undefined) {
    const errs: FieldError[] = [];
    if (!resource?.kind) errs.push(fieldErrors.required(`${field}.resource.kind`));
    if (!resource?.name) errs.push(fieldErrors.required(`${field}.resource.name`));
    return errs;
  }
  if (!isPlainObject(service)) return [fieldErrors.invalid(field, backend, 'resource or service backend is required')];
  const errs: FieldError[] = [];
  if (typeof service.name !== 'string' || service.name === '') errs.push(fieldErrors.required(`${field}.service.name`));
  else for (const p of dns1123LabelErrors(service.name)) errs.push(fieldErrors.invalid(`${field}.service.name`, service.name, p));
  const port = (service.port ?? {}) as Fields;
  if (port.name && port.number) errs.push(fieldErrors.invalid(`${field}.service.port`, port, 'cannot set both port name & port number'));
  else if (port.name) for (const p of dns1123LabelErrors(port.name)) errs.push(fieldErrors.invalid(`${field}.service.port.name`, port.name, p));
  else if (port.number !== undefined) errs.push(...validatePort(port.number, `${field}.service.port.number`));
  else errs.push(fieldErrors.invalid(`${field}.service.port`, port, 'port name or number is required'));
  return errs;
}

function validateHost(host: string, field: string): FieldError[] {
  if (host.includes(':')) return [fieldErrors.invalid(field, host, 'must be a DNS name, not an IP address')];
  const name = host.startsWith('*.') ? host.slice(2) : host;
  return dns1123SubdomainErrors(name).map((p) => fieldErrors.invalid(field, host, p));
}

function validateRules(rules: Fields[]): FieldError[] {
  const errs: FieldError[] = [];
  rules.forEach((rule, i) => {
    const field = `spec.rules[${i}]`;
    if (typeof rule?.host === 'string' && rule.host !== '') errs.push(...validateHost(rule.host, `${field}.host`));
    if (rule?.http === undefined) return;
    const paths = listAt(rule.http, 'paths');
    if (paths.length === 0) errs.push(fieldErrors.required(`${field}.http.paths`));
    paths.forEach((path, j) => {
      const pf = `${field}.http.paths[${j}]`;
      if (path?.pathType === undefined) errs.push(fieldErrors.required(`${pf}.pathType`, 'pathType must be specified'));
      else errs.push(...validateOneOf(path.pathType, `${pf}.pathType`, PATH_TYPES, true));
      if ((path?.pathType === 'Exact' || path?.pathType === 'Prefix') && !String(path?.path ?? '').startsWith('/')) {
        errs.push(fieldErrors.invalid(`${pf}.path`, path?.path ?? '', 'must be an absolute path'));
      }
      errs.push(...validateBackend(path?.backend, `${pf}.backend`));
    });
  });
  return errs;
}

function validateIngress(ingress: Obj): FieldError[] {
  const spec: Fields = isPlainObject(ingress.spec) ? ingress.spec : {};
  const rules = listAt(spec, 'rules');
  const errs: FieldError[] = [];
  if (spec.defaultBackend === undefined && rules.length === 0) errs.push(fieldErrors.invalid('spec', spec, 'either `defaultBackend` or `rules` must be specified'));
  if (spec.defaultBackend !== undefined) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  errs.push(...validateRules(rules));
  if (typeof spec.ingressClassName === 'string') for (const p of dns1123SubdomainErrors(spec.ingressClassName)) errs.push(fieldErrors.invalid('spec.ingressClassName', spec.ingressClassName, p));
  listAt(spec, 'tls').forEach((tls, i) => {
    (Array.isArray(tls?.hosts) ? (tls.hosts as string[]) : []).forEach((host, j) => errs.push(...validateHost(String(host), `spec.tls[${i}].hosts[${j}]`)));
  });
  return errs;
}

/** HOSTS: up to three hosts, "*" when no rule names one. */
function ingressHosts(ingress: Obj): string {
  const rules = listAt(ingress.spec, 'rules');
  const hosts = rules.map((r) => r.host).filter((h): h is string => typeof h === 'string' && h !== '').slice(0, 3);
  if (hosts.length === 0) return '*';
  return rules.length > 3 ? `${hosts.join(',')} + ${rules.length - 3} more...` : hosts.join(',');
}

function ingressAddress(ingress: Obj): string {
  const entries = listAt(ingress.status?.loadBalancer, 'ingress');
  return [...new Set(entries.map((e) => e.ip || e.hostname).filter(Boolean))].join(',');
}

export const ingresses: KindStrategy = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  singular: 'ingress',
  shortNames: ['ing'],
  namespaced: true,
  statusSubresource: true,
  generation: true,

  prepareForCreate(ingress) {
    ingress.status = { loadBalancer: {} };
  },
  validate: (ingress) => validateIngress(ingress),

  columns: [
    { name: 'Class', type: 'string', description: 'The name of the IngressClass resource that should be used for additional configuration', cell: (i) => i.spec?.ingressClassName ?? '<none>' },
    { name: 'Hosts', type: 'string', description: 'Hosts that incoming requests are matched against before the ingress rule', cell: ingressHosts },
    { name: 'Address', type: 'string', description: 'Address is a list containing ingress points for the load-balancer', cell: ingressAddress },
    { name: 'Ports', type: 'string', description: 'Ports of TLS configurations that open', cell: (i) => (listAt(i.spec, 'tls').length > 0 ? '80, 443' : '80') },
    ageColumn,
  ],
};

function validateController(controller: unknown): FieldError[] {
  if (typeof controller !== 'string' || controller === '') return [fieldErrors.required('spec.controller')];
  if (controller.length > MAX_CONTROLLER_LENGTH) return [tooLong('spec.controller', MAX_CONTROLLER_LENGTH)];
  const slash = controller.indexOf('/');
  if (slash <= 0 || dns1123SubdomainErrors(controller.slice(0, slash)).length > 0) {
    return [fieldErrors.invalid('spec.controller', controller, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  }
  return [];
}

function validateParameters(parameters: unknown): FieldError[] {
  if (parameters === undefined) return [];
  if (!isPlainObject(parameters)) return [fieldErrors.typeInvalid('spec.parameters', parameters, 'must be an object')];
  const errs: FieldError[] = [];
  const field = 'spec.parameters';
  if (!parameters.kind) errs.push(fieldErrors.required(`${field}.kind`));
  if (!parameters.name) errs.push(fieldErrors.required(`${field}.name`));
  errs.push(...validateOneOf(parameters.scope, `${field}.scope`, PARAMETER_SCOPES, true));
  if (parameters.scope === 'Namespace' && !parameters.namespace) errs.push(fieldErrors.required(`${field}.namespace`, "`parameters.scope` is set to 'Namespace'"));
  if (parameters.scope === 'Cluster' && parameters.namespace) errs.push(fieldErrors.forbidden(`${field}.namespace`, "`parameters.scope` is set to 'Cluster'"));
  return errs;
}

function parametersCell(ingressClass: Obj): string {
  const parameters = ingressClass.spec?.parameters;
  if (!isPlainObject(parameters)) return '<none>';
  const kind = parameters.apiGroup ? `${parameters.kind}.${parameters.apiGroup}` : parameters.kind;
  return `${kind}/${parameters.name}`;
}

export const ingressClasses: KindStrategy = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  singular: 'ingressclass',
  namespaced: false,
  generation: true,

  defaults(ingressClass) {
    if (isPlainObject(ingressClass.spec?.parameters)) ingressClass.spec.parameters.scope ??= 'Cluster';
  },
  validate(ingressClass, old) {
    const spec: Fields = isPlainObject(ingressClass.spec) ? ingressClass.spec : {};
    const errs = [...validateController(spec.controller), ...validateParameters(spec.parameters)];
    if (old) errs.push(...immutable('spec.controller', spec.controller, old.spec?.controller));
    return errs;
  },

  columns: [
    { name: 'Controller', type: 'string', description: 'Controller that is responsible for handling this class', cell: (c) => c.spec?.controller ?? '' },
    { name: 'Parameters', type: 'string', description: 'A reference to a resource with additional parameters', cell: parametersCell },
    ageColumn,
  ],
};
