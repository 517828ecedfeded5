/** core/v1 Pod. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject, jsonEqual } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { age, ageColumn } from './common/printing.js';
import { defaultPodSpec, validatePodSpec } from './common/pod-spec.js';
import { addDefaultTolerations } from '../admission/plugins/default-toleration-seconds.js';

/**
 * What the ServiceAccount, Priority and DefaultTolerationSeconds admission plugins set, for pods
 * written without them (a registry with no admission chain); after the plugins these are no-ops.
 */
function admissionDefaults(pod: Obj): void {
  const spec = pod.spec;
  // A malformed spec is left for validation to report.
  if (!isPlainObject(spec)) return;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.enableServiceLinks ??= true;
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  addDefaultTolerations(spec);
}

/** A container's limits stand for its missing requests (upstream's SetDefaults_Pod; not for templates). */
function defaultRequestsFromLimits(spec: Obj['spec']): void {
  if (!isPlainObject(spec)) return;
  for (const field of ['containers', 'initContainers']) {
    for (const container of Array.isArray(spec[field]) ? spec[field] : []) {
      const resources = isPlainObject(container) ? container.resources : undefined;
      if (!isPlainObject(resources) || !isPlainObject(resources.limits)) continue;
      const requests = isPlainObject(resources.requests) ? resources.requests : {};
      for (const [name, value] of Object.entries(resources.limits)) if (!(name in requests)) requests[name] = value;
      resources.requests = requests;
    }
  }
}

/**
 * Fields the server sets on a pod at create (defaults, admission, binding) that a declarative
 * update (`kubectl replace -f`, apply) of the user's own manifest leaves out. Left out, they are
 * not a change the user asked for: they keep their stored values, as upstream's Priority and
 * ServiceAccount admission keep theirs on update.
 */
const SERVER_SET_SPEC_FIELDS = ['serviceAccountName', 'serviceAccount', 'nodeName', 'priority', 'preemptionPolicy', 'priorityClassName', 'enableServiceLinks'] as const;
/** The service-account token volume the ServiceAccount admission plugin projects. */
const TOKEN_VOLUME = /^kube-api-access-/;

type Json = Record<string, any>;

function keepServerSetFields(spec: Json, old: Json): void {
  for (const field of SERVER_SET_SPEC_FIELDS) if (spec[field] === undefined && old[field] !== undefined) spec[field] = old[field];
  const oldVolumes: Json[] = Array.isArray(old.volumes) ? (old.volumes.filter(isPlainObject) as Json[]) : [];
  const injected = oldVolumes.filter((v) => typeof v.name === 'string' && TOKEN_VOLUME.test(v.name) && v.projected);
  if (injected.length === 0 || (spec.volumes !== undefined && !Array.isArray(spec.volumes))) return;
  const volumes: Json[] = (spec.volumes ??= []);
  for (const volume of injected) if (!volumes.some((v) => isPlainObject(v) && v.name === volume.name)) volumes.push(volume);
  for (const key of ['containers', 'initContainers'] as const) {
    if (!Array.isArray(spec[key]) || !Array.isArray(old[key])) continue;
    for (const container of spec[key] as unknown[]) {
      if (!isPlainObject(container)) continue;
      const before = (old[key] as Json[]).find((c) => isPlainObject(c) && c.name === container.name);
      const mounts: Json[] = Array.isArray(before?.volumeMounts) ? before.volumeMounts.filter((m: Json) => isPlainObject(m) && injected.some((v) => v.name === m.name)) : [];
      if (mounts.length === 0 || (container.volumeMounts !== undefined && !Array.isArray(container.volumeMounts))) continue;
      const current: Json[] = ((container as Json).volumeMounts ??= []);
      for (const mount of mounts) if (!current.some((m) => isPlainObject(m) && m.name === mount.name)) current.push(mount);
    }
  }
}

