/**
 * The node lifecycle controller ("node-lifecycle-controller", SA node-controller; upstream
 * pkg/controller/nodelifecycle). Health: a node is heard from when its Lease in kube-node-lease
 * (renewTime) or its Ready condition's lastHeartbeatTime changes, timed by this controller's own
 * clock from the first sight of the node; silent for longer than --node-monitor-grace-period
 * (40 s), its Ready and pressure conditions become Unknown (NodeStatusUnknown, "Kubelet stopped
 * posting node status."). Taints follow Ready: `node.kubernetes.io/unreachable` while Unknown,
 * `node.kubernetes.io/not-ready` while False, none while True. The NoSchedule one is set at once
 * (taint-nodes-by-condition); the NoExecute one, which makes taint-eviction.ts evict, is added
 * through the zone's rate-limited queue (node-lifecycle-zones.ts), swapped between the two keys at
 * once, and taken off at once when the node is Ready again or every zone is fully disrupted.
 */
import { nowRfc3339 } from '../api/object.js';
import type { ApiClient } from '../client/api-client.js';
import type { SharedInformer } from '../client/informer.js';
import { LEASES, NODES } from '../client/resource-types.js';
import type { ReconcileResult } from '../client/work-queue.js';
import { realClock, type Clock } from './clock.js';
import type { ControllerDefinition } from './manager.js';
import { keyOf, startReconciler } from './reconciler.js';
import { computeZoneState, DEFAULT_EVICTION_SETTINGS, EXCLUDE_DISRUPTION_LABEL, taintingRate, ZoneTaintQueue, type EvictionSettings, type ZoneState } from './node-lifecycle-zones.js';
import { NodeCollectorMetrics } from './node-lifecycle-metrics.js';
import { zoneKeyOf } from '../scheduler/snapshot.js';
import { log } from '../server/log.js';
import type { Obj } from '../client/api-client.js';

export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
const LEASE_NAMESPACE = 'kube-node-lease';
const MONITORED = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];
export const DEFAULT_GRACE_MS = 40_000;
const MONITOR_PERIOD_MS = 5_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

/** What the controller last heard from a node, and when by its own clock (upstream's probeTimestamp). */
interface Probe {
  heartbeat: string;
  probedAt: number;
}

/** The work-queue key of the zones' tainting pass (no node name contains '#'). */
export const TAINTING_KEY = '#tainting';
const TAINT_RETRY_MS = 1_000;

interface Counted {
  zone: string;
  ready: boolean;
}

export interface NodeLifecycleDeps {
  client: ApiClient;
  nodes: SharedInformer;
  leases: SharedInformer;
  clock: Clock;
  gracePeriodMs: number;
  eviction?: EvictionSettings;
  /** Asks for a tainting pass soon (the controller queues TAINTING_KEY); tests call sync(TAINTING_KEY) themselves. */
  wakeTainting?: () => void;
  metrics?: NodeCollectorMetrics;
}

export class NodeLifecycle {
  private readonly probes = new Map<string, Probe>();
  private readonly eviction: EvictionSettings;
  /** Each node as the zone counts last saw it; filled from the whole cache on first use. */
  private counted: Map<string, Counted> | undefined;
  private readonly zoneStates = new Map<string, ZoneState>();
  private readonly tainters = new Map<string, ZoneTaintQueue>();

  constructor(private readonly deps: NodeLifecycleDeps) {
    this.eviction = deps.eviction ?? DEFAULT_EVICTION_SETTINGS;
  }

  /** The zones' states (for tests and logs). */
  states(): ReadonlyMap<string, ZoneState> {
    return this.zoneStates;
  }

  /**
   * When the node was last heard from, on this controller's clock: a change of its Lease's
   * renewTime or its Ready condition's lastHeartbeatTime counts as hearing from it, and so does the
   * first sight of a node. The timestamps' own values are never compared with our clock (a node's
   * clock may differ, and a node registered with an old heartbeat still gets its grace period).
   */
  private lastHeard(name: string, heartbeat: string, now: number): number {
    const probe = this.probes.get(name);
    if (probe && probe.heartbeat === heartbeat) return probe.probedAt;
    this.probes.set(name, { heartbeat, probedAt: now });
    return now;
  }

