/**
 * The node lifecycle controller ("node-lifecycle-controller", SA node-controller; upstream
 * pkg/controller/nodelifecycle), health part: a node is heard from when its Lease in
 * kube-node-lease (renewTime) or its Ready condition's lastHeartbeatTime changes, timed by this
 * controller's own clock from the first sight of the node; silent for longer than
 * --node-monitor-grace-period (40 s), its Ready and pressure conditions become Unknown
 * (NodeStatusUnknown, "Kubelet stopped posting node status."). NoSchedule and NoExecute taints follow Ready:
 * `node.kubernetes.io/unreachable` while Unknown, `node.kubernetes.io/not-ready` while False,
 * none while True (taint-eviction.ts acts on them). Not built: the zone-aware rate limiting of
 * tainting and the NoSchedule counterparts of the taints.
 */
import { nowRfc3339 } from '../api/object.js';
import type { ApiClient } from '../client/api-client.js';
import type { SharedInformer } from '../client/informer.js';
import { LEASES, NODES } from '../client/resource-types.js';
import type { ReconcileResult } from '../client/work-queue.js';
import { realClock, type Clock } from './clock.js';
import type { ControllerDefinition } from './manager.js';
import { keyOf, startReconciler } from './reconciler.js';

export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
const LEASE_NAMESPACE = 'kube-node-lease';
const HEALTH_EFFECTS = ['NoSchedule', 'NoExecute'];
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

export class NodeLifecycle {
  private readonly probes = new Map<string, Probe>();

  constructor(private readonly deps: { client: ApiClient; nodes: SharedInformer; leases: SharedInformer; clock: Clock; gracePeriodMs: number }) {}

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
    const node = this.deps.nodes.lister.get(undefined, name);
    if (!node || node.metadata.deletionTimestamp) {
      this.probes.delete(name);
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
    // Both effects, as upstream: NoExecute for eviction, NoSchedule (taint-nodes-by-condition) so
    // that no new pod — not even one tolerating NoExecute for a while — is placed there meanwhile.
    const wanted = readyStatus === 'Unknown' ? UNREACHABLE_TAINT : readyStatus === 'False' ? NOT_READY_TAINT : undefined;
    const taints: Fields[] = Array.isArray(node.spec?.taints) ? node.spec.taints : [];
    const ours = (t: Fields) => (t?.key === UNREACHABLE_TAINT || t?.key === NOT_READY_TAINT) && HEALTH_EFFECTS.includes(t?.effect);
    const kept = taints.filter((t) => !(ours(t) && t.key !== wanted));
    const missing = wanted ? HEALTH_EFFECTS.filter((effect) => !kept.some((t) => t?.key === wanted && t?.effect === effect)) : [];
    const next = [...kept, ...missing.map((effect) => (effect === 'NoExecute' ? { key: wanted, effect, timeAdded: nowRfc3339() } : { key: wanted, effect }))];
    if (next.length !== taints.length || next.some((t, i) => t !== taints[i])) {
      await this.deps.client.patch(NODES, undefined, name, 'merge', { metadata: { resourceVersion: node.metadata.resourceVersion }, spec: { taints: next.length ? next : null } });
      return;
    }
    // Look again when the grace period would run out, and at least every monitor period.
    return { requeueAfterMs: Math.max(1, Math.min(MONITOR_PERIOD_MS, heard + this.deps.gracePeriodMs - now + 1)) };
  }
}

export function newNodeLifecycleController(options: { clock?: Clock } = {}): ControllerDefinition {
  return {
    name: 'node-lifecycle-controller',
    aliases: ['nodelifecycle'],
    serviceAccount: 'node-controller',
    flags: [{ name: 'node-monitor-grace-period', kind: 'duration', default: DEFAULT_GRACE_MS, description: 'How long a node may be silent before it is marked Unknown.' }],
    async start(context) {
      const nodes = context.informers.informer(NODES);
      const leases = context.informers.informer(LEASES, { namespace: LEASE_NAMESPACE });
      const queue = context.newQueue('node_lifecycle_controller');
      const lifecycle = new NodeLifecycle({ client: context.client, nodes, leases, clock: options.clock ?? realClock, gracePeriodMs: Number(context.settings['node-monitor-grace-period'] ?? DEFAULT_GRACE_MS) });
      const handlers = [
        nodes.addEventHandler({ onAdd: (n) => queue.add(keyOf(n)), onUpdate: (_o, n) => queue.add(keyOf(n)) }),
        // A renewal is a sign of life seen when it happens, not at the next periodic look.
        leases.addEventHandler({ onAdd: (l) => queue.add(l.metadata.name ?? ''), onUpdate: (_o, l) => queue.add(l.metadata.name ?? '') }),
      ];
      return startReconciler({ context, queue, informers: [nodes, leases], reconcile: (key) => lifecycle.sync(key), handlers });
    },
  };
}

export const nodeLifecycleController = newNodeLifecycleController();
