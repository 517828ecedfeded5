/**
 * The taint-eviction controller ("taint-eviction-controller", upstream pkg/controller/tainteviction):
 * deletes pods from nodes with NoExecute taints. A pod that does not tolerate every NoExecute
 * taint of its node goes at once; one that tolerates them all goes when the shortest
 * `tolerationSeconds` of the tolerations it uses has passed; tolerations without
 * tolerationSeconds keep it forever. Before deleting it posts the DisruptionTarget condition
 * (reason DeletionByTaintManager) and the `TaintManagerEviction` event.
 *
 * Time is counted from the taints' `timeAdded` (the latest of the node's NoExecute taints, so a
 * new taint restarts the count, as upstream's re-evaluation does) but never from before the pod
 * was scheduled (its PodScheduled condition); a taint without timeAdded counts from when this
 * controller first saw the pod under it. Pending evictions are work-queue keys delayed until
 * their deadline: the queue keeps them in one heap under one timer. Each firing re-checks the
 * pod and its node, so a removed taint, a node that is gone or a toleration that now holds
 * cancels the eviction (with the "Cancelling deletion" event).
 */
import { ApiError } from '../api/status.js';
import { nowRfc3339 } from '../api/object.js';
import { nodeTaints, toleratesTaint, type Taint, type Toleration } from '../api/taints.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import type { EventRecorder } from '../client/event-recorder.js';
import type { SharedInformer } from '../client/informer.js';
import { NODES, PODS } from '../client/resource-types.js';
import type { ReconcileResult } from '../client/work-queue.js';
import { realClock, type Clock } from './clock.js';
import type { ControllerDefinition } from './manager.js';
import { podsByNode } from './pod-indexes.js';
import { keyOf, startReconciler } from './reconciler.js';

type TimedTaint = Taint & { timeAdded?: string };

export const EVICTION_REASON = 'DeletionByTaintManager';
export const EVICTION_MESSAGE = 'Taint manager: deleting due to NoExecute taint';

/** The NoExecute taints of a node. */
export function noExecuteTaints(node: Obj | undefined): Taint[] {
  return node ? nodeTaints(node).filter((t) => t?.effect === 'NoExecute') : [];
}

/**
 * How long a pod may stay under `taints`, in ms: undefined when some taint is not tolerated
 * (evict now), Infinity when every toleration used has no tolerationSeconds, else the shortest
 * tolerationSeconds of the tolerations used (negative counts as 0, as upstream).
 */
export function tolerationPeriodMs(taints: readonly Taint[], tolerations: readonly Toleration[]): number | undefined {
  let shortest = Infinity;
  for (const taint of taints) {
    const used = tolerations.filter((t) => toleratesTaint(t, taint));
    if (used.length === 0) return undefined;
    for (const t of used) if (typeof t.tolerationSeconds === 'number') shortest = Math.min(shortest, Math.max(0, t.tolerationSeconds) * 1000);
  }
  return shortest;
}

export class TaintEviction {
  /** Pods with an eviction pending: key → the time (ms) it falls due. */
  private readonly pending = new Map<string, number>();
  /** When the controller first saw a pod under taints that carry no timeAdded. */
  private readonly firstSeen = new Map<string, number>();

  constructor(private readonly deps: { client: ApiClient; pods: SharedInformer; nodes: SharedInformer; events: EventRecorder; clock: Clock }) {}

  /** Pods with an eviction pending (for tests and metrics). */
  get pendingCount(): number {
    return this.pending.size;
  }

  async sync(key: string): Promise<ReconcileResult | void> {
    const [namespace, name] = key.split('/');
    const pod = this.deps.pods.lister.get(namespace, name);
    if (!pod || pod.metadata.deletionTimestamp || !pod.spec?.nodeName) return this.cancel(key, pod);
    const taints = noExecuteTaints(this.deps.nodes.lister.get(undefined, pod.spec.nodeName));
    if (taints.length === 0) return this.cancel(key, pod);
    const tolerations: Toleration[] = Array.isArray(pod.spec.tolerations) ? pod.spec.tolerations : [];
    const period = tolerationPeriodMs(taints, tolerations);
    if (period === Infinity) return this.cancel(key, pod);
    const now = this.deps.clock.now();
    const due = period === undefined ? now : this.startOf(key, pod, taints, now) + period;
    if (due > now) {
      this.pending.set(key, due);
      return { requeueAfterMs: due - now };
    }
    await this.evict(key, pod);
  }