function qosClass(pod: Obj): string {
  const list = (value: unknown): Obj[] => (Array.isArray(value) ? value.filter(isPlainObject) as Obj[] : []);
  const containers: Obj[] = [...list(pod.spec?.containers), ...list(pod.spec?.initContainers)];
  let anyResources = false;
  let guaranteed = true;
  for (const c of containers) {
    const requests = isPlainObject(c.resources?.requests) ? c.resources.requests : {};
    const limits = isPlainObject(c.resources?.limits) ? c.resources.limits : {};
    if (Object.keys(requests).length || Object.keys(limits).length) anyResources = true;
    for (const r of ['cpu', 'memory']) {
      if (limits[r] === undefined || (requests[r] !== undefined && requests[r] !== limits[r])) guaranteed = false;
    }
  }
  if (!anyResources) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** The STATUS column: upstream's printPod reason logic, simplified to what we can observe. */
export function podStatusReason(pod: Obj): string {
  const status = pod.status ?? {};
  let reason: string = status.reason || status.phase || 'Unknown';
  const initStatuses: Obj[] = status.initContainerStatuses ?? [];
  let initializing = false;
  initStatuses.forEach((c, i) => {
    if (initializing) return;
    if (c.state?.terminated?.exitCode === 0) return;
    if (c.state?.terminated) {
      reason = c.state.terminated.reason ? `Init:${c.state.terminated.reason}` : `Init:ExitCode:${c.state.terminated.exitCode}`;
      initializing = true;
    } else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${c.state.waiting.reason}`;
      initializing = true;
    } else {
      reason = `Init:${i}/${(pod.spec?.initContainers ?? []).length}`;
      initializing = true;
    }
  });
  if (!initializing) {
    let hasRunning = false;
    for (const c of [...(status.containerStatuses ?? [])].reverse() as Obj[]) {
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state?.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = (status.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  }
  if (pod.metadata.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

function readyCount(pod: Obj): string {
  const statuses: Obj[] = pod.status?.containerStatuses ?? [];
  const total = (pod.spec?.containers ?? []).length;
  return `${statuses.filter((c) => c.ready).length}/${total}`;
}

function restarts(pod: Obj): string {
  let count = 0;
  let lastRestart: string | undefined;
  for (const c of (pod.status?.containerStatuses ?? []) as Obj[]) {
    count += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished && (!lastRestart || finished > lastRestart)) lastRestart = finished;
  }
  return lastRestart && count > 0 ? `${count} (${age(lastRestart)} ago)` : String(count);
}

function readinessGates(pod: Obj): string {
  const gates: Obj[] = pod.spec?.readinessGates ?? [];
  if (gates.length === 0) return '<none>';
  const conditions: Obj[] = pod.status?.conditions ?? [];
  const ready = gates.filter((g) => conditions.some((c) => c.type === g.conditionType && c.status === 'True')).length;
  return `${ready}/${gates.length}`;
}

/** Fields a pod update may change (upstream's ValidatePodUpdate, in substance). */
function validatePodUpdate(pod: Obj, old: Obj): FieldError[] {
  const strip = (spec: Obj) => ({
    ...spec,
    containers: (spec.containers ?? []).map((c: Obj) => ({ ...c, image: undefined })),
    initContainers: (spec.initContainers ?? []).map((c: Obj) => ({ ...c, image: undefined })),
    activeDeadlineSeconds: undefined,
    tolerations: undefined,
    terminationGracePeriodSeconds: undefined,
    // Scheduling gates may only be removed (checked below).
    schedulingGates: undefined,
    // Binding sets nodeName once; it is immutable after.
    nodeName: old.spec?.nodeName ? spec.nodeName : undefined,
  });
  const oldGates = new Set(((old.spec?.schedulingGates ?? []) as Obj[]).map((g) => g.name));
  if (((pod.spec?.schedulingGates ?? []) as Obj[]).some((g) => !oldGates.has(g.name))) {
    return [fieldErrors.forbidden('spec.schedulingGates', 'only deletion is allowed, but found new scheduling gate')];
  }
  if (jsonEqual(strip(pod.spec ?? {}), strip(old.spec ?? {}))) return [];
  return [
    fieldErrors.forbidden(
      'spec',
      'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    ),
  ];
}

export const pods: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  shortNames: ['po'],
  categories: ['all'],
  namespaced: true,
  statusSubresource: true,

  defaults(pod) {
    pod.spec ??= {};
    defaultPodSpec(pod.spec);
    defaultRequestsFromLimits(pod.spec);
  },
  prepareForCreate(pod) {
    admissionDefaults(pod);
    pod.status = { phase: 'Pending', qosClass: qosClass(pod) };
  },
  prepareForUpdate(pod, old) {
    if (!isPlainObject(pod.spec) || !isPlainObject(old.spec)) return;
    keepServerSetFields(pod.spec as Json, old.spec as Json);
    // DefaultTolerationSeconds admits updates too (only additions to tolerations are allowed).
    admissionDefaults(pod);
  },
  gracefulDeletionPeriod(pod, requested) {
    // The requested period, else the pod's own; a pod no kubelet runs, or one that finished,
    // has nothing to stop and goes at once (upstream's podStrategy.CheckGracefulDelete).
    let period = requested ?? (typeof pod.spec?.terminationGracePeriodSeconds === 'number' ? pod.spec.terminationGracePeriodSeconds : 0);
    if (!pod.spec?.nodeName) period = 0;
    if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') period = 0;
    return period < 0 ? 1 : period;
  },
  validate(pod, old) {
    const errs = validatePodSpec(pod.spec, 'spec');
    if (old) errs.push(...validatePodUpdate(pod, old));
    return errs;
  },

  columns: [
    { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.', cell: readyCount },
    { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', cell: podStatusReason },
    { name: 'Restarts', type: 'string', description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.', cell: restarts },
    ageColumn,
    { name: 'IP', type: 'string', priority: 1, description: 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', cell: (p) => p.status?.podIP || '<none>' },
    { name: 'Node', type: 'string', priority: 1, description: 'NodeName is a request to schedule this pod onto a specific node.', cell: (p) => p.spec?.nodeName || '<none>' },
    { name: 'Nominated Node', type: 'string', priority: 1, description: 'nominatedNodeName is set only when this pod preempts other pods on the node.', cell: (p) => p.status?.nominatedNodeName || '<none>' },
    { name: 'Readiness Gates', type: 'string', priority: 1, description: 'If specified, all readiness gates will be evaluated for pod readiness.', cell: readinessGates },
  ],
  fieldSelectors: {
    'spec.nodeName': (p) => p.spec?.nodeName ?? '',
    'spec.restartPolicy': (p) => p.spec?.restartPolicy,
    'spec.schedulerName': (p) => p.spec?.schedulerName,
    'spec.serviceAccountName': (p) => p.spec?.serviceAccountName,
    'spec.hostNetwork': (p) => String(p.spec?.hostNetwork ?? false),
    'status.phase': (p) => p.status?.phase,
    'status.podIP': (p) => p.status?.podIP ?? '',
    'status.nominatedNodeName': (p) => p.status?.nominatedNodeName ?? '',
  },
};