  async sync(name: string): Promise<ReconcileResult | void> {
    if (name === TAINTING_KEY) return this.taintingPass();
    let node = this.deps.nodes.lister.get(undefined, name);
    if (!node || node.metadata.deletionTimestamp) {
      this.probes.delete(name);
      for (const tainter of this.tainters.values()) tainter.remove(name);
      if (this.count(name, undefined)) await this.handleDisruption();
      return;
    }
    const now = this.deps.clock.now();
    const conditions: Fields[] = Array.isArray(node.status?.conditions) ? node.status.conditions : [];
    const ready = conditions.find((c) => c?.type === 'Ready');
    const lease = this.deps.leases.lister.get(LEASE_NAMESPACE, name);
    const heard = this.lastHeard(name, `${lease?.spec?.renewTime ?? ''}|${ready?.lastHeartbeatTime ?? ''}`, now);
    const silentFor = now - heard;
    const readyStatus = ready?.status;
    if (silentFor > this.deps.gracePeriodMs && readyStatus !== 'Unknown') {
      const at = nowRfc3339();
      const updated: Fields[] = conditions.filter((c) => !MONITORED.includes(c?.type));
      for (const type of MONITORED) {
        const current = conditions.find((c) => c?.type === type);
        if (!current && type !== 'Ready') continue;
        updated.push({
          ...(current ?? { type, lastHeartbeatTime: node.metadata.creationTimestamp }),
          status: 'Unknown',
          reason: current ? 'NodeStatusUnknown' : 'NodeStatusNeverUpdated',
          message: current ? 'Kubelet stopped posting node status.' : 'Kubelet never posted node status.',
          lastTransitionTime: at,
        });
      }
      await this.deps.client.patch(NODES, undefined, name, 'merge', { metadata: { resourceVersion: node.metadata.resourceVersion }, status: { conditions: updated } }, { subresource: 'status' });
      // The next sync (from the informer event) sees the new conditions and sets the taints.
      return;
    }
    // The zone's state first, so a node going down is never tainted on the rate of a state it ends.
    if (this.count(name, node)) {
      await this.handleDisruption();
      node = this.deps.nodes.lister.get(undefined, name) ?? node;
    }
    const wanted = readyStatus === 'Unknown' ? UNREACHABLE_TAINT : readyStatus === 'False' ? NOT_READY_TAINT : undefined;
    const taints: Fields[] = Array.isArray(node.spec?.taints) ? node.spec.taints : [];
    const zone = zoneKeyOf(node.metadata.labels);
    let next = withNoSchedule(taints, wanted);
    if (!wanted) {
      next = withoutNoExecute(next);
      this.tainters.get(zone)?.remove(name);
    } else if (!hasTaint(next, wanted, 'NoExecute')) {
      const opposite = wanted === UNREACHABLE_TAINT ? NOT_READY_TAINT : UNREACHABLE_TAINT;
      // Already evicting under the other key: swap at once (the node was let go once already).
      if (hasTaint(next, opposite, 'NoExecute')) next = withNoExecute(next, wanted);
      else if (this.tainter(zone).add(name)) this.deps.wakeTainting?.();
    }
    if (next.length !== taints.length || next.some((t, i) => t !== taints[i])) {
      await this.writeTaints(node, next);
      return;
    }
    // Look again when the grace period would run out, and at least every monitor period.
    return { requeueAfterMs: Math.max(1, Math.min(MONITOR_PERIOD_MS, heard + this.deps.gracePeriodMs - now + 1)) };
  }

  /** One pass over the zones' queues: the NoExecute taint for each node whose turn has come. */
  private async taintingPass(): Promise<ReconcileResult | void> {
    let wake: number | undefined;
    for (const tainter of this.tainters.values()) {
      await tainter.drain(async (name) => {
        const node = this.deps.nodes.lister.get(undefined, name);
        if (!node) return true;
        const status = (node.status?.conditions as Fields[] | undefined)?.find((c) => c?.type === 'Ready')?.status;
        const wanted = status === 'Unknown' ? UNREACHABLE_TAINT : status === 'False' ? NOT_READY_TAINT : undefined;
        if (!wanted) return true; // Ready again (or never reported): nothing to do
        const taints: Fields[] = Array.isArray(node.spec?.taints) ? node.spec.taints : [];
        if (hasTaint(taints, wanted, 'NoExecute')) return true;
        try {
          await this.writeTaints(node, withNoExecute(taints, wanted));
          this.deps.metrics?.evicted(zoneKeyOf(node.metadata.labels));
          return true;
        } catch (error) {
          log.warn('node lifecycle: could not taint node; will retry', { node: name, error: (error as Error).message });
          return false;
        }
      }, TAINT_RETRY_MS);
      const next = tainter.nextInMs();
      if (next !== undefined) wake = Math.min(wake ?? next, next);
    }
    return wake === undefined ? undefined : { requeueAfterMs: Math.max(1, wake) };
  }

