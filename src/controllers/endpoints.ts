/**
 * The Endpoints controller ("endpoints-controller", upstream pkg/controller/endpoint): one
 * core/v1 Endpoints per Service with a selector, named as the Service, listing the matching
 * pods' addresses — Ready ones under `addresses`, the rest under `notReadyAddresses` (all under
 * `addresses` with publishNotReadyAddresses) — for each Service port resolved on each pod
 * (numeric or named targetPort), repacked into subsets of identical port sets. Services without
 * a selector are left alone (their Endpoints are someone else's, e.g. the `kubernetes` Service's).
 */
import { ApiError } from '../api/status.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import type { SharedInformer } from '../client/informer.js';
import { ENDPOINTS, PODS, SERVICES, splitKey } from '../client/resource-types.js';
import { jsonEqual } from '../api/object.js';
import type { ControllerDefinition } from './manager.js';
import { isPodReady } from './pod-state.js';
import { keyOf, startReconciler } from './reconciler.js';
import { findPort, hostnameFor, isHeadless, podAddressFor, queueOnServicesAndPods, serviceSelector, shouldPodBeInEndpoints } from './service-endpoints.js';

/** Upstream's cap on addresses in one Endpoints object; beyond it the object is truncated. */
export const MAX_ENDPOINTS_ADDRESSES = 1000;
const OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
const HEADLESS_LABEL = 'service.kubernetes.io/headless';

interface Address {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

interface Port {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** One (address, port-set, ready) observation before repacking. */
interface Entry {
  address: Address;
  ports: Port[];
  ready: boolean;
}

function addressOf(service: Obj, pod: Obj): Address | undefined {
  const ip = podAddressFor(service, pod);
  if (!ip) return undefined;
  const address: Address = { ip, targetRef: { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! } };
  const hostname = hostnameFor(service, pod);
  if (hostname) address.hostname = hostname;
  if (pod.spec?.nodeName) address.nodeName = pod.spec.nodeName;
  return address;
}

/** The Endpoints subsets a Service's pods make (upstream's syncService loop + RepackSubsets). */
export function desiredSubsets(service: Obj, pods: readonly Obj[]): Obj[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const servicePorts: Obj[] = Array.isArray(service.spec?.ports) ? service.spec.ports : [];
  const entries: Entry[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const address = addressOf(service, pod);
    if (!address) continue;
    const ready = publishNotReady || isPodReady(pod);
    if (servicePorts.length === 0) {
      // A headless Service without ports still lists its pods.
      if (isHeadless(service)) entries.push({ address, ports: [], ready });
      continue;
    }
    for (const servicePort of servicePorts) {
      const port = findPort(pod, servicePort);
      if (port === undefined) continue;
      const endpointPort: Port = { port, protocol: servicePort.protocol ?? 'TCP' };
      if (servicePort.name) endpointPort.name = servicePort.name;
      if (servicePort.appProtocol) endpointPort.appProtocol = servicePort.appProtocol;
      entries.push({ address, ports: [endpointPort], ready });
    }
  }
  return repack(entries);
}

const portKey = (p: Port) => `${p.name ?? ''}/${p.port}/${p.protocol}/${p.appProtocol ?? ''}`;
const addressKey = (a: Address) => `${a.ip}/${a.targetRef.uid}`;

/**
 * Groups addresses by the exact set of ports they serve (ready and not ready separately, ready
 * winning for an address seen both ways on one port), in a stable order: addresses by IP then
 * uid, ports by name and number, subsets by their first address.
 */
function repack(entries: readonly Entry[]): Obj[] {
  const byAddress = new Map<string, { address: Address; ports: Map<string, { port: Port; ready: boolean }> }>();
  for (const entry of entries) {
    const key = addressKey(entry.address);
    let slot = byAddress.get(key);
    if (!slot) byAddress.set(key, (slot = { address: entry.address, ports: new Map() }));
    const ports = entry.ports.length === 0 ? [undefined] : entry.ports;
    for (const port of ports) {
      const pk = port ? portKey(port) : '';
      const seen = slot.ports.get(pk);
      slot.ports.set(pk, { port: port as Port, ready: (seen?.ready ?? false) || entry.ready });
    }
  }
  const subsets = new Map<string, { ports: Port[]; addresses: Address[]; notReadyAddresses: Address[] }>();
  for (const { address, ports } of byAddress.values()) {
    for (const ready of [true, false]) {
      const mine = [...ports.entries()].filter(([, v]) => v.ready === ready);
      if (mine.length === 0) continue;
      const sorted = mine.map(([k, v]) => [k, v.port] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const key = sorted.map(([k]) => k).join(',');
      let subset = subsets.get(key);
      if (!subset) subsets.set(key, (subset = { ports: sorted.map(([, p]) => p).filter(Boolean), addresses: [], notReadyAddresses: [] }));
      (ready ? subset.addresses : subset.notReadyAddresses).push(address);
    }
  }
  const byIp = (a: Address, b: Address) => compareIp(a.ip, b.ip) || (a.targetRef.uid < b.targetRef.uid ? -1 : a.targetRef.uid > b.targetRef.uid ? 1 : 0);
  const result = [...subsets.values()].map((s) => {
    s.addresses.sort(byIp);
    s.notReadyAddresses.sort(byIp);
    const subset: Obj = {} as Obj;
    if (s.addresses.length) subset.addresses = s.addresses;
    if (s.notReadyAddresses.length) subset.notReadyAddresses = s.notReadyAddresses;
    if (s.ports.length) subset.ports = s.ports;
    return subset;
  });
  const first = (s: Obj) => (s.addresses ?? s.notReadyAddresses)[0] as Address;
  return result.sort((a, b) => byIp(first(a), first(b)));
}

function compareIp(a: string, b: string): number {
  const pa = a.split(/[.:]/).map((x) => parseInt(x || '0', a.includes(':') ? 16 : 10));
  const pb = b.split(/[.:]/).map((x) => parseInt(x || '0', b.includes(':') ? 16 : 10));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Keeps at most MAX_ENDPOINTS_ADDRESSES addresses (ready first), as upstream's truncation. */
function truncate(subsets: Obj[]): { subsets: Obj[]; truncated: boolean } {
  const total = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);
  if (total <= MAX_ENDPOINTS_ADDRESSES) return { subsets, truncated: false };
  let room = MAX_ENDPOINTS_ADDRESSES;
  const kept = subsets.map((s) => ({ ...s }));
  for (const field of ['addresses', 'notReadyAddresses'] as const) {
    for (const s of kept) {
      if (!s[field]) continue;
      s[field] = s[field].slice(0, Math.max(0, room));
      room -= s[field].length;
      if (s[field].length === 0) delete s[field];
    }
  }
  return { subsets: kept.filter((s) => s.addresses || s.notReadyAddresses), truncated: true };
}

export class EndpointsSync {
  constructor(private readonly deps: { client: ApiClient; services: SharedInformer; pods: SharedInformer; endpoints: SharedInformer }) {}

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const { client } = this.deps;
    const service = this.deps.services.lister.get(namespace, name);
    if (!service) {
      // The Service is gone: so are its Endpoints (whoever kept them).
      if (!this.deps.endpoints.lister.get(namespace, name)) return;
      try {
        await client.delete(ENDPOINTS, namespace, name);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 404)) throw error;
      }
      return;
    }
    const selector = serviceSelector(service);
    if (!selector) return;
    const pods = this.deps.pods.lister.list(namespace, selector);
    const { subsets, truncated } = truncate(desiredSubsets(service, pods));
    const labels: Record<string, string> = { ...(service.metadata.labels ?? {}) };
    if (isHeadless(service)) labels[HEADLESS_LABEL] = '';
    else delete labels[HEADLESS_LABEL];

