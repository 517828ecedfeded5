/**
 * What the Endpoints and EndpointSlice controllers share (upstream's endpointutil and podutil):
 * which pods back a Service, their address for the Service's IP family, the port a servicePort
 * names on a pod, the hostname of a headless Service's pods, and the Services a pod change
 * concerns.
 */
import { isIPv6 } from 'node:net';
import type { Obj } from '../client/api-client.js';
import type { SharedInformer } from '../client/informer.js';
import { matchesLabels, type LabelSelector } from '../api/selectors.js';
import { isPlainObject } from '../api/object.js';
import { objectKey } from '../client/resource-types.js';
import type { WorkQueue } from '../client/work-queue.js';
import { keyOf } from './reconciler.js';

/** The Service's selector as requirements, or undefined when it has none (endpoints kept by someone else). */
export function serviceSelector(service: Obj): LabelSelector | undefined {
  const selector = service.spec?.selector;
  if (!isPlainObject(selector)) return undefined;
  return Object.entries(selector).map(([key, value]) => ({ key, op: 'in' as const, values: [String(value)] }));
}

/**
 * ShouldPodBeInEndpoints: a pod with an IP that is not finished for good; a terminating pod only
 * when `includeTerminating`.
 */
export function shouldPodBeInEndpoints(pod: Obj, includeTerminating: boolean): boolean {
  if (!pod.status?.podIP && !(Array.isArray(pod.status?.podIPs) && pod.status.podIPs.length > 0)) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  if (restartPolicy === 'Never') return phase !== 'Failed' && phase !== 'Succeeded';
  if (restartPolicy === 'OnFailure') return phase !== 'Succeeded';
  return true;
}

/** The pod's IP of the Service's (first) IP family, else its primary IP. */
export function podAddressFor(service: Obj, pod: Obj): string | undefined {
  const family = Array.isArray(service.spec?.ipFamilies) ? service.spec.ipFamilies[0] : undefined;
  const ips: string[] = (Array.isArray(pod.status?.podIPs) ? pod.status.podIPs : []).map((p: Obj) => p?.ip).filter((ip: unknown): ip is string => typeof ip === 'string');
  if (pod.status?.podIP && !ips.includes(pod.status.podIP)) ips.unshift(pod.status.podIP);
  if (family) {
    const wanted = ips.find((ip) => (family === 'IPv6') === isIPv6(ip));
    if (wanted) return wanted;
    return undefined;
  }
  return ips[0];
}

/** A headless Service names its pods by hostname when they declare it as their subdomain. */
export function hostnameFor(service: Obj, pod: Obj): string | undefined {
  const hostname = pod.spec?.hostname;
  if (typeof hostname !== 'string' || hostname === '') return undefined;
  return pod.spec?.subdomain === service.metadata.name && pod.metadata.namespace === service.metadata.namespace ? hostname : undefined;
}

/**
 * FindPort: a numeric targetPort is taken as it is; a named one is the container port of that
 * name and protocol, or undefined when the pod has none.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function findPort(pod: Obj, servicePort: Record<string, any>): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  if (typeof target !== 'string') return undefined;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = servicePort.protocol ?? 'TCP';
  for (const container of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c: Obj) => c?.restartPolicy === 'Always')] as Obj[]) {
    for (const port of (container?.ports ?? []) as Obj[]) {
      if (port?.name === target && (port.protocol ?? 'TCP') === protocol) return port.containerPort;
    }
  }
  return undefined;
}

export function isHeadless(service: Obj): boolean {
  return service.spec?.clusterIP === 'None';
}

/** Services of the pod's namespace whose selector matches its labels (old or new). */
export function servicesForPod(services: SharedInformer, pod: Obj, oldLabels?: Record<string, string>): string[] {
  const keys: string[] = [];
  for (const service of services.lister.list(pod.metadata.namespace)) {
    const selector = serviceSelector(service);
    if (!selector || selector.length === 0) continue;
    if (matchesLabels(selector, pod.metadata.labels) || (oldLabels && matchesLabels(selector, oldLabels))) {
      keys.push(objectKey(service.metadata.namespace, service.metadata.name ?? ''));
    }
  }
  return keys;
}

/**
 * Whether a pod update can change what a Service publishes: its IPs, readiness, deletion,
 * labels, phase, node, hostname or ports (upstream's podEndpointsChanged, in substance).
 */
export function podChangedForEndpoints(old: Obj, pod: Obj): boolean {
  if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return false;
  const view = (p: Obj) =>
    JSON.stringify([
      p.status?.podIP,
      p.status?.podIPs,
      p.status?.phase,
      (p.status?.conditions ?? []).find((c: Obj) => c?.type === 'Ready')?.status,
      p.metadata.deletionTimestamp,
      p.metadata.labels,
      p.spec?.nodeName,
      p.spec?.hostname,
      p.spec?.subdomain,
      (p.spec?.containers ?? []).map((c: Obj) => c?.ports),
    ]);
  return view(old) !== view(pod);
}

/**
 * The event wiring both controllers share: a Service's own changes queue it at once; a pod change
 * that can alter what a Service publishes queues every Service it concerns (by its new or old
 * labels) after the batch period. `queueServicesOf` is for other events that concern a pod.
 */
export function queueOnServicesAndPods(services: SharedInformer, pods: SharedInformer, queue: WorkQueue, batchMs: number) {
  const queueServicesOf = (pod: Obj, oldLabels?: Record<string, string>) => {
    for (const key of servicesForPod(services, pod, oldLabels)) queue.addAfter(key, batchMs);
  };
  const handlers = [
    services.addEventHandler({ onAdd: (s) => queue.add(keyOf(s)), onUpdate: (_o, s) => queue.add(keyOf(s)), onDelete: (s) => queue.add(keyOf(s)) }),
    pods.addEventHandler({
      onAdd: (pod) => queueServicesOf(pod),
      onUpdate: (old, pod) => {
        if (podChangedForEndpoints(old, pod)) queueServicesOf(pod, old.metadata.labels);
      },
      onDelete: (pod) => queueServicesOf(pod),
    }),
  ];
  return { handlers, queueServicesOf };
}
