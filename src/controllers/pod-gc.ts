/**
 * The pod garbage collector ("pod-garbage-collector-controller", upstream pkg/controller/podgc),
 * every 20 s and when a Node goes: force-deletes pods bound to a node that no longer exists
 * (after checking with the API, not only the cache, and marking them Failed with a
 * DisruptionTarget condition, reason DeletionByPodGC), terminating pods that were never
 * scheduled, and the oldest finished pods above --terminated-pod-gc-threshold (12500; 0 turns
 * that part off).
 */
import { ApiError } from '../api/status.js';
import { nowRfc3339 } from '../api/object.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import type { SharedInformer } from '../client/informer.js';
import { NODES, PODS } from '../client/resource-types.js';
import type { ReconcileResult } from '../client/work-queue.js';
import type { ControllerDefinition } from './manager.js';
import { isPodFinished } from './pod-state.js';

export const GC_CHECK_PERIOD_MS = 20_000;
export const DEFAULT_TERMINATED_POD_GC_THRESHOLD = 12500;
const KEY = 'gc';

/**
 * The pods each pass looks at, indexed as the informer takes them in: a pass reads only those
 * (a stored pod is parsed again on every read once its parsed form was collected, and a full
 * scan of 150,000 pods every 20 s would be seconds of CPU).
 */
const FINISHED = 'podgc:finished';
const BY_NODE = 'podgc:node';
const UNSCHEDULED_TERMINATING = 'podgc:unscheduled-terminating';

export class PodGc {
  constructor(private readonly deps: { client: ApiClient; pods: SharedInformer; nodes: SharedInformer; terminatedPodThreshold: number }) {
    deps.pods.addIndexer(FINISHED, (p) => (isPodFinished(p) && !p.metadata.deletionTimestamp ? ['yes'] : []));
    deps.pods.addIndexer(BY_NODE, (p) => (p.spec?.nodeName ? [p.spec.nodeName as string] : []));
    deps.pods.addIndexer(UNSCHEDULED_TERMINATING, (p) => (p.metadata.deletionTimestamp && !p.spec?.nodeName ? ['yes'] : []));
  }

  async gc(): Promise<void> {
    await this.gcTerminated();
    await this.gcOrphaned();
    await this.gcUnscheduledTerminating();
  }

  private async gcTerminated(): Promise<void> {
    const threshold = this.deps.terminatedPodThreshold;
    if (threshold <= 0) return;
    if (this.deps.pods.indexKeys(FINISHED, 'yes').size <= threshold) return;
    const finished = this.deps.pods.lister.byIndex(FINISHED, 'yes');
    const excess = finished.length - threshold;
    if (excess <= 0) return;
    // Oldest first (upstream sorts by creation time).
    finished.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    for (const pod of finished.slice(0, excess)) await this.forceDelete(pod);
  }

  private async gcOrphaned(): Promise<void> {
    const absent = [...this.deps.pods.indexedValues(BY_NODE)].filter((nodeName) => !this.deps.nodes.lister.has(undefined, nodeName));
    for (const nodeName of absent) {
      if (!(await this.nodeIsGone(nodeName))) continue;
      for (const pod of this.deps.pods.lister.byIndex(BY_NODE, nodeName)) {
        await this.markFailed(pod, 'PodGC: node no longer exists');
        await this.forceDelete(pod);
      }
    }
  }

  private async gcUnscheduledTerminating(): Promise<void> {
    for (const pod of this.deps.pods.lister.byIndex(UNSCHEDULED_TERMINATING, 'yes')) await this.forceDelete(pod);
  }

  /** The cache may lag a Node just created: ask the API before deleting anything. */
  private async nodeIsGone(name: string): Promise<boolean> {
    try {
      await this.deps.client.get(NODES, undefined, name);
      return false;
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return true;
      throw error;
    }
  }

  private async markFailed(pod: Obj, message: string): Promise<void> {
    if (isPodFinished(pod)) return;
    const conditions = [...((pod.status?.conditions ?? []) as Obj[]).filter((c) => c?.type !== 'DisruptionTarget'), { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message, lastTransitionTime: nowRfc3339() }];
    try {
      await this.deps.client.patch(PODS, pod.metadata.namespace, pod.metadata.name!, 'merge', { status: { phase: 'Failed', conditions } }, { subresource: 'status' });
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
  }

  private async forceDelete(pod: Obj): Promise<void> {
    try {
      await this.deps.client.delete(PODS, pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
    } catch (error) {
      if (!(error instanceof ApiError && (error.code === 404 || error.code === 409))) throw error;
    }
  }
}

export function newPodGcController(options: { periodMs?: number } = {}): ControllerDefinition {
  return {
    name: 'pod-garbage-collector-controller',
    aliases: ['podgc'],
    serviceAccount: 'pod-garbage-collector',
    flags: [{ name: 'terminated-pod-gc-threshold', kind: 'integer', default: DEFAULT_TERMINATED_POD_GC_THRESHOLD, description: 'Finished pods kept before the oldest are deleted (0: never).' }],
    async start(context) {
      const pods = context.informers.informer(PODS);
      const nodes = context.informers.informer(NODES);
      const queue = context.newQueue('orphaned_pods_nodes');
      const period = options.periodMs ?? GC_CHECK_PERIOD_MS;
      const gc = new PodGc({ client: context.client, pods, nodes, terminatedPodThreshold: Number(context.settings['terminated-pod-gc-threshold'] ?? DEFAULT_TERMINATED_POD_GC_THRESHOLD) });
      const handler = nodes.addEventHandler({ onDelete: () => queue.add(KEY) });
      await Promise.all([pods.start(), nodes.start()]);
      queue.run(1, async (): Promise<ReconcileResult> => {
        await gc.gc();
        return { requeueAfterMs: period };
      });
      queue.add(KEY);
      return {
        async stop() {
          handler.remove();
          await queue.shutDown();
        },
      };
    },
  };
}

export const podGcController = newPodGcController();