    const existing = this.deps.endpoints.lister.get(namespace, name);
    const annotations: Record<string, string> = { ...(existing?.metadata.annotations ?? {}) };
    if (truncated) annotations[OVER_CAPACITY] = 'truncated';
    else delete annotations[OVER_CAPACITY];
    if (existing && jsonEqual(existing.subsets ?? [], subsets) && jsonEqual(existing.metadata.labels ?? {}, labels) && jsonEqual(existing.metadata.annotations ?? {}, annotations)) return;

    const metadata: Obj['metadata'] = { name, namespace, labels };
    if (Object.keys(annotations).length) metadata.annotations = annotations;
    if (!existing) {
      const created: Obj = { apiVersion: 'v1', kind: 'Endpoints', metadata };
        // An empty list is left out, as Go's omitempty writes it.
        if (subsets.length) created.subsets = subsets;
      // Created meanwhile by someone else: the create fails and the retry updates it.
      await client.create(ENDPOINTS, namespace, created);
      return;
    }
    const updated: Obj = { ...existing, metadata: { ...existing.metadata, labels, annotations } };
    if (subsets.length) updated.subsets = subsets;
    else delete updated.subsets;
    await client.update(ENDPOINTS, namespace, name, updated);
  }
}

export function newEndpointsController(): ControllerDefinition {
  return {
    name: 'endpoints-controller',
    aliases: ['endpoint', 'endpoints'],
    serviceAccount: 'endpoint-controller',
    workersFlag: { name: 'concurrent-endpoint-syncs', default: 5 },
    flags: [{ name: 'endpoint-updates-batch-period', kind: 'duration', default: 0, description: 'How long pod changes are gathered before a Service\'s Endpoints are rewritten.' }],
    async start(context) {
      const services = context.informers.informer(SERVICES);
      const pods = context.informers.informer(PODS);
      const endpoints = context.informers.informer(ENDPOINTS);
      const queue = context.newQueue('endpoint');
      const batchMs = Number(context.settings['endpoint-updates-batch-period'] ?? 0);
      const sync = new EndpointsSync({ client: context.client, services, pods, endpoints });
      const { handlers: serviceAndPodHandlers } = queueOnServicesAndPods(services, pods, queue, batchMs);
      const handlers = [
        ...serviceAndPodHandlers,
        // Someone else changed or removed an Endpoints a Service of ours owns: put it right.
        endpoints.addEventHandler({
          onUpdate: (_o, e) => {
            if (services.lister.get(e.metadata.namespace, e.metadata.name!)) queue.add(keyOf(e));
          },
          onDelete: (e) => {
            if (services.lister.get(e.metadata.namespace, e.metadata.name!)) queue.add(keyOf(e));
          },
        }),
      ];
      return startReconciler({ context, queue, informers: [services, pods, endpoints], reconcile: (key) => sync.sync(key), handlers });
    },
  };
}

export const endpointsController = newEndpointsController();
