/**
 * One DaemonSet sync (upstream DaemonSetsController.syncDaemonSet): settle the current
 * ControllerRevision, make every eligible node run exactly one daemon pod (create where missing,
 * delete failed, surplus and misplaced ones), advance a RollingUpdate, prune history, and record
 * status.
 */
import { jsonEqual } from '../../api/object.js';
import { ApiError } from '../../api/status.js';
import { selectorFromSpec } from '../../api/selectors.js';
import type { ApiClient, Obj } from '../../client/api-client.js';
import type { EventRecorder } from '../../client/event-recorder.js';
import type { SharedInformer } from '../../client/informer.js';
import { CONTROLLER_REVISIONS, DAEMON_SETS, PODS, splitKey } from '../../client/resource-types.js';
import type { ReconcileResult } from '../../client/work-queue.js';
import type { Clock } from '../clock.js';
import { claimCandidates, claimObjects, newControllerRef } from '../controller-ref.js';
import { createRevision, POD_REVISION_LABEL, renumberRevision, sortRevisions, templatePatch, truncateHistory, type NewRevision } from '../history.js';
import { isPodAvailable, isPodReady, msUntilAvailable } from '../pod-state.js';
import { slowStartBatch, SLOW_START_INITIAL_BATCH } from '../slow-start.js';
import { addDaemonPodTolerations, nodeShouldRunDaemonPod, pinToNode, targetNodeOf } from './placement.js';
import { planRollingUpdate, scaledValue } from './rolling-update.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';
/** The label daemon pods carry their DaemonSet's template generation in (deprecated, still set). */
const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
const FAILED_POD_BACKOFF_INITIAL_MS = 1000;
const FAILED_POD_BACKOFF_MAX_MS = 15 * 60 * 1000;

export interface DaemonSetControlDeps {
  client: ApiClient;
  daemonSets: SharedInformer;
  pods: SharedInformer;
  nodes: SharedInformer;
  revisions: SharedInformer;
  events: Pick<EventRecorder, 'event'>;
  clock: Clock;
}

interface Backoff {
  delayMs: number;
  updatedAt: number;
}

export class DaemonSetControl {
  /** Per DaemonSet and node: how long to wait before deleting another failed pod (a kubelet may keep rejecting it). */
  private readonly failedPodBackoff = new Map<string, Backoff>();

  constructor(private readonly deps: DaemonSetControlDeps) {}

  async sync(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const ds = this.deps.daemonSets.lister.get(namespace, name);
    if (!ds) {
      for (const backoffKey of this.failedPodBackoff.keys()) if (backoffKey.startsWith(`${key}/`)) this.failedPodBackoff.delete(backoffKey);
      return;
    }
    const selector = selectorFromSpec(ds.spec?.selector);
    if (selector.length === 0) return;
    const { current, old } = await this.constructHistory(ds);
    const hash = current.metadata.labels?.[POD_REVISION_LABEL] ?? '';
    if (ds.metadata.deletionTimestamp) return;
    const nodes = this.deps.nodes.lister.list();
    const requeue: number[] = [];

    await this.manage(ds, nodes, hash, requeue);
    if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') await this.rollingUpdate(ds, nodes, hash);
    const pods = await this.daemonPods(ds);
    const live = new Set<string>([current.metadata.name!]);
    for (const revision of old) if (pods.some((p) => p.metadata.labels?.[POD_REVISION_LABEL] === revision.metadata.labels?.[POD_REVISION_LABEL])) live.add(revision.metadata.name!);
    await truncateHistory(this.deps.client, old, live, ds.spec?.revisionHistoryLimit ?? 10);
    const availabilityWait = await this.updateStatus(ds, nodes, hash);
    if (availabilityWait > 0) requeue.push(availabilityWait);
    if (requeue.length > 0) return { requeueAfterMs: Math.min(...requeue) };
  }