  /** Forgets a pod that left (deleted from the cache): nothing to evict any more. */
  forget(key: string): void {
    this.pending.delete(key);
    this.firstSeen.delete(key);
  }

  private startOf(key: string, pod: Obj, taints: readonly Taint[], now: number): number {
    const added = taints.map((t) => Date.parse((t as TimedTaint).timeAdded ?? ''));
    let start: number;
    if (added.every((t) => Number.isFinite(t))) {
      start = Math.max(...added);
      this.firstSeen.delete(key);
    } else {
      if (!this.firstSeen.has(key)) this.firstSeen.set(key, now);
      start = this.firstSeen.get(key)!;
    }
    const scheduled = ((pod.status?.conditions ?? []) as Obj[]).find((c) => c?.type === 'PodScheduled' && c.status === 'True');
    const scheduledAt = Date.parse(scheduled?.lastTransitionTime ?? '');
    return Number.isFinite(scheduledAt) ? Math.max(start, scheduledAt) : start;
  }

  private cancel(key: string, pod: Obj | undefined): void {
    this.firstSeen.delete(key);
    if (!this.pending.delete(key) || !pod || pod.metadata.deletionTimestamp) return;
    this.deps.events.event(pod, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
  }

  private async evict(key: string, pod: Obj): Promise<void> {
    this.deps.events.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    const { namespace, name, uid } = pod.metadata;
    try {
      const condition = ((pod.status?.conditions ?? []) as Obj[]).find((c) => c?.type === 'DisruptionTarget');
      if (condition?.status !== 'True' || condition.reason !== EVICTION_REASON) {
        const disruption = { type: 'DisruptionTarget', status: 'True', reason: EVICTION_REASON, message: EVICTION_MESSAGE, lastTransitionTime: nowRfc3339() };
        await this.deps.client.patch(PODS, namespace, name!, 'strategic', { metadata: { uid }, status: { conditions: [disruption] } }, { subresource: 'status' });
      }
      await this.deps.client.delete(PODS, namespace, name!, { preconditions: { uid } });
    } catch (error) {
      // Gone already, or another pod under the same name: nothing left to evict.
      if (!(error instanceof ApiError && (error.code === 404 || error.code === 409))) throw error;
    }
    this.pending.delete(key);
    this.firstSeen.delete(key);
  }
}

/** Whether two versions of a node differ in their NoExecute taints. */
function noExecuteChanged(before: Obj, after: Obj): boolean {
  const a = noExecuteTaints(before);
  const b = noExecuteTaints(after);
  return a.length !== b.length || a.some((t, i) => t.key !== b[i].key || t.value !== b[i].value || (t as TimedTaint).timeAdded !== (b[i] as TimedTaint).timeAdded);
}

export function newTaintEvictionController(options: { clock?: Clock } = {}): ControllerDefinition {
  return {
    name: 'taint-eviction-controller',
    aliases: ['tainteviction'],
    serviceAccount: 'taint-eviction-controller',
    async start(context) {
      const pods = context.informers.informer(PODS);
      const nodes = context.informers.informer(NODES);
      const onNode = podsByNode(pods);
      const queue = context.newQueue('taint_eviction_controller');
      const eviction = new TaintEviction({ client: context.client, pods, nodes, events: context.events, clock: options.clock ?? realClock });
      const enqueueNode = (node: Obj) => {
        for (const pod of onNode(node.metadata.name!)) queue.add(keyOf(pod));
      };
      const handlers = [
        pods.addEventHandler({
          onAdd: (p) => p.spec?.nodeName && queue.add(keyOf(p)),
          onUpdate: (o, p) => p.spec?.nodeName && (o.spec?.nodeName !== p.spec.nodeName || JSON.stringify(o.spec?.tolerations) !== JSON.stringify(p.spec.tolerations) || !!p.metadata.deletionTimestamp) && queue.add(keyOf(p)),
          onDelete: (p) => eviction.forget(keyOf(p)),
        }),
        nodes.addEventHandler({
          onAdd: (n) => noExecuteTaints(n).length > 0 && enqueueNode(n),
          onUpdate: (o, n) => noExecuteChanged(o, n) && enqueueNode(n),
          onDelete: (n) => enqueueNode(n),
        }),
      ];
      return startReconciler({ context, queue, informers: [pods, nodes], reconcile: (key) => eviction.sync(key), handlers });
    },
  };
}

export const taintEvictionController = newTaintEvictionController();
