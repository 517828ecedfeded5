/**
 * LimitRanger (upstream's plugin/pkg/admission/limitranger): the namespace's LimitRanges fill in
 * container requests and limits from their Container items' defaultRequest and default (noting
 * what they set in the pod's `kubernetes.io/limit-ranger` annotation), then refuse pods and
 * claims outside their min, max and maxLimitRequestRatio — per Container, per Pod (the sum) and
 * per PersistentVolumeClaim — with upstream's messages.
 */
import type { Registry } from '../../registry/registry.js';
import type { Obj } from '../../registry/strategy.js';
import type { Fields } from '../../registry/common/fields.js';
import { admissionForbidden, type AdmissionAttributes, type AdmissionPlugin } from '../admission.js';
import { compare, format, parse, ZERO, type Quantity } from '../quantity.js';
import { podResources } from '../resource-quota/usage.js';

const ANNOTATION = 'kubernetes.io/limit-ranger';

type Resources = Record<string, unknown>;

function limitItems(registry: Registry, namespace: string, type: string): Fields[] {
  return registry
    .of('', 'limitranges')
    .list(namespace, {})
    .items.flatMap((item) => ((item.object as Obj).spec?.limits ?? []) as Fields[])
    .filter((item) => item?.type === type);
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Fills one container from the defaults; returns the annotation phrases for what it set. */
function mergeDefaults(container: Fields, requests: Resources, limits: Resources, what: string): string[] {
  container.resources = isMap(container.resources) ? container.resources : {};
  const resources = container.resources as Fields;
  const setLimits: string[] = [];
  const setRequests: string[] = [];
  for (const [name, value] of Object.entries(limits)) {
    resources.limits = isMap(resources.limits) ? resources.limits : {};
    if (!(name in resources.limits)) {
      resources.limits[name] = value;
      setLimits.push(name);
    }
  }
  for (const [name, value] of Object.entries(requests)) {
    resources.requests = isMap(resources.requests) ? resources.requests : {};
    if (!(name in resources.requests)) {
      resources.requests[name] = value;
      setRequests.push(name);
    }
  }
  const phrases: string[] = [];
  if (setRequests.length > 0) phrases.push(`${setRequests.sort().join(', ')} request for ${what} ${container.name ?? ''}`);
  if (setLimits.length > 0) phrases.push(`${setLimits.sort().join(', ')} limit for ${what} ${container.name ?? ''}`);
  return phrases;
}

function defaultPod(pod: Obj, items: Fields[]): void {
  const requests: Resources = {};
  const limits: Resources = {};
  for (const item of items) {
    // The first LimitRange naming a resource wins, as upstream applies them one after another.
    for (const [name, value] of Object.entries(isMap(item.defaultRequest) ? item.defaultRequest : {})) if (!(name in requests)) requests[name] = value;
    for (const [name, value] of Object.entries(isMap(item.default) ? item.default : {})) if (!(name in limits)) limits[name] = value;
  }
  if (Object.keys(requests).length === 0 && Object.keys(limits).length === 0) return;
  const spec = pod.spec ?? {};
  const phrases: string[] = [];
  for (const container of (Array.isArray(spec.containers) ? spec.containers : []) as Fields[]) if (isMap(container)) phrases.push(...mergeDefaults(container, requests, limits, 'container'));
  for (const container of (Array.isArray(spec.initContainers) ? spec.initContainers : []) as Fields[]) if (isMap(container)) phrases.push(...mergeDefaults(container, requests, limits, 'init container'));
  if (phrases.length === 0) return;
  pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [ANNOTATION]: `LimitRanger plugin set: ${phrases.join('; ')}` };
}

const text = (value: unknown) => (value === undefined ? '' : format(parse(value) ?? ZERO));

function lookup(list: unknown, name: string): Quantity | undefined {
  return isMap(list) && list[name] !== undefined ? parse(list[name]) : undefined;
}

function minViolation(type: string, name: string, enforced: unknown, requests: unknown, limits: unknown): string | undefined {
  const request = lookup(requests, name);
  const limit = lookup(limits, name);
  const minimum = parse(enforced) ?? ZERO;
  if (!request) return `minimum ${name} usage per ${type} is ${text(enforced)}.  No request is specified`;
  if (compare(request, minimum) < 0) return `minimum ${name} usage per ${type} is ${text(enforced)}, but request is ${format(request)}`;
  if (limit && compare(limit, minimum) < 0) return `minimum ${name} usage per ${type} is ${text(enforced)}, but limit is ${format(limit)}`;
  return undefined;
}

