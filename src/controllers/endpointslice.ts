/**
 * The EndpointSlice controller ("endpointslice-controller", upstream pkg/controller/endpointslice
 * and its reconciler): for each Service with a selector, discovery.k8s.io/v1 EndpointSlices of at
 * most --max-endpoints-per-slice (100) endpoints per address type and resolved port set, labelled
 * `kubernetes.io/service-name` and `endpointslice.kubernetes.io/managed-by`, owned by the Service.
 * Each endpoint carries ready/serving/terminating, hostname (headless subdomain), nodeName and
 * zone. Reconciling keeps endpoints in the slice they are in (few writes under churn), fills
 * slices with room before creating one, turns deletions into updates where it can, and keeps one
 * empty placeholder slice for a Service without endpoints.
 */
import { isIPv6 } from 'node:net';
import { jsonEqual } from '../api/object.js';
import { ApiError } from '../api/status.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import type { SharedInformer } from '../client/informer.js';
import { ENDPOINT_SLICES, NODES, PODS, SERVICES, objectKey, splitKey } from '../client/resource-types.js';
import type { ReconcileResult } from '../client/work-queue.js';
import type { ControllerDefinition } from './manager.js';
import { isPodReady } from './pod-state.js';
import { podsByNode } from './pod-indexes.js';
import { keyOf, startReconciler } from './reconciler.js';
import { findPort, hostnameFor, isHeadless, queueOnServicesAndPods, serviceSelector, shouldPodBeInEndpoints } from './service-endpoints.js';
import { hintsEnabled, nodeTopologyFacts, TopologyHints, withoutHints, type HintEvent, type HintTarget } from './topology-hints.js';
import type { EventRecorder } from '../client/event-recorder.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
const HEADLESS_LABEL = 'service.kubernetes.io/headless';
const ZONE_LABEL = 'topology.kubernetes.io/zone';
const BY_SERVICE = 'service';

export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

interface Desired {
  ports: Fields[];
  /** Endpoints by their pod's uid. */
  endpoints: Map<string, Fields>;
}

function endpointKey(endpoint: Fields): string {
  return endpoint.targetRef?.uid ?? (endpoint.addresses ?? []).join(',');
}

function portsKey(ports: readonly Fields[] | null | undefined): string {
  return JSON.stringify((ports ?? []).map((p) => [p.name ?? '', p.port ?? null, p.protocol ?? 'TCP', p.appProtocol ?? null]));
}

function addressTypesOf(service: Obj): string[] {
  const families: string[] = Array.isArray(service.spec?.ipFamilies) && service.spec.ipFamilies.length > 0 ? service.spec.ipFamilies : ['IPv4'];
  return families.filter((f) => f === 'IPv4' || f === 'IPv6');
}

/** The labels a Service's slices carry: the Service's own (but ours), ours, and headless. */
function sliceLabels(service: Obj): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(service.metadata.labels ?? {})) {
    if (key !== SERVICE_NAME_LABEL && key !== MANAGED_BY_LABEL && key !== HEADLESS_LABEL) labels[key] = value as string;
  }
  if (isHeadless(service)) labels[HEADLESS_LABEL] = '';
  labels[SERVICE_NAME_LABEL] = service.metadata.name!;
  labels[MANAGED_BY_LABEL] = MANAGED_BY;
  return labels;
}

/** generateName for a Service's slices: its name and a dash, cut to leave room for the suffix. */
function slicePrefix(service: Obj): string {
  const prefix = `${service.metadata.name}-`;
  return prefix.length > 58 ? `${prefix.slice(0, 57).replace(/[-.]+$/, '')}-` : prefix;
}

export interface SliceSyncDeps {
  client: ApiClient;
  services: SharedInformer;
  pods: SharedInformer;
  nodes: SharedInformer;
  slices: SharedInformer;
  maxEndpointsPerSlice: number;
  /** Topology aware hints (upstream's topology cache); none when absent. */
  hints?: TopologyHints;
  events?: EventRecorder;
}

export class EndpointSliceSync {
  constructor(private readonly deps: SliceSyncDeps) {}

  /** The slices this controller manages for the Service `namespace/name`. */
  managedSlices(namespace: string, name: string): Obj[] {
    return this.deps.slices.lister.byIndex(BY_SERVICE, objectKey(namespace, name)).filter((s) => s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY);
  }

