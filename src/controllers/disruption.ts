/**
 * The disruption controller ("disruption-controller", upstream pkg/controller/disruption): keeps
 * each PodDisruptionBudget's status — expectedPods, desiredHealthy, currentHealthy,
 * disruptionsAllowed, the DisruptionAllowed condition, observedGeneration — and forgets
 * `disruptedPods` entries once the evicted pod is gone or terminating, or after two minutes.
 * minAvailable as a number counts the matching pods; maxUnavailable or a percentage needs the
 * pods' controllers' scale (ReplicaSet — or its Deployment — ReplicationController, StatefulSet).
 */
import { isPlainObject, jsonEqual } from '../api/object.js';
import { matchesLabels, selectorFromSpec } from '../api/selectors.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import type { SharedInformer } from '../client/informer.js';
import { DEPLOYMENTS, POD_DISRUPTION_BUDGETS, PODS, REPLICATION_CONTROLLERS, REPLICA_SETS, STATEFUL_SETS, splitKey } from '../client/resource-types.js';
import type { ReconcileResult } from '../client/work-queue.js';
import type { EventRecorder } from '../client/event-recorder.js';
import { disruptionAllowedCondition } from '../registry/pod-eviction.js';
import { realClock, type Clock } from './clock.js';
import type { ControllerDefinition } from './manager.js';
import { isPodReady } from './pod-state.js';
import { controllerOf, keyOf, startReconciler } from './reconciler.js';

/** How long an eviction's pod is counted as disrupted before the controller gives up waiting for its deletion. */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

export interface DisruptionDeps {
  client: ApiClient;
  events: EventRecorder;
  budgets: SharedInformer;
  pods: SharedInformer;
  replicaSets: SharedInformer;
  deployments: SharedInformer;
  replicationControllers: SharedInformer;
  statefulSets: SharedInformer;
  clock: Clock;
}

/** The pods a budget selects: by its label selector (empty: all of the namespace; absent: none). */
export function podsForBudget(pods: SharedInformer, budget: Obj): Obj[] {
  if (!isPlainObject(budget.spec?.selector)) return [];
  return pods.lister.list(budget.metadata.namespace, selectorFromSpec(budget.spec.selector));
}

/** An int-or-percent against a total: percentages round up, as upstream's GetScaledValueFromIntOrPercent(…, true). */
function scaled(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const percent = parseInt(value, 10);
  return Math.ceil((percent * total) / 100);
}

export class DisruptionSync {
  constructor(private readonly deps: DisruptionDeps) {}

