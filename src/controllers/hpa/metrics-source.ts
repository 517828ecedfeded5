/**
 * Where the HPA controller reads resource usage: metrics.k8s.io/v1beta1 PodMetrics through the
 * API client (served in process, or by an aggregated metrics-server). A seam, so tests and other
 * sources can stand in for it.
 */
import { ApiError } from '../../api/status.js';
import type { ApiClient, Obj } from '../../client/api-client.js';
import type { ResourceType } from '../../client/resource-types.js';
import { parseQuantity } from '../../registry/common/validation.js';

export const POD_METRICS: ResourceType = Object.freeze({ group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods', kind: 'PodMetrics', namespaced: true });

/** Usage per pod name: cpu in millicores, memory in bytes (per resource name). */
export type PodUsage = Map<string, Record<string, number>>;

export interface PodMetricsSource {
  /** Throws MetricsUnavailableError when the metrics API cannot answer. */
  podUsage(namespace: string, selector: string): Promise<PodUsage>;
}

export class MetricsUnavailableError extends Error {}

/** A quantity in the HPA's units: millicores for cpu, base units otherwise. */
export function usageValue(resource: string, quantity: unknown): number {
  const value = parseQuantity(quantity);
  return resource === 'cpu' ? Math.round(value * 1000) : value;
}

export function apiMetricsSource(client: ApiClient): PodMetricsSource {
  return {
    async podUsage(namespace, selector) {
      let items: Obj[];
      try {
        items = (await client.list(POD_METRICS, namespace, { labelSelector: selector })).items;
      } catch (error) {
        if (error instanceof ApiError) throw new MetricsUnavailableError(`unable to fetch metrics from resource metrics API: ${error.message}`);
        throw error;
      }
      const usage: PodUsage = new Map();
      for (const item of items) {
        const totals: Record<string, number> = {};
        for (const container of item.containers ?? []) {
          for (const [resource, quantity] of Object.entries(container.usage ?? {})) totals[resource] = (totals[resource] ?? 0) + usageValue(resource, quantity);
        }
        usage.set(item.metadata.name!, totals);
      }
      return usage;
    },
  };
}