  /** The DaemonSet's pods, adopting orphans its selector matches and releasing the rest. */
  private daemonPods(ds: Obj): Promise<Obj[]> {
    const selector = selectorFromSpec(ds.spec?.selector);
    return claimObjects({ client: this.deps.client, type: PODS, owner: ds, ownerType: DAEMON_SETS, selector, candidates: claimCandidates(this.deps.pods, ds, selector) });
  }

  private async nodeToDaemonPods(ds: Obj): Promise<Map<string, Obj[]>> {
    const byNode = new Map<string, Obj[]>();
    for (const pod of await this.daemonPods(ds)) {
      // A finished pod already being removed needs nothing more from us.
      const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
      if (terminal && pod.metadata.deletionTimestamp) continue;
      const node = targetNodeOf(pod);
      if (!node) continue;
      (byNode.get(node) ?? byNode.set(node, []).get(node)!).push(pod);
    }
    for (const pods of byNode.values()) pods.sort(byCreationThenName);
    return byNode;
  }

  /** The revision matching the template (created, or renumbered as the newest) and the older ones (constructHistory). */
  private async constructHistory(ds: Obj): Promise<{ current: Obj; old: Obj[] }> {
    const selector = selectorFromSpec(ds.spec?.selector);
    const revisions = sortRevisions(await claimObjects({ client: this.deps.client, type: CONTROLLER_REVISIONS, owner: ds, ownerType: DAEMON_SETS, selector, candidates: claimCandidates(this.deps.revisions, ds, selector) }));
    const data = templatePatch(ds);
    const maxRevision = revisions.length > 0 ? (revisions[revisions.length - 1].revision ?? 0) : 0;
    const matching = revisions.filter((r) => jsonEqual(r.data, data));
    const old = revisions.filter((r) => !matching.includes(r));
    let current: Obj;
    if (matching.length === 0) {
      const spec: NewRevision = {
        owner: ds,
        ownerType: DAEMON_SETS,
        data,
        revision: maxRevision + 1,
        labels: { ...(ds.spec?.template?.metadata?.labels ?? {}) },
        annotations: ds.metadata.annotations,
        hashLabel: POD_REVISION_LABEL,
      };
      const created = await createRevision(this.deps.client, spec, ds.status?.collisionCount ?? 0);
      current = created.revision;
      if (created.collisionCount !== (ds.status?.collisionCount ?? 0)) await this.writeStatus(ds, { ...(ds.status ?? {}), collisionCount: created.collisionCount });
    } else {
      // Of several equal revisions the newest is kept.
      current = matching[matching.length - 1];
      for (const duplicate of matching.slice(0, -1)) await this.deps.client.delete(CONTROLLER_REVISIONS, duplicate.metadata.namespace, duplicate.metadata.name!).catch(() => undefined);
      if ((current.revision ?? 0) < maxRevision) current = await renumberRevision(this.deps.client, current, maxRevision + 1);
    }
    return { current, old };
  }

  private isUpdated(ds: Obj, hash: string): (pod: Obj) => boolean {
    const generation = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
    return (pod) => pod.metadata.labels?.[POD_REVISION_LABEL] === hash || (generation !== undefined && pod.metadata.labels?.[TEMPLATE_GENERATION_LABEL] === generation);
  }