  async sync(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const budget = this.deps.budgets.lister.get(namespace, name);
    if (!budget || budget.metadata.deletionTimestamp) return;
    const now = this.deps.clock.now();
    const pods = podsForBudget(this.deps.pods, budget);
    let expectedPods: number;
    let desiredHealthy: number;
    try {
      ({ expectedPods, desiredHealthy } = this.expectations(budget, pods));
    } catch (error) {
      this.deps.events.event(budget, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${(error as Error).message}`);
      return this.write(budget, {
        ...(budget.status ?? {}),
        observedGeneration: budget.metadata.generation,
        disruptionsAllowed: 0,
        conditions: disruptionAllowedCondition(budget.status?.conditions, false, budget.metadata.generation, 'SyncFailed', (error as Error).message),
      });
    }
    // Evictions not yet visible as deletions: those pods no longer count as healthy.
    const byName = new Map(pods.map((p) => [p.metadata.name!, p]));
    const disruptedPods: Record<string, string> = {};
    let nextExpiry: number | undefined;
    for (const [podName, at] of Object.entries((budget.status?.disruptedPods ?? {}) as Record<string, string>)) {
      const pod = byName.get(podName);
      if (!pod || pod.metadata.deletionTimestamp) continue;
      const expires = Date.parse(at) + DELETION_TIMEOUT_MS;
      if (!(expires > now)) continue;
      disruptedPods[podName] = at;
      nextExpiry = Math.min(nextExpiry ?? Infinity, expires);
    }
    let currentHealthy = 0;
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp || disruptedPods[pod.metadata.name!]) continue;
      if (isPodReady(pod)) currentHealthy++;
    }
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    if (expectedPods <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const status: Obj['status'] = {
      ...(budget.status ?? {}),
      observedGeneration: budget.metadata.generation,
      disruptionsAllowed,
      currentHealthy,
      desiredHealthy,
      expectedPods,
      conditions: disruptionAllowedCondition(budget.status?.conditions, disruptionsAllowed > 0, budget.metadata.generation),
    };
    if (Object.keys(disruptedPods).length) status.disruptedPods = disruptedPods;
    else delete status.disruptedPods;
    await this.write(budget, status);
    if (nextExpiry !== undefined) return { requeueAfterMs: Math.max(1, nextExpiry - now + 1) };
  }

  private async write(budget: Obj, status: Obj['status']): Promise<void> {
    if (jsonEqual(budget.status, status)) return;
    await this.deps.client.update(POD_DISRUPTION_BUDGETS, budget.metadata.namespace, budget.metadata.name!, { ...budget, status }, { subresource: 'status' });
  }

  /** upstream's getExpectedPodCount. */
  private expectations(budget: Obj, pods: Obj[]): { expectedPods: number; desiredHealthy: number } {
    const { minAvailable, maxUnavailable } = budget.spec ?? {};
    if (maxUnavailable !== undefined && maxUnavailable !== null) {
      const expectedPods = this.expectedFromControllers(pods);
      const unavailable = scaled(maxUnavailable, expectedPods);
      return { expectedPods, desiredHealthy: Math.max(0, expectedPods - unavailable) };
    }
    if (typeof minAvailable === 'number') return { expectedPods: pods.length, desiredHealthy: minAvailable };
    if (typeof minAvailable === 'string') {
      const expectedPods = this.expectedFromControllers(pods);
      return { expectedPods, desiredHealthy: scaled(minAvailable, expectedPods) };
    }
    // Neither set: upstream defaults minAvailable to 1.
    return { expectedPods: pods.length, desiredHealthy: 1 };
  }

  /** The sum of the replicas of the pods' (distinct) controllers; a pod without one is an error. */
  private expectedFromControllers(pods: Obj[]): number {
    const scales = new Map<string, number>();
    for (const pod of pods) {
      const found = this.scaleOf(pod);
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
      scales.set(found.uid, found.replicas);
    }
    let total = 0;
    for (const replicas of scales.values()) total += replicas;
    return total;
  }

  private scaleOf(pod: Obj): { uid: string; replicas: number } | undefined {
    const ref = controllerOf(pod);
    if (!ref) return undefined;
    const namespace = pod.metadata.namespace;
    const owned = (informer: SharedInformer, name: string, uid: string) => {
      const object = informer.lister.get(namespace, name);
      return object && object.metadata.uid === uid ? object : undefined;
    };
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
    if (ref.kind === 'ReplicaSet' && group === 'apps') {
      const replicaSet = owned(this.deps.replicaSets, ref.name, ref.uid);
      if (!replicaSet) return undefined;
      const parent = controllerOf(replicaSet);
      if (parent?.kind === 'Deployment') {
        const deployment = owned(this.deps.deployments, parent.name, parent.uid);
        if (deployment) return { uid: deployment.metadata.uid!, replicas: deployment.spec?.replicas ?? 1 };
        return undefined;
      }
      return { uid: replicaSet.metadata.uid!, replicas: replicaSet.spec?.replicas ?? 1 };
    }
    if (ref.kind === 'ReplicationController' && group === '') {
      const rc = owned(this.deps.replicationControllers, ref.name, ref.uid);
      return rc ? { uid: rc.metadata.uid!, replicas: rc.spec?.replicas ?? 1 } : undefined;
    }
    if (ref.kind === 'StatefulSet' && group === 'apps') {
      const set = owned(this.deps.statefulSets, ref.name, ref.uid);
      return set ? { uid: set.metadata.uid!, replicas: set.spec?.replicas ?? 1 } : undefined;
    }
    return undefined;
  }
}

export function newDisruptionController(options: { clock?: Clock } = {}): ControllerDefinition {
  return {
    name: 'disruption-controller',
    aliases: ['disruption'],
    serviceAccount: 'disruption-controller',
    async start(context) {
      const informers = context.informers;
      const budgets = informers.informer(POD_DISRUPTION_BUDGETS);
      const pods = informers.informer(PODS);
      const replicaSets = informers.informer(REPLICA_SETS);
      const deployments = informers.informer(DEPLOYMENTS);
      const replicationControllers = informers.informer(REPLICATION_CONTROLLERS);
      const statefulSets = informers.informer(STATEFUL_SETS);
      const queue = context.newQueue('disruption');
      const sync = new DisruptionSync({ client: context.client, events: context.events, budgets, pods, replicaSets, deployments, replicationControllers, statefulSets, clock: options.clock ?? realClock });
      /** Budgets of the namespace that select the pod (old or new labels). */
      const budgetsOf = (pod: Obj, oldLabels?: Record<string, string>) => {
        for (const budget of budgets.lister.list(pod.metadata.namespace)) {
          if (!isPlainObject(budget.spec?.selector)) continue;
          const selector = selectorFromSpec(budget.spec.selector);
          const matches = (labels?: Record<string, string>) => matchesLabels(selector, labels);
          if (matches(pod.metadata.labels) || (oldLabels && matches(oldLabels))) queue.add(keyOf(budget));
        }
      };
      // A change of a controller's replicas changes what its pods' budgets expect.
      const controllerChanged = (object: Obj) => {
        for (const budget of budgets.lister.list(object.metadata.namespace)) queue.add(keyOf(budget));
      };
      const scaleHandler = { onUpdate: (old: Obj, object: Obj) => old.spec?.replicas !== object.spec?.replicas && controllerChanged(object) };
      const handlers = [
        budgets.addEventHandler({ onAdd: (b) => queue.add(keyOf(b)), onUpdate: (_o, b) => queue.add(keyOf(b)) }),
        pods.addEventHandler({ onAdd: (p) => budgetsOf(p), onUpdate: (old, p) => budgetsOf(p, old.metadata.labels), onDelete: (p) => budgetsOf(p) }),
        replicaSets.addEventHandler(scaleHandler),
        deployments.addEventHandler(scaleHandler),
        replicationControllers.addEventHandler(scaleHandler),
        statefulSets.addEventHandler(scaleHandler),
      ];
      return startReconciler({ context, queue, informers: [budgets, pods, replicaSets, deployments, replicationControllers, statefulSets], reconcile: (key) => sync.sync(key), handlers });
    },
  };
}

export const disruptionController = newDisruptionController();
