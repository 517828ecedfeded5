/**
 * The horizontal pod autoscaler controller: every sync period, for each HPA, read its target's
 * scale subresource (Deployments, ReplicaSets, StatefulSets, custom resources alike), the usage
 * of the target's pods from the metrics API, compute the recommendation per metric, normalize it
 * by the behavior (stabilization, rate policies, min/max), scale, and report status as upstream.
 */
import { ApiError } from '../api/status.js';
import { nowRfc3339 } from '../api/object.js';
import type { ApiClient, DiscoveredResource, Obj } from '../client/api-client.js';
import { HORIZONTAL_POD_AUTOSCALERS, PODS } from '../client/resource-types.js';
import type { ControllerContext, ControllerDefinition } from './manager.js';
import { startReconciler, keyOf } from './reconciler.js';
import { splitKey } from '../client/resource-types.js';
import { apiMetricsSource, MetricsUnavailableError, usageValue, type PodMetricsSource, type PodUsage } from './hpa/metrics-source.js';
import { DEFAULT_TOLERANCE, MissingRequestError, replicasForAverageValue, replicasForUtilization, type PodSample } from './hpa/replica-calculator.js';
import { normalizeReplicas, recordScale, type ScalingHistory } from './hpa/behavior.js';
import { setCondition } from '../registry/custom-resource-definitions.js';

export interface HpaControllerOptions {
  /** Where pod usage comes from (default: metrics.k8s.io through the controller's client). */
  metrics?: (client: ApiClient) => PodMetricsSource;
  now?: () => number;
}

const DEFAULT_SYNC_PERIOD_MS = 15_000;

/** Plain JSON (status fragments are not objects with metadata). */
type Json = Record<string, unknown>;

interface MetricOutcome {
  replicas: number;
  status: Json;
  description: string;
}

function podRequest(pod: Obj, resource: string): number {
  let total = 0;
  for (const container of pod.spec?.containers ?? []) {
    const request = container.resources?.requests?.[resource];
    if (request === undefined) return 0;
    total += usageValue(resource, request);
  }
  return total;
}

