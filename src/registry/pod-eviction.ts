/**
 * pods/eviction (policy/v1 Eviction): deletes a pod unless that would violate its
 * PodDisruptionBudget, as upstream's EvictionREST. A pod that is Pending, finished or already
 * terminating, or matched by no budget, is simply deleted. Otherwise its one budget must allow
 * a disruption: the allowance is decremented and the pod recorded in `status.disruptedPods`
 * (both in one status write, so two concurrent evictions cannot spend one allowance), then the
 * pod is deleted. A budget that forbids answers 429 with upstream's message. The REST handler
 * and the in-process client both come here.
 */
import { ApiError, errors, type StatusCause } from '../api/status.js';
import { nowRfc3339, isPlainObject } from '../api/object.js';
import { matchesLabels, selectorFromSpec } from '../api/selectors.js';
import type { UserInfo } from '../auth/authenticate.js';
import type { DeleteOptions, GenericStore } from './generic-store.js';
import type { Registry } from './registry.js';
import type { Obj } from './strategy.js';

/** Upstream's bound on evictions the disruption controller has not confirmed yet. */
const MAX_DISRUPTED_PODS = 2000;
const RETRIES = 10;

export interface EvictOptions {
  dryRun?: boolean;
  user?: UserInfo;
  warnings?: string[];
}

function isReady(pod: Obj): boolean {
  return (pod.status?.conditions ?? []).some((c: Obj) => c?.type === 'Ready' && c.status === 'True');
}

/** Upstream's canIgnorePDB: nothing a budget protects is lost by deleting it. */
function canIgnoreBudget(pod: Obj): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || pod.metadata.deletionTimestamp !== undefined;
}

/** The budgets of the pod's namespace whose selector matches it (an empty selector matches all). */
function budgetsFor(budgets: GenericStore, pod: Obj): Obj[] {
  return budgets
    .list(pod.metadata.namespace, {})
    .items.map((item) => item.object as Obj)
    .filter((budget) => isPlainObject(budget.spec?.selector) && matchesLabels(selectorFromSpec(budget.spec.selector), pod.metadata.labels));
}

function tooManyRequests(message: string, cause: StatusCause): ApiError {
  return new ApiError(429, 'TooManyRequests', message, { causes: [cause] });
}

export async function evictPod(registry: Registry, namespace: string, name: string, eviction: Obj, options: EvictOptions = {}): Promise<void> {
  if (eviction.metadata?.name !== undefined && eviction.metadata.name !== name) {
    throw errors.badRequest(`name in URL does not match name in Eviction object`);
  }
  const pods = registry.of('', 'pods');
  const budgets = registry.of('policy', 'poddisruptionbudgets');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const requested: Record<string, any> = isPlainObject(eviction.deleteOptions) ? eviction.deleteOptions : {};
  const dryRun = options.dryRun || (Array.isArray(requested.dryRun) && requested.dryRun.includes('All'));
  const deleteOptions = (pod: Obj): DeleteOptions => ({
    dryRun,
    gracePeriodSeconds: typeof requested.gracePeriodSeconds === 'number' ? requested.gracePeriodSeconds : undefined,
    propagationPolicy: requested.propagationPolicy,
    // The pod we decided about, not a successor of the same name.
    preconditions: { uid: requested.preconditions?.uid ?? pod.metadata.uid, resourceVersion: requested.preconditions?.resourceVersion },
    user: options.user,
    warnings: options.warnings,
  });

  for (let attempt = 0; ; attempt++) {
    const pod = pods.get(namespace, name).object as Obj;
    if (canIgnoreBudget(pod)) {
      await pods.delete(namespace, name, deleteOptions(pod));
      return;
    }
    const matching = budgetsFor(budgets, pod);
    if (matching.length > 1) throw errors.internal('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    if (matching.length === 0) {
      await pods.delete(namespace, name, deleteOptions(pod));
      return;
    }
    const budget = matching[0];
    const status = budget.status ?? {};
    const ready = isReady(pod);
    // An unhealthy pod costs the budget nothing (AlwaysAllow; or IfHealthyBudget while the budget is met).
    const policy = budget.spec?.unhealthyPodEvictionPolicy ?? 'IfHealthyBudget';
    if (!ready && (policy === 'AlwaysAllow' || ((status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0) && (status.desiredHealthy ?? 0) > 0))) {
      await pods.delete(namespace, name, deleteOptions(pod));
      return;
    }
    if ((status.observedGeneration ?? 0) < (budget.metadata.generation ?? 0)) {
      throw tooManyRequests('Cannot evict pod as it would violate the pod\'s disruption budget.', { reason: 'DisruptionBudget', message: `The disruption budget ${budget.metadata.name} is still being processed by the server.` });
    }
    const allowed = status.disruptionsAllowed ?? 0;
    if (allowed < 0) throw errors.forbidden('pdb disruptions allowed is negative');
    if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) throw errors.forbidden('DisruptedPods map too big - too many evictions not confirmed by PDB controller');
    if (allowed === 0) {
      throw tooManyRequests('Cannot evict pod as it would violate the pod\'s disruption budget.', {
        reason: 'DisruptionBudget',
        message: `The disruption budget ${budget.metadata.name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`,
      });
    }
    if (!dryRun) {
      const spent = structuredClone(budget);
      spent.status = { ...spent.status, disruptionsAllowed: allowed - 1, disruptedPods: { ...(spent.status?.disruptedPods ?? {}), [name]: nowRfc3339() } };
      if (allowed - 1 === 0) spent.status.conditions = disruptionAllowedCondition(status.conditions, false, budget.metadata.generation);
      try {
        await budgets.update(namespace, budget.metadata.name!, spent, { subresource: 'status', user: undefined });
      } catch (error) {
        // Another eviction (or the controller) wrote the budget first: decide again on fresh state.
        if (error instanceof ApiError && error.code === 409 && attempt < RETRIES) continue;
        throw error;
      }
    }
    await pods.delete(namespace, name, deleteOptions(pod));
    return;
  }
}

/** The DisruptionAllowed condition (True: SufficientPods, False: InsufficientPods), keeping its time if unchanged. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Condition = Record<string, any>;

export function disruptionAllowedCondition(conditions: Condition[] | undefined, allowed: boolean, generation: number | undefined, reason?: string, message = ''): Condition[] {
  const status = allowed ? 'True' : 'False';
  const wantedReason = reason ?? (allowed ? 'SufficientPods' : 'InsufficientPods');
  const others = (conditions ?? []).filter((c) => c?.type !== 'DisruptionAllowed');
  const previous = (conditions ?? []).find((c) => c?.type === 'DisruptionAllowed');
  const lastTransitionTime = previous && previous.status === status ? previous.lastTransitionTime : nowRfc3339();
  const condition: Condition = { type: 'DisruptionAllowed', status, reason: wantedReason, message, lastTransitionTime };
  if (generation !== undefined) condition.observedGeneration = generation;
  return [...others, condition];
}