  /** Records the node (undefined: gone) in the zone counts; true when a count changed. */
  private count(name: string, node: Obj | undefined): boolean {
    if (!this.counted) {
      this.counted = new Map();
      for (const other of this.deps.nodes.lister.list()) {
        const entry = countedOf(other);
        if (entry) this.counted.set(other.metadata.name!, entry);
      }
      return true;
    }
    const before = this.counted.get(name);
    const after = node ? countedOf(node) : undefined;
    if (before?.zone === after?.zone && before?.ready === after?.ready) return false;
    if (after) this.counted.set(name, after);
    else this.counted.delete(name);
    return true;
  }

  /** Upstream's handleDisruption: new zone states, their tainting rates, and the all-zones-down mode. */
  private async handleDisruption(): Promise<void> {
    const sizes = new Map<string, { ready: number; notReady: number }>();
    for (const { zone, ready } of this.counted?.values() ?? []) {
      let size = sizes.get(zone);
      if (!size) sizes.set(zone, (size = { ready: 0, notReady: 0 }));
      if (ready) size.ready++;
      else size.notReady++;
    }
    this.deps.metrics?.setZones(sizes);
    const newStates = new Map<string, ZoneState>();
    for (const [zone, size] of sizes) newStates.set(zone, computeZoneState(size.ready, size.notReady, this.eviction.unhealthyZoneThreshold));
    const allAre = newStates.size > 0 && [...newStates.values()].every((state) => state === 'FullDisruption');
    for (const zone of [...this.zoneStates.keys()]) if (!newStates.has(zone)) this.zoneStates.delete(zone);
    const allWere = this.zoneStates.size > 0 && [...this.zoneStates.values()].every((state) => state === 'FullDisruption') && [...newStates.keys()].every((zone) => this.zoneStates.has(zone));
    const zoneSize = (zone: string) => (sizes.get(zone)?.ready ?? 0) + (sizes.get(zone)?.notReady ?? 0);
    if (allAre && allWere) return;
    if (allAre) {
      log.info('node lifecycle: every node is not Ready; entering master disruption mode (no node is tainted NoExecute)');
      for (const zone of newStates.keys()) {
        this.tainter(zone).setRate(0);
        this.zoneStates.set(zone, 'FullDisruption');
      }
      for (const node of this.deps.nodes.lister.list()) {
        this.tainters.get(zoneKeyOf(node.metadata.labels))?.remove(node.metadata.name!);
        const taints: Fields[] = Array.isArray(node.spec?.taints) ? node.spec.taints : [];
        const kept = withoutNoExecute(taints);
        if (kept.length !== taints.length) await this.writeTaints(node, kept).catch((error) => log.warn('node lifecycle: could not untaint node', { node: node.metadata.name, error: (error as Error).message }));
      }
      return;
    }
    if (allWere) {
      log.info('node lifecycle: some nodes are Ready again; exiting master disruption mode');
      // Every node gets a whole grace period again, counted from now.
      const now = this.deps.clock.now();
      for (const probe of this.probes.values()) probe.probedAt = now;
    }
    for (const [zone, state] of newStates) {
      // Leaving the all-zones-down mode resets every zone's rate; otherwise only changed zones move.
      if (!allWere && this.zoneStates.get(zone) === state) continue;
      if (!allWere && this.zoneStates.has(zone)) log.info('node lifecycle: zone is now in a new state', { zone, state });
      this.tainter(zone).setRate(taintingRate(state, zoneSize(zone), this.eviction));
      this.zoneStates.set(zone, state);
    }
    this.deps.wakeTainting?.();
  }

  private tainter(zone: string): ZoneTaintQueue {
    let tainter = this.tainters.get(zone);
    if (!tainter) this.tainters.set(zone, (tainter = new ZoneTaintQueue(this.eviction.evictionRate, () => this.deps.clock.now())));
    return tainter;
  }

  private async writeTaints(node: Obj, taints: Fields[]): Promise<void> {
    await this.deps.client.patch(NODES, undefined, node.metadata.name!, 'merge', { metadata: { resourceVersion: node.metadata.resourceVersion }, spec: { taints: taints.length ? taints : null } });
  }
}

const OURS = [UNREACHABLE_TAINT, NOT_READY_TAINT];

function countedOf(node: Obj): Counted | undefined {
  if (node.metadata.deletionTimestamp || node.metadata.labels?.[EXCLUDE_DISRUPTION_LABEL] !== undefined) return undefined;
  const ready = (node.status?.conditions as Fields[] | undefined)?.find((c) => c?.type === 'Ready');
  return { zone: zoneKeyOf(node.metadata.labels), ready: ready?.status === 'True' };
}