function isReady(pod: Obj): boolean {
  return (pod.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');
}

function samples(pods: Obj[], usage: PodUsage, resource: string): PodSample[] {
  return pods.map((pod) => ({
    name: pod.metadata.name!,
    request: podRequest(pod, resource),
    usage: usage.get(pod.metadata.name!)?.[resource],
    ready: isReady(pod) && pod.status?.phase === 'Running',
    ignored: !!pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded',
  }));
}

function formatUsage(resource: string, value: number): string {
  return resource === 'cpu' ? `${Math.round(value)}m` : String(Math.round(value));
}

/** The recommendation for one metric; only Resource metrics are computed (no custom metrics API here). */
function computeMetric(metric: Obj, current: number, pods: Obj[], usage: PodUsage, tolerance: number): MetricOutcome {
  if (metric.type !== 'Resource' && metric.type !== 'ContainerResource') {
    throw new MetricsUnavailableError(`the HPA was unable to compute the replica count: unable to get ${String(metric.type).toLowerCase()} metric: no custom or external metrics API is served`);
  }
  const source = metric.resource ?? metric.containerResource;
  const resource: string = source.name;
  const target = source.target ?? {};
  const podSamples = samples(pods, usage, resource);
  if (target.type === 'Utilization') {
    const result = replicasForUtilization(current, target.averageUtilization, podSamples, tolerance);
    return {
      replicas: result.replicas,
      status: { type: 'Resource', resource: { name: resource, current: { averageUtilization: result.utilization, averageValue: formatUsage(resource, result.averageUsage) } } },
      description: `${resource} resource utilization (percentage of request)`,
    };
  }
  const averageTarget = usageValue(resource, target.averageValue ?? target.value);
  const result = replicasForAverageValue(current, averageTarget, podSamples, tolerance);
  return {
    replicas: result.replicas,
    status: { type: 'Resource', resource: { name: resource, current: { averageValue: formatUsage(resource, result.averageUsage) } } },
    description: `${resource} resource`,
  };
}

export function horizontalPodAutoscalerController(options: HpaControllerOptions = {}): ControllerDefinition {
  return {
    name: 'horizontal-pod-autoscaler-controller',
    aliases: ['horizontalpodautoscaling', 'horizontal-pod-autoscaler'],
    serviceAccount: 'horizontal-pod-autoscaler',
    workersFlag: { name: 'concurrent-horizontal-pod-autoscaler-syncs', default: 5 },
    async start(context: ControllerContext) {
      const { client } = context;
      const now = options.now ?? Date.now;
      const syncPeriod = Number(context.settings['horizontal-pod-autoscaler-sync-period-ms'] ?? DEFAULT_SYNC_PERIOD_MS);
      const tolerance = Number(context.settings['horizontal-pod-autoscaler-tolerance'] ?? DEFAULT_TOLERANCE);
      const downscaleWindow = Number(context.settings['horizontal-pod-autoscaler-downscale-stabilization-seconds'] ?? 300);
      const metrics = (options.metrics ?? apiMetricsSource)(client);
      const hpas = context.informers.informer(HORIZONTAL_POD_AUTOSCALERS);
      const pods = context.informers.informer(PODS);
      const queue = context.newQueue('horizontalpodautoscaler');
      const histories = new Map<string, ScalingHistory>();
      const handler = hpas.addEventHandler({ onAdd: (hpa) => queue.add(keyOf(hpa)), onUpdate: (old, hpa) => old.metadata.generation !== hpa.metadata.generation && queue.add(keyOf(hpa)) });
      let discovered: { at: number; resources: DiscoveredResource[] } | undefined;

      async function targetType(ref: Obj): Promise<DiscoveredResource | undefined> {
        if (!discovered || now() - discovered.at > 10_000) discovered = { at: now(), resources: await client.discover() };
        const group = String(ref.apiVersion ?? '').includes('/') ? String(ref.apiVersion).split('/')[0] : '';
        return discovered.resources.find((r) => r.kind === ref.kind && r.group === group);
      }

      async function writeStatus(hpa: Obj, status: Json, conditions: Array<{ type: string; status: string; reason: string; message: string }>): Promise<void> {
        await client.mutate(HORIZONTAL_POD_AUTOSCALERS, hpa.metadata.namespace, hpa.metadata.name!, (current) => {
          current.status = { ...(current.status ?? {}), ...status, observedGeneration: current.metadata.generation };
          for (const condition of conditions) setCondition(current, condition);
          return current;
        }, { subresource: 'status' });
      }

      async function reconcile(key: string) {
        const { namespace, name } = splitKey(key);
        const hpa = hpas.lister.get(namespace, name);
        if (!hpa) {
          histories.delete(key);
          return;
        }
        const again = { requeueAfterMs: syncPeriod };
        const spec = hpa.spec ?? {};
        const ref = spec.scaleTargetRef ?? {};
        const type = await targetType(ref);
        let scale: Obj;
        try {
          if (!type) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${ref.kind}.${ref.apiVersion})`, {});
          scale = await client.getScale(type, namespace, ref.name);
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          const message = `the HPA controller was unable to get the target's current scale: ${error.message}`;
          context.events.event(hpa, 'Warning', 'FailedGetScale', error.message);
          await writeStatus(hpa, {}, [{ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message }]);
          return again;
        }
        const current: number = scale.spec?.replicas ?? 0;
        const minReplicas: number = spec.minReplicas ?? 1;
        const maxReplicas: number = spec.maxReplicas;
        const conditions: Array<{ type: string; status: string; reason: string; message: string }> = [];
        let desired = current;
        let reason = '';
        const currentMetrics: Json[] = [];
        if (current === 0 && minReplicas !== 0) {
          conditions.push({ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' });
        } else if (current > maxReplicas || current < minReplicas) {
          desired = Math.min(Math.max(current, minReplicas), maxReplicas);
          reason = current > maxReplicas ? 'Current number of replicas above Spec.MaxReplicas' : 'Current number of replicas below Spec.MinReplicas';
          conditions.push({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count' });
        } else {
          const selector: string = scale.status?.selector ?? '';
          const metricSpecs: Obj[] = spec.metrics?.length ? spec.metrics : [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
          let recommended = 0;
          let description = '';
          try {
            const targetPods = pods.lister.list(namespace, selector);
            const usage = await metrics.podUsage(namespace!, selector);
            for (const metric of metricSpecs) {
              const outcome = computeMetric(metric, current, targetPods, usage, tolerance);
              currentMetrics.push(outcome.status);
              if (outcome.replicas >= recommended) {
                recommended = outcome.replicas;
                description = outcome.description;
              }
            }
          } catch (error) {
            if (!(error instanceof MetricsUnavailableError || error instanceof MissingRequestError)) throw error;
            const message = `the HPA was unable to compute the replica count: ${error.message}`;
            context.events.event(hpa, 'Warning', 'FailedGetResourceMetric', error.message);
            await writeStatus(hpa, { currentReplicas: current, desiredReplicas: current }, [
              { type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: 'the HPA controller was able to get the target\'s current scale' },
              { type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric', message },
            ]);
            return again;
          }
          const history = histories.get(key) ?? { recommendations: [], events: [] };
          histories.set(key, history);
          const normalized = normalizeReplicas({ current, recommended, minReplicas, maxReplicas, behavior: spec.behavior, history, now: now(), downscaleStabilizationSeconds: downscaleWindow });
          desired = normalized.replicas;
          reason = `${description} ${desired > current ? 'above' : 'below'} target`;
          conditions.push({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from ${description}` });
          conditions.push(normalized.limited ? { type: 'ScalingLimited', status: 'True', ...normalized.limited } : { type: 'ScalingLimited', status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' });
        }
        const status: Json = { currentReplicas: current, desiredReplicas: desired, currentMetrics };
        if (desired !== current && type) {
          try {
            await client.updateScale(type, namespace, ref.name, desired);
          } catch (error) {
            if (!(error instanceof ApiError)) throw error;
            context.events.event(hpa, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${reason}; error: ${error.message}`);
            await writeStatus(hpa, {}, [{ type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${error.message}` }]);
            return again;
          }
          const history = histories.get(key);
          if (history) recordScale(history, current, desired, now());
          context.events.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
          status.lastScaleTime = nowRfc3339();
        }
        conditions.unshift({ type: 'AbleToScale', status: 'True', reason: desired !== current ? 'SucceededRescale' : 'ReadyForNewScale', message: desired !== current ? 'the HPA controller was able to update the target scale to ' + desired : 'recommended size matches current size' });
        await writeStatus(hpa, status, conditions);
        return again;
      }

      return startReconciler({ context, queue, informers: [hpas, pods], reconcile, handlers: [handler] });
    },
  };
}

export const horizontalPodAutoscalerControllerDefinition = horizontalPodAutoscalerController();
