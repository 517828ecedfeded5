/**
 * Pod spec defaulting and validation, shared by Pods and every kind embedding a pod template
 * (PodTemplate, ReplicationController, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob).
 */
import { fieldErrors, type FieldError } from '../../api/status.js';
import { isPlainObject } from '../../api/object.js';
import type { Obj } from '../strategy.js';
import { dns1123LabelErrors, dns1123SubdomainErrors, isCIdentifier, isQuantity, validateAnnotations, validateLabels, validatePort } from './validation.js';

type Container = Record<string, any>;

export function defaultContainer(container: Container): void {
  if (container.imagePullPolicy === undefined && typeof container.image === 'string') {
    const image = container.image as string;
    const lastSlash = image.lastIndexOf('/');
    const tagPart = image.slice(lastSlash + 1);
    const hasDigest = image.includes('@');
    const tag = tagPart.includes(':') ? tagPart.slice(tagPart.indexOf(':') + 1) : '';
    container.imagePullPolicy = !hasDigest && (tag === '' || tag === 'latest') ? 'Always' : 'IfNotPresent';
  }
  container.terminationMessagePath ??= '/dev/termination-log';
  container.terminationMessagePolicy ??= 'File';
  container.resources ??= {};
  for (const port of (container.ports ?? []) as Container[]) port.protocol ??= 'TCP';
  for (const env of (container.env ?? []) as Container[]) {
    if (env.valueFrom?.fieldRef) env.valueFrom.fieldRef.apiVersion ??= 'v1';
  }
  for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
    if (!isPlainObject(probe)) continue;
    probe.timeoutSeconds ??= 1;
    probe.periodSeconds ??= 10;
    probe.successThreshold ??= 1;
    probe.failureThreshold ??= 3;
    if (isPlainObject(probe.httpGet)) probe.httpGet.scheme ??= 'HTTP';
  }
}

export function defaultPodSpec(spec: Obj['spec']): void {
  if (!isPlainObject(spec)) return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const list of [spec.containers, spec.initContainers]) {
    if (Array.isArray(list)) for (const c of list) if (isPlainObject(c)) defaultContainer(c);
  }
  for (const volume of (Array.isArray(spec.volumes) ? spec.volumes : []) as Container[]) {
    if (!isPlainObject(volume)) continue;
    if (isPlainObject(volume.configMap)) volume.configMap.defaultMode ??= 420;
    if (isPlainObject(volume.secret)) volume.secret.defaultMode ??= 420;
    if (isPlainObject(volume.downwardAPI)) volume.downwardAPI.defaultMode ??= 420;
    if (isPlainObject(volume.projected)) volume.projected.defaultMode ??= 420;
    if (isPlainObject(volume.hostPath)) volume.hostPath.type ??= '';
    const hasSource = Object.keys(volume).some((k) => k !== 'name');
    if (!hasSource) volume.emptyDir = {};
  }
}