function hasTaint(taints: Fields[], key: string, effect: string): boolean {
  return taints.some((t) => t?.key === key && t?.effect === effect);
}

/** Our NoSchedule taint for `wanted` (none when undefined), every other taint as it was. */
function withNoSchedule(taints: Fields[], wanted: string | undefined): Fields[] {
  const kept = taints.filter((t) => !(t?.effect === 'NoSchedule' && OURS.includes(t?.key) && t.key !== wanted));
  return wanted && !hasTaint(kept, wanted, 'NoSchedule') ? [...kept, { key: wanted, effect: 'NoSchedule' }] : kept;
}

function withoutNoExecute(taints: Fields[]): Fields[] {
  return taints.filter((t) => !(t?.effect === 'NoExecute' && OURS.includes(t?.key)));
}

/** Our NoExecute taint for `wanted` in place of the other one. */
function withNoExecute(taints: Fields[], wanted: string): Fields[] {
  return [...withoutNoExecute(taints), { key: wanted, effect: 'NoExecute', timeAdded: nowRfc3339() }];
}

export function newNodeLifecycleController(options: { clock?: Clock } = {}): ControllerDefinition {
  return {
    name: 'node-lifecycle-controller',
    aliases: ['nodelifecycle'],
    serviceAccount: 'node-controller',
    flags: [
      { name: 'node-monitor-grace-period', kind: 'duration', default: DEFAULT_GRACE_MS, description: 'How long a node may be silent before it is marked Unknown.' },
      { name: 'node-eviction-rate', kind: 'number', default: DEFAULT_EVICTION_SETTINGS.evictionRate, description: 'Nodes per second given the NoExecute taint in a healthy (or wholly unhealthy) zone.' },
      { name: 'secondary-node-eviction-rate', kind: 'number', default: DEFAULT_EVICTION_SETTINGS.secondaryEvictionRate, description: 'Nodes per second given the NoExecute taint in a partially disrupted zone larger than --large-cluster-size-threshold.' },
      { name: 'unhealthy-zone-threshold', kind: 'number', default: DEFAULT_EVICTION_SETTINGS.unhealthyZoneThreshold, description: 'Share of not-Ready nodes (at least 3) from which a zone is partially disrupted.' },
      { name: 'large-cluster-size-threshold', kind: 'integer', default: DEFAULT_EVICTION_SETTINGS.largeClusterThreshold, description: 'Zones of at most this many nodes stop NoExecute tainting while partially disrupted.' },
    ],
    async start(context) {
      const nodes = context.informers.informer(NODES);
      const leases = context.informers.informer(LEASES, { namespace: LEASE_NAMESPACE });
      const queue = context.newQueue('node_lifecycle_controller');
      const setting = (name: string, fallback: number) => Number(context.settings[name] ?? fallback);
      const eviction: EvictionSettings = {
        evictionRate: setting('node-eviction-rate', DEFAULT_EVICTION_SETTINGS.evictionRate),
        secondaryEvictionRate: setting('secondary-node-eviction-rate', DEFAULT_EVICTION_SETTINGS.secondaryEvictionRate),
        unhealthyZoneThreshold: setting('unhealthy-zone-threshold', DEFAULT_EVICTION_SETTINGS.unhealthyZoneThreshold),
        largeClusterThreshold: setting('large-cluster-size-threshold', DEFAULT_EVICTION_SETTINGS.largeClusterThreshold),
      };
      const lifecycle = new NodeLifecycle({
        client: context.client,
        nodes,
        leases,
        clock: options.clock ?? realClock,
        gracePeriodMs: setting('node-monitor-grace-period', DEFAULT_GRACE_MS),
        eviction,
        wakeTainting: () => queue.add(TAINTING_KEY),
        metrics: NodeCollectorMetrics.in(context.metrics),
      });
      const handlers = [
        nodes.addEventHandler({ onAdd: (n) => queue.add(keyOf(n)), onUpdate: (_o, n) => queue.add(keyOf(n)), onDelete: (n) => queue.add(keyOf(n)) }),
        // A renewal is a sign of life seen when it happens, not at the next periodic look.
        leases.addEventHandler({ onAdd: (l) => queue.add(l.metadata.name ?? ''), onUpdate: (_o, l) => queue.add(l.metadata.name ?? '') }),
      ];
      return startReconciler({ context, queue, informers: [nodes, leases], reconcile: (key) => lifecycle.sync(key), handlers });
    },
  };
}

export const nodeLifecycleController = newNodeLifecycleController();