  /** Every eligible node gets one pod, every ineligible one none (manage + podsShouldBeOnNode). */
  private async manage(ds: Obj, nodes: Obj[], hash: string, requeue: number[]): Promise<void> {
    const byNode = await this.nodeToDaemonPods(ds);
    const surge = allowsSurge(ds);
    const now = this.deps.clock.now();
    const toCreate: string[] = [];
    const toDelete: Obj[] = [];
    for (const node of nodes) {
      const nodeName = node.metadata.name!;
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
      const pods = byNode.get(nodeName) ?? [];
      if (shouldRun && pods.length === 0) {
        toCreate.push(nodeName);
        continue;
      }
      if (!shouldContinueRunning) {
        toDelete.push(...pods.filter((p) => !p.metadata.deletionTimestamp));
        continue;
      }
      const running: Obj[] = [];
      for (const pod of pods) {
        if (pod.metadata.deletionTimestamp) continue;
        if (pod.status?.phase === 'Failed') {
          const wait = this.failedPodWait(`${ds.metadata.namespace}/${ds.metadata.name}/${nodeName}`, now);
          if (wait > 0) {
            requeue.push(wait);
            continue;
          }
          this.deps.events.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${nodeName}, will try to kill it`);
          toDelete.push(pod);
        } else if (pod.status?.phase === 'Succeeded') toDelete.push(pod);
        else running.push(pod);
      }
      if (!surge) {
        // Oldest first: keep it, delete the others.
        toDelete.push(...running.slice(1));
        continue;
      }
      if (running.length <= 1) {
        if (running.length === 0 && shouldRun) toCreate.push(nodeName);
        continue;
      }
      // Surging allows an old pod beside a new one until the new one is available.
      const isUpdated = (p: Obj) => p.metadata.labels?.[POD_REVISION_LABEL] === hash;
      const oldestNew = running.find(isUpdated);
      const oldestOld = running.find((p) => !isUpdated(p));
      toDelete.push(...running.filter((p) => p !== oldestNew && p !== oldestOld));
      if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, now))) toDelete.push(oldestOld);
    }
    await this.syncNodes(ds, toDelete.map((p) => p.metadata.name!), toCreate, hash);
  }

  /** flowcontrol.Backoff keyed by DaemonSet and node: 1s doubling to 15 minutes. */
  private failedPodWait(key: string, now: number): number {
    const entry = this.failedPodBackoff.get(key);
    if (entry && now - entry.updatedAt < entry.delayMs) return entry.delayMs - (now - entry.updatedAt);
    const delayMs = entry ? Math.min(entry.delayMs * 2, FAILED_POD_BACKOFF_MAX_MS) : FAILED_POD_BACKOFF_INITIAL_MS;
    this.failedPodBackoff.set(key, { delayMs, updatedAt: now });
    return 0;
  }

  private async rollingUpdate(ds: Obj, nodes: Obj[], hash: string): Promise<void> {
    const byNode = await this.nodeToDaemonPods(ds);
    const shouldRun = new Set<string>();
    for (const node of nodes) {
      if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
      shouldRun.add(node.metadata.name!);
      if (!byNode.has(node.metadata.name!)) byNode.set(node.metadata.name!, []);
    }
    const rolling = ds.spec?.updateStrategy?.rollingUpdate ?? {};
    let maxUnavailable = scaledValue(rolling.maxUnavailable ?? 1, shouldRun.size);
    const maxSurge = scaledValue(rolling.maxSurge ?? 0, shouldRun.size);
    if (shouldRun.size > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
    const plan = planRollingUpdate({
      nodeToPods: byNode,
      isUpdated: this.isUpdated(ds, hash),
      shouldRun: (node) => shouldRun.has(node),
      maxSurge,
      maxUnavailable,
      minReadySeconds: ds.spec?.minReadySeconds ?? 0,
      now: this.deps.clock.now(),
    });
    await this.syncNodes(ds, plan.oldPodsToDelete, plan.nodesToCreate, hash);
  }

  private async syncNodes(ds: Obj, podsToDelete: string[], nodesToCreate: string[], hash: string): Promise<void> {
    const { client, events } = this.deps;
    const { error } = await slowStartBatch(nodesToCreate.length, SLOW_START_INITIAL_BATCH, async (i) => {
      try {
        const created = await client.create(PODS, ds.metadata.namespace, this.newDaemonPod(ds, nodesToCreate[i], hash));
        events.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
      } catch (failure) {
        // A terminating namespace refuses every pod; nothing to retry.
        if (failure instanceof ApiError && failure.details?.causes?.some((c) => c.reason === 'NamespaceTerminating')) return;
        events.event(ds, 'Warning', 'FailedCreate', `Error creating: ${failure instanceof Error ? failure.message : String(failure)}`);
        throw failure;
      }
    });
    for (const name of podsToDelete) {
      try {
        await client.delete(PODS, ds.metadata.namespace, name);
        events.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
      } catch (failure) {
        if (failure instanceof ApiError && failure.code === 404) continue;
        events.event(ds, 'Warning', 'FailedDelete', `Error deleting: ${failure instanceof Error ? failure.message : String(failure)}`);
        throw failure;
      }
    }
    if (error) throw error;
  }

  private newDaemonPod(ds: Obj, nodeName: string, hash: string): Obj {
    const template = ds.spec?.template ?? {};
    const spec = structuredClone(template.spec ?? {});
    spec.affinity = pinToNode(spec.affinity, nodeName);
    addDaemonPodTolerations(spec);
    const generation = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${ds.metadata.name}-`,
        namespace: ds.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}), [POD_REVISION_LABEL]: hash, ...(generation !== undefined ? { [TEMPLATE_GENERATION_LABEL]: generation } : {}) },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ...(template.metadata?.finalizers ? { finalizers: [...template.metadata.finalizers] } : {}),
        ownerReferences: [newControllerRef(ds, DAEMON_SETS)],
      },
      spec,
    };
  }

  /** Counts per node as upstream's updateDaemonSetStatus; returns how long until a ready pod becomes available. */
  private async updateStatus(ds: Obj, nodes: Obj[], hash: string): Promise<number> {
    const byNode = await this.nodeToDaemonPods(ds);
    const now = this.deps.clock.now();
    const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
    const isUpdated = this.isUpdated(ds, hash);
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    let wait = 0;
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
      const pods = byNode.get(node.metadata.name!) ?? [];
      if (!shouldRun) {
        if (pods.length > 0) misscheduled++;
        continue;
      }
      desired++;
      if (pods.length === 0) continue;
      current++;
      const oldest = pods[0];
      if (isPodReady(oldest)) {
        ready++;
        if (isPodAvailable(oldest, minReadySeconds, now)) available++;
        else wait = wait === 0 ? msUntilAvailable(oldest, minReadySeconds, now) : Math.min(wait, msUntilAvailable(oldest, minReadySeconds, now));
      }
      if (isUpdated(oldest)) updated++;
    }
    const status: Fields = { currentNumberScheduled: current, numberMisscheduled: misscheduled, desiredNumberScheduled: desired, numberReady: ready };
    if (ds.metadata.generation) status.observedGeneration = ds.metadata.generation;
    if (updated) status.updatedNumberScheduled = updated;
    if (available) status.numberAvailable = available;
    if (desired - available > 0) status.numberUnavailable = desired - available;
    if (ds.status?.collisionCount) status.collisionCount = ds.status.collisionCount;
    if (ds.status?.conditions) status.conditions = ds.status.conditions;
    if (!jsonEqual(status, ds.status ?? {})) await this.writeStatus(ds, status);
    return wait;
  }

  private async writeStatus(ds: Obj, status: Fields): Promise<void> {
    try {
      await this.deps.client.mutate(DAEMON_SETS, ds.metadata.namespace, ds.metadata.name!, (latest) => {
        // The collision count only ever grows, whoever wrote it last.
        const collisionCount = Math.max(latest.status?.collisionCount ?? 0, status.collisionCount ?? 0);
        latest.status = { ...status, ...(collisionCount ? { collisionCount } : {}) };
        return latest;
      }, { subresource: 'status' });
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
  }
}

function allowsSurge(ds: Obj): boolean {
  if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return false;
  const maxSurge = ds.spec?.updateStrategy?.rollingUpdate?.maxSurge;
  return maxSurge !== undefined && maxSurge !== 0 && maxSurge !== '0%' && maxSurge !== '0';
}

/** podByCreationTimestampAndPhase: bound pods first, then the oldest, then by name. */
function byCreationThenName(a: Obj, b: Obj): number {
  const bound = (p: Obj) => (p.spec?.nodeName ? 0 : 1);
  if (bound(a) !== bound(b)) return bound(a) - bound(b);
  const created = (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '');
  return created || a.metadata.name!.localeCompare(b.metadata.name!);
}
