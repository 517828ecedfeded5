/**
 * The HPA's replica arithmetic for resource metrics (upstream's replica_calculator.go): usage
 * over requests of the pods that report, a tolerance band where nothing changes, and the
 * conservative treatment of pods without metrics (assumed at 100% of request when scaling
 * down, 0% when scaling up) and of unready pods (0% when scaling up).
 */

/** Upstream's --horizontal-pod-autoscaler-tolerance. */
export const DEFAULT_TOLERANCE = 0.1;

export interface PodSample {
  name: string;
  /** Sum of the containers' requests of the resource (millicores or bytes). */
  request: number;
  /** Usage from the metrics API; undefined when the pod reports none. */
  usage?: number;
  ready: boolean;
  /** Being deleted or failed: not counted at all. */
  ignored?: boolean;
}

export interface UtilizationResult {
  replicas: number;
  /** Average utilization of the pods that report, in percent of request (rounded down). */
  utilization: number;
  /** Average usage of those pods (same unit as usage). */
  averageUsage: number;
}

export class MissingRequestError extends Error {}

function utilizationRatio(samples: readonly PodSample[], target: number): { ratio: number; utilization: number; average: number } {
  let usage = 0;
  let request = 0;
  for (const sample of samples) {
    usage += sample.usage ?? 0;
    request += sample.request;
  }
  if (request === 0) throw new MissingRequestError('no pod has a request');
  const utilization = (usage * 100) / request;
  return { ratio: utilization / target, utilization: Math.floor(utilization), average: samples.length > 0 ? usage / samples.length : 0 };
}

/** Desired replicas for a Utilization target (percent of request). */
export function replicasForUtilization(currentReplicas: number, targetUtilization: number, pods: readonly PodSample[], tolerance = DEFAULT_TOLERANCE): UtilizationResult {
  const counted = pods.filter((pod) => !pod.ignored);
  const missingRequest = counted.find((pod) => pod.request <= 0);
  if (missingRequest) throw new MissingRequestError(`missing request for cpu in container of pod ${missingRequest.name}`);
  const withMetrics = counted.filter((pod) => pod.usage !== undefined && pod.ready);
  const unready = counted.filter((pod) => pod.usage !== undefined && !pod.ready);
  const missing = counted.filter((pod) => pod.usage === undefined);
  if (withMetrics.length === 0 && unready.length === 0) throw new MissingRequestError('did not receive metrics for targeted pods (pods might be unready)');
  const base = utilizationRatio(withMetrics.length > 0 ? withMetrics : unready, targetUtilization);
  const within = (ratio: number) => Math.abs(1 - ratio) <= tolerance;
  if (missing.length === 0 && unready.length === 0) {
    if (within(base.ratio)) return { replicas: currentReplicas, utilization: base.utilization, averageUsage: base.average };
    return { replicas: Math.ceil(base.ratio * withMetrics.length), utilization: base.utilization, averageUsage: base.average };
  }
  const scaleUp = base.ratio > 1;
  const assumed: PodSample[] = [...withMetrics];
  for (const pod of missing) assumed.push({ ...pod, usage: scaleUp ? 0 : pod.request, ready: true });
  if (scaleUp) for (const pod of unready) assumed.push({ ...pod, usage: 0, ready: true });
  const adjusted = utilizationRatio(assumed, targetUtilization);
  // A band or a change of direction after the assumptions: keep the current size.
  if (within(adjusted.ratio) || (base.ratio > 1) !== (adjusted.ratio > 1)) return { replicas: currentReplicas, utilization: base.utilization, averageUsage: base.average };
  const replicas = Math.ceil(adjusted.ratio * assumed.length);
  // The assumptions may not turn a scale-down into growth, or a scale-up into shrinking.
  if ((adjusted.ratio < 1 && replicas > currentReplicas) || (adjusted.ratio > 1 && replicas < currentReplicas)) return { replicas: currentReplicas, utilization: base.utilization, averageUsage: base.average };
  return { replicas, utilization: base.utilization, averageUsage: base.average };
}

/** Desired replicas for an AverageValue target (usage per pod). */
export function replicasForAverageValue(currentReplicas: number, targetAverage: number, pods: readonly PodSample[], tolerance = DEFAULT_TOLERANCE): UtilizationResult {
  const reporting = pods.filter((pod) => !pod.ignored && pod.usage !== undefined);
  if (reporting.length === 0) throw new MissingRequestError('did not receive metrics for targeted pods (pods might be unready)');
  const total = reporting.reduce((sum, pod) => sum + (pod.usage ?? 0), 0);
  const average = total / reporting.length;
  const ratio = average / targetAverage;
  if (Math.abs(1 - ratio) <= tolerance) return { replicas: currentReplicas, utilization: 0, averageUsage: average };
  return { replicas: Math.ceil(total / targetAverage), utilization: 0, averageUsage: average };
}