  async sync(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const service = this.deps.services.lister.get(namespace, name);
    const existing = this.managedSlices(namespace!, name);
    if (!service) {
      this.deps.hints?.forget(key);
      // The garbage collector removes them too (they are owned); doing it here is prompter.
      for (const slice of existing) await this.remove(slice);
      return;
    }
    if (service.spec?.type === 'ExternalName') return;
    const selector = serviceSelector(service);
    if (!selector) return;
    const pods = this.deps.pods.lister.list(namespace, selector);
    const addressTypes = addressTypesOf(service);
    let podsOnUnknownNodes = false;
    const writes: Array<() => Promise<void>> = [];
    // Slices of an address type the Service no longer has go.
    const toDelete = existing.filter((s) => !addressTypes.includes(s.addressType));
    let kept = 0;
    for (const addressType of addressTypes) {
      const { desired, missingNodes } = this.desiredEndpoints(service, pods, addressType);
      podsOnUnknownNodes ||= missingNodes;
      const plan = this.plan(service, addressType, desired, existing.filter((s) => s.addressType === addressType));
      for (const event of plan.events) this.deps.events?.event(service, event.type, event.reason, event.message);
      kept += plan.kept;
      writes.push(...plan.writes);
      toDelete.push(...plan.toDelete);
    }
    if (kept === 0) {
      // No endpoints at all: keep (or make) one empty placeholder slice.
      const placeholder = this.newSlice(service, addressTypes[0] ?? 'IPv4', [], []);
      const reusable = toDelete.find((s) => isPlaceholder(s) && s.addressType === placeholder.addressType);
      if (reusable) {
        toDelete.splice(toDelete.indexOf(reusable), 1);
        writes.push(() => this.update(reusable, { ...reusable, metadata: { ...reusable.metadata, labels: placeholder.metadata.labels, ownerReferences: placeholder.metadata.ownerReferences } }));
      } else {
        writes.push(() => this.create(placeholder));
      }
    }
    for (const slice of toDelete) writes.push(() => this.remove(slice));
    for (const write of writes) await write();
    // A pod on a node the cache does not know yet is left out for now, as upstream; look again.
    if (podsOnUnknownNodes) return { requeueAfterMs: 1000 };
  }