/** Template defaults: labels/annotations untouched, spec defaulted as a pod's. */
export function defaultPodTemplate(template: unknown): void {
  if (!isPlainObject(template)) return;
  template.metadata ??= {};
  if (isPlainObject(template.spec)) defaultPodSpec(template.spec);
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

function validateContainer(c: unknown, field: string, names: Set<string>, requireImage: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!isPlainObject(c)) return [fieldErrors.typeInvalid(field, c, 'must be an object')];
  if (typeof c.name !== 'string' || c.name === '') errs.push(fieldErrors.required(`${field}.name`));
  else {
    for (const p of dns1123LabelErrors(c.name)) errs.push(fieldErrors.invalid(`${field}.name`, c.name, p));
    if (names.has(c.name)) errs.push(fieldErrors.duplicate(`${field}.name`, c.name));
    names.add(c.name);
  }
  if (requireImage && (typeof c.image !== 'string' || c.image.trim() === '')) errs.push(fieldErrors.required(`${field}.image`));
  if (c.imagePullPolicy !== undefined && !PULL_POLICIES.includes(c.imagePullPolicy as string)) {
    errs.push(fieldErrors.notSupported(`${field}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
  }
  if (c.ports !== undefined) {
    if (!Array.isArray(c.ports)) errs.push(fieldErrors.typeInvalid(`${field}.ports`, c.ports, 'must be a list'));
    else
      c.ports.forEach((port: Container, i: number) => {
        const pf = `${field}.ports[${i}]`;
        errs.push(...validatePort(port?.containerPort, `${pf}.containerPort`));
        if (port?.hostPort !== undefined && port.hostPort !== 0) errs.push(...validatePort(port.hostPort, `${pf}.hostPort`));
        if (port?.protocol !== undefined && !PROTOCOLS.includes(port.protocol)) errs.push(fieldErrors.notSupported(`${pf}.protocol`, port.protocol, PROTOCOLS));
        if (port?.name !== undefined && (typeof port.name !== 'string' || port.name.length > 15 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(port.name) || !/[a-z]/.test(port.name))) {
          errs.push(fieldErrors.invalid(`${pf}.name`, port.name, 'must be no more than 15 characters, contain only lowercase alphanumerics or "-", and contain at least one letter'));
        }
      });
  }
  if (c.env !== undefined) {
    if (!Array.isArray(c.env)) errs.push(fieldErrors.typeInvalid(`${field}.env`, c.env, 'must be a list'));
    else
      c.env.forEach((env: Container, i: number) => {
        if (typeof env?.name !== 'string' || env.name === '') errs.push(fieldErrors.required(`${field}.env[${i}].name`));
      });
  }
  if (isPlainObject(c.resources)) {
    for (const section of ['limits', 'requests'] as const) {
      const values = (c.resources as Container)[section];
      if (values === undefined) continue;
      if (!isPlainObject(values)) {
        errs.push(fieldErrors.typeInvalid(`${field}.resources.${section}`, values, 'must be a map of quantities'));
        continue;
      }
      for (const [name, quantity] of Object.entries(values)) {
        if (!isQuantity(quantity)) errs.push(fieldErrors.invalid(`${field}.resources.${section}[${name}]`, quantity, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
      }
    }
  }
  return errs;
}

export function validatePodSpec(spec: unknown, field: string, options: { requireImage?: boolean } = {}): FieldError[] {
  const errs: FieldError[] = [];
  if (!isPlainObject(spec)) return [fieldErrors.required(field)];
  const names = new Set<string>();
  const requireImage = options.requireImage ?? true;
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) errs.push(fieldErrors.required(`${field}.containers`));
  else spec.containers.forEach((c, i) => errs.push(...validateContainer(c, `${field}.containers[${i}]`, names, requireImage)));
  if (spec.initContainers !== undefined) {
    if (!Array.isArray(spec.initContainers)) errs.push(fieldErrors.typeInvalid(`${field}.initContainers`, spec.initContainers, 'must be a list'));
    else spec.initContainers.forEach((c, i) => errs.push(...validateContainer(c, `${field}.initContainers[${i}]`, names, requireImage)));
  }
  if (spec.restartPolicy !== undefined && !RESTART_POLICIES.includes(spec.restartPolicy as string)) {
    errs.push(fieldErrors.notSupported(`${field}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  }
  if (spec.dnsPolicy !== undefined && !DNS_POLICIES.includes(spec.dnsPolicy as string)) {
    errs.push(fieldErrors.notSupported(`${field}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  }
  if (spec.volumes !== undefined) {
    if (!Array.isArray(spec.volumes)) errs.push(fieldErrors.typeInvalid(`${field}.volumes`, spec.volumes, 'must be a list'));
    else {
      const volumeNames = new Set<string>();
      spec.volumes.forEach((v: Container, i: number) => {
        const vf = `${field}.volumes[${i}].name`;
        if (typeof v?.name !== 'string' || v.name === '') errs.push(fieldErrors.required(vf));
        else {
          for (const p of dns1123LabelErrors(v.name)) errs.push(fieldErrors.invalid(vf, v.name, p));
          if (volumeNames.has(v.name)) errs.push(fieldErrors.duplicate(vf, v.name));
          volumeNames.add(v.name);
        }
      });
    }
  }
  if (spec.nodeName !== undefined && spec.nodeName !== '' && typeof spec.nodeName === 'string') {
    for (const p of dns1123SubdomainErrors(spec.nodeName)) errs.push(fieldErrors.invalid(`${field}.nodeName`, spec.nodeName, p));
  }
  if (spec.serviceAccountName !== undefined && spec.serviceAccountName !== '' && typeof spec.serviceAccountName === 'string') {
    for (const p of dns1123SubdomainErrors(spec.serviceAccountName)) errs.push(fieldErrors.invalid(`${field}.serviceAccountName`, spec.serviceAccountName, p));
  }
  if (spec.terminationGracePeriodSeconds !== undefined && (typeof spec.terminationGracePeriodSeconds !== 'number' || !Number.isInteger(spec.terminationGracePeriodSeconds))) {
    errs.push(fieldErrors.typeInvalid(`${field}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, 'must be an integer'));
  }
  for (const [i, c] of (Array.isArray(spec.containers) ? spec.containers : []).entries()) {
    for (const [j, env] of ((isPlainObject(c) && Array.isArray(c.env) ? c.env : []) as Container[]).entries()) {
      if (typeof env?.name === 'string' && env.name !== '' && !isCIdentifier(env.name) && /[=]/.test(env.name)) {
        errs.push(fieldErrors.invalid(`${field}.containers[${i}].env[${j}].name`, env.name, "a valid environment variable name must consist only of printable ASCII characters other than '='"));
      }
    }
  }
  return errs;
}

/** Validates a pod template embedded at `field` (workload controllers). */
export function validatePodTemplate(template: unknown, field: string, selectorLabels?: Record<string, string>): FieldError[] {
  if (!isPlainObject(template)) return [fieldErrors.required(field)];
  const errs: FieldError[] = [];
  const metadata = (isPlainObject(template.metadata) ? template.metadata : {}) as Container;
  errs.push(...validateLabels(metadata.labels, `${field}.metadata.labels`));
  errs.push(...validateAnnotations(metadata.annotations, `${field}.metadata.annotations`));
  errs.push(...validatePodSpec(template.spec, `${field}.spec`));
  if (selectorLabels) {
    const labels = (metadata.labels ?? {}) as Record<string, string>;
    const matches = Object.entries(selectorLabels).every(([k, v]) => labels[k] === v);
    if (!matches) errs.push(fieldErrors.invalid(`${field}.metadata.labels`, labels, '`selector` does not match template `labels`'));
  }
  return errs;
}