function maxViolation(type: string, name: string, enforced: unknown, requests: unknown, limits: unknown): string | undefined {
  const request = lookup(requests, name);
  const limit = lookup(limits, name);
  const maximum = parse(enforced) ?? ZERO;
  if (!limit) return `maximum ${name} usage per ${type} is ${text(enforced)}.  No limit is specified`;
  if (compare(limit, maximum) > 0) return `maximum ${name} usage per ${type} is ${text(enforced)}, but limit is ${format(limit)}`;
  if (request && compare(request, maximum) > 0) return `maximum ${name} usage per ${type} is ${text(enforced)}, but request is ${format(request)}`;
  return undefined;
}

function maxRequestViolation(type: string, name: string, enforced: unknown, requests: unknown): string | undefined {
  const request = lookup(requests, name);
  const maximum = parse(enforced) ?? ZERO;
  if (!request) return `maximum ${name} usage per ${type} is ${text(enforced)}.  No request is specified`;
  if (compare(request, maximum) > 0) return `maximum ${name} usage per ${type} is ${text(enforced)}, but request is ${format(request)}`;
  return undefined;
}

function ratioViolation(type: string, name: string, enforced: unknown, requests: unknown, limits: unknown): string | undefined {
  const request = lookup(requests, name);
  const limit = lookup(limits, name);
  if (!request || request.nanos === 0n) return `${name} max limit to request ratio per ${type} is ${text(enforced)}, but no request is specified or request is 0`;
  if (!limit || limit.nanos === 0n) return `${name} max limit to request ratio per ${type} is ${text(enforced)}, but no limit is specified or limit is 0`;
  const observed = Number(limit.nanos) / Number(request.nanos);
  const allowed = Number((parse(enforced) ?? ZERO).nanos) / 1e9;
  if (observed > allowed) return `${name} max limit to request ratio per ${type} is ${text(enforced)}, but provided ratio is ${observed.toFixed(6)}`;
  return undefined;
}

const sortedEntries = (list: unknown): Array<[string, unknown]> => Object.entries(isMap(list) ? list : {}).sort(([a], [b]) => (a < b ? -1 : 1));

function checkItem(item: Fields, type: string, requests: unknown, limits: unknown, violations: string[]): void {
  const push = (v: string | undefined) => v && violations.push(v);
  for (const [name, value] of sortedEntries(item.min)) push(minViolation(type, name, value, requests, limits));
  for (const [name, value] of sortedEntries(item.max)) push(type === 'PersistentVolumeClaim' ? maxRequestViolation(type, name, value, requests) : maxViolation(type, name, value, requests, limits));
  for (const [name, value] of sortedEntries(item.maxLimitRequestRatio)) push(ratioViolation(type, name, value, requests, limits));
}

function podViolations(registry: Registry, namespace: string, pod: Obj): string[] {
  const violations: string[] = [];
  const spec = pod.spec ?? {};
  const containers = [...(Array.isArray(spec.containers) ? spec.containers : []), ...(Array.isArray(spec.initContainers) ? spec.initContainers : [])] as Fields[];
  for (const item of limitItems(registry, namespace, 'Container')) {
    for (const container of containers) checkItem(item, 'Container', container?.resources?.requests, container?.resources?.limits, violations);
  }
  const podItems = limitItems(registry, namespace, 'Pod');
  if (podItems.length > 0) {
    const asList = (map: Map<string, Quantity>) => Object.fromEntries([...map].map(([n, q]) => [n, format(q)]));
    const requests = asList(podResources(spec, 'requests'));
    const limits = asList(podResources(spec, 'limits'));
    for (const item of podItems) checkItem(item, 'Pod', requests, limits, violations);
  }
  return violations;
}

function refusal(attributes: AdmissionAttributes, violations: string[]): Error {
  return admissionForbidden(attributes, violations.length === 1 ? violations[0] : `[${violations.join(', ')}]`);
}

export function limitRanger(registry: () => Registry): AdmissionPlugin {
  const applies = (a: AdmissionAttributes, plural: string) =>
    a.operation === 'CREATE' && !a.subresource && a.resource.group === '' && a.resource.resource === plural && !!a.object && !!a.namespace;
  return {
    name: 'LimitRanger',
    admit(attributes) {
      if (!applies(attributes, 'pods')) return;
      const items = limitItems(registry(), attributes.namespace!, 'Container');
      if (items.length > 0) defaultPod(attributes.object!, items);
    },
    validate(attributes) {
      if (applies(attributes, 'pods')) {
        const violations = podViolations(registry(), attributes.namespace!, attributes.object!);
        if (violations.length > 0) throw refusal(attributes, violations);
      } else if (applies(attributes, 'persistentvolumeclaims')) {
        const violations: string[] = [];
        for (const item of limitItems(registry(), attributes.namespace!, 'PersistentVolumeClaim')) checkItem(item, 'PersistentVolumeClaim', attributes.object!.spec?.resources?.requests, {}, violations);
        if (violations.length > 0) throw refusal(attributes, violations);
      }
    },
  };
}