  private desiredEndpoints(service: Obj, pods: readonly Obj[], addressType: string): { desired: Map<string, Desired>; missingNodes: boolean } {
    const desired = new Map<string, Desired>();
    const servicePorts: Fields[] = Array.isArray(service.spec?.ports) ? service.spec.ports : [];
    const publishNotReady = service.spec?.publishNotReadyAddresses === true;
    let missingNodes = false;
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const ip = podIpOfType(pod, addressType);
      if (!ip) continue;
      const nodeName = pod.spec?.nodeName;
      const node = nodeName ? this.deps.nodes.lister.get(undefined, nodeName) : undefined;
      if (nodeName && !node) {
        missingNodes = true;
        continue;
      }
      const ports: Fields[] = [];
      for (const servicePort of servicePorts) {
        const port = findPort(pod, servicePort);
        if (port === undefined) continue;
        const endpointPort: Fields = { name: servicePort.name ?? '', port, protocol: servicePort.protocol ?? 'TCP' };
        if (servicePort.appProtocol) endpointPort.appProtocol = servicePort.appProtocol;
        ports.push(endpointPort);
      }
      const terminating = pod.metadata.deletionTimestamp !== undefined;
      const podReady = isPodReady(pod);
      const endpoint: Fields = {
        addresses: [ip],
        conditions: { ready: publishNotReady || (podReady && !terminating), serving: podReady, terminating },
      };
      const hostname = hostnameFor(service, pod);
      if (hostname) endpoint.hostname = hostname;
      endpoint.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
      if (nodeName) endpoint.nodeName = nodeName;
      const zone = node?.metadata.labels?.[ZONE_LABEL];
      if (zone) endpoint.zone = zone;
      const key = portsKey(ports);
      let group = desired.get(key);
      if (!group) desired.set(key, (group = { ports, endpoints: new Map() }));
      group.endpoints.set(endpointKey(endpoint), endpoint);
    }
    return { desired, missingNodes };
  }

  /**
   * Upstream's reconcileByPortMapping for one address type: the writes that bring `existing` to
   * `desired`, and how many non-empty slices remain.
   */
  private plan(service: Obj, addressType: string, desired: Map<string, Desired>, existing: Obj[]): { writes: Array<() => Promise<void>>; toDelete: Obj[]; kept: number; events: HintEvent[] } {
    const max = this.deps.maxEndpointsPerSlice;
    const labels = sliceLabels(service);
    const owner = [{ apiVersion: 'v1', kind: 'Service', name: service.metadata.name!, uid: service.metadata.uid!, controller: true, blockOwnerDeletion: true }];
    const toUpdate = new Map<Obj, Fields[]>(); // existing slice → its new endpoints
    const unchanged: Obj[] = [];
    const toDelete: Obj[] = [];
    for (const slice of existing) {
      const group = desired.get(portsKey(slice.ports));
      if (!group) {
        toDelete.push(slice);
        continue;
      }
      let changed = !jsonEqual(slice.metadata.labels, labels) || !jsonEqual(slice.metadata.ownerReferences, owner);
      const endpoints: Fields[] = [];
      for (const endpoint of (slice.endpoints ?? []) as Fields[]) {
        const key = endpointKey(endpoint);
        const wanted = group.endpoints.get(key);
        // An endpoint listed twice (in two slices) stays only in the first.
        if (!wanted) {
          changed = true;
          continue;
        }
        // Hints are the topology step's to decide (below), not a difference by themselves.
        if (!jsonEqual(wanted, withoutHints(endpoint))) changed = true;
        endpoints.push(wanted);
        group.endpoints.delete(key);
      }
      if (endpoints.length === 0) toDelete.push(slice);
      else if (changed) toUpdate.set(slice, endpoints);
      else unchanged.push(slice);
    }
    const toCreate: Array<{ ports: Fields[]; endpoints: Fields[] }> = [];
    for (const [key, group] of desired) {
      const remaining = [...group.endpoints.values()];
      if (remaining.length === 0) continue;
      // Slices already being written, then untouched ones, take what fits.
      const candidates = [...[...toUpdate.keys()].filter((s) => portsKey(s.ports) === key), ...unchanged.filter((s) => portsKey(s.ports) === key)];
      for (const slice of candidates) {
        if (remaining.length === 0) break;
        const current = toUpdate.get(slice) ?? [...(slice.endpoints ?? [])];
        const room = max - current.length;
        if (room <= 0) continue;
        const added = remaining.splice(0, room);
        toUpdate.set(slice, [...current, ...added]);
        const at = unchanged.indexOf(slice);
        if (at >= 0) unchanged.splice(at, 1);
      }
      while (remaining.length > 0) toCreate.push({ ports: group.ports, endpoints: remaining.splice(0, max) });
    }
    const events = this.deps.hints ? this.deps.hints.apply(this.hintTarget(service, addressType, toUpdate, unchanged, toCreate), hintsEnabled(service.metadata.annotations), service.spec?.trafficDistribution) : [];
    const writes: Array<() => Promise<void>> = [];
    for (const [slice, endpoints] of toUpdate) writes.push(() => this.update(slice, { ...slice, metadata: { ...slice.metadata, labels, ownerReferences: owner }, endpoints }));
    for (const wanted of toCreate) {
      // A slice about to be deleted is rewritten instead (one write, not two).
      const recycled = toDelete.pop();
      if (recycled) writes.push(() => this.update(recycled, { ...recycled, metadata: { ...recycled.metadata, labels, ownerReferences: owner }, ports: wanted.ports, endpoints: wanted.endpoints }));
      else writes.push(() => this.create(this.newSlice(service, addressType, wanted.ports, wanted.endpoints)));
    }
    return { writes, toDelete, kept: toUpdate.size + unchanged.length + toCreate.length, events };
  }

  /** The plan's endpoint lists as the topology step sees them; a rewritten unchanged slice joins the updates. */
  private hintTarget(service: Obj, addressType: string, toUpdate: Map<Obj, Fields[]>, unchanged: Obj[], toCreate: Array<{ endpoints: Fields[] }>): HintTarget {
    const written = [...toUpdate.values(), ...toCreate.map((c) => c.endpoints)];
    const snapshot = [...unchanged];
    return {
      serviceKey: objectKey(service.metadata.namespace, service.metadata.name!),
      addressType,
      written,
      unchanged: snapshot.map((slice) => (slice.endpoints ?? []) as Fields[]),
      rewrite(index) {
        const slice = snapshot[index];
        const list: Fields[] = [];
        toUpdate.set(slice, list);
        unchanged.splice(unchanged.indexOf(slice), 1);
        written.push(list);
        return list;
      },
    };
  }

  private newSlice(service: Obj, addressType: string, ports: Fields[], endpoints: Fields[]): Obj {
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        generateName: slicePrefix(service),
        namespace: service.metadata.namespace,
        labels: sliceLabels(service),
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: service.metadata.name!, uid: service.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      addressType,
      endpoints,
      ports,
    };
  }

  private async create(slice: Obj): Promise<void> {
    await this.deps.client.create(ENDPOINT_SLICES, slice.metadata.namespace, slice);
  }

  private async update(old: Obj, slice: Obj): Promise<void> {
    if (jsonEqual(old, slice)) return;
    await this.deps.client.update(ENDPOINT_SLICES, slice.metadata.namespace, slice.metadata.name!, slice);
  }

  private async remove(slice: Obj): Promise<void> {
    try {
      await this.deps.client.delete(ENDPOINT_SLICES, slice.metadata.namespace, slice.metadata.name!, { preconditions: { uid: slice.metadata.uid } });
    } catch (error) {
      if (!(error instanceof ApiError && (error.code === 404 || error.code === 409))) throw error;
    }
  }
}

function isPlaceholder(slice: Obj): boolean {
  return (slice.endpoints ?? []).length === 0 && (slice.ports ?? []).length === 0;
}

function podIpOfType(pod: Obj, addressType: string): string | undefined {
  const ips: string[] = (Array.isArray(pod.status?.podIPs) ? pod.status.podIPs : []).map((p: Obj) => p?.ip).filter((ip: unknown): ip is string => typeof ip === 'string');
  if (pod.status?.podIP && !ips.includes(pod.status.podIP)) ips.unshift(pod.status.podIP);
  return ips.find((ip) => (addressType === 'IPv6') === isIPv6(ip));
}

export function newEndpointSliceController(): ControllerDefinition {
  return {
    name: 'endpointslice-controller',
    aliases: ['endpointslice'],
    serviceAccount: 'endpointslice-controller',
    workersFlag: { name: 'concurrent-service-endpoint-syncs', default: 5 },
    flags: [
      { name: 'max-endpoints-per-slice', kind: 'integer', default: DEFAULT_MAX_ENDPOINTS_PER_SLICE, description: 'The most endpoints one EndpointSlice holds.' },
      { name: 'endpointslice-updates-batch-period', kind: 'duration', default: 0, description: 'How long pod changes are gathered before a Service\'s EndpointSlices are rewritten.' },
    ],
    async start(context) {
      const services = context.informers.informer(SERVICES);
      const pods = context.informers.informer(PODS);
      const nodes = context.informers.informer(NODES);
      const slices = context.informers.informer(ENDPOINT_SLICES);
      slices.addIndexer(BY_SERVICE, (slice) => {
        const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
        return service ? [objectKey(slice.metadata.namespace, service)] : [];
      });
      const queue = context.newQueue('endpoint_slice');
      const batchMs = Number(context.settings['endpointslice-updates-batch-period'] ?? 0);
      const max = Number(context.settings['max-endpoints-per-slice'] ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE);
      const hints = new TopologyHints(() => nodes.lister.list());
      const sync = new EndpointSliceSync({ client: context.client, services, pods, nodes, slices, maxEndpointsPerSlice: max > 0 ? Math.min(max, 1000) : DEFAULT_MAX_ENDPOINTS_PER_SLICE, hints, events: context.events });
      const { handlers: serviceAndPodHandlers, queueServicesOf } = queueOnServicesAndPods(services, pods, queue, batchMs);
      const podsOnNode = podsByNode(pods);
      const ownSlice = (slice: Obj) => {
        const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
        if (service && slice.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY) queue.add(objectKey(slice.metadata.namespace, service));
      };
      // Zone capacity moved: Services that ask for hints are looked at again (upstream checks its overloaded ones).
      const nodesChanged = () => {
        hints.invalidate();
        for (const service of services.lister.list()) if (hintsEnabled(service.metadata.annotations) || hints.hinted().has(keyOf(service))) queue.add(keyOf(service));
      };
      const handlers = [
        ...serviceAndPodHandlers,
        // A slice changed or removed by someone else is put right (upstream's slice tracker).
        slices.addEventHandler({ onUpdate: (_o, s) => ownSlice(s), onDelete: ownSlice }),
        nodes.addEventHandler({
          onAdd: (node, initial) => {
            hints.invalidate();
            if (initial) return; // every Service is queued at start anyway
            nodesChanged();
            for (const pod of podsOnNode(node.metadata.name!)) queueServicesOf(pod);
          },
          onUpdate: (old, node) => {
            if (nodeTopologyFacts(old) !== nodeTopologyFacts(node)) nodesChanged();
            if (old.metadata.labels?.[ZONE_LABEL] === node.metadata.labels?.[ZONE_LABEL]) return;
            for (const pod of podsOnNode(node.metadata.name!)) queueServicesOf(pod);
          },
          onDelete: () => nodesChanged(),
        }),
      ];
      return startReconciler({ context, queue, informers: [services, pods, nodes, slices], reconcile: (key) => sync.sync(key), handlers });
    },
  };
}

export const endpointSliceController = newEndpointSliceController();
