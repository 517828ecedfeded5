/**
 * metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics: served, never stored — each read computes
 * usage now (src/nodes/metrics-api.ts answers; kubectl top and the HPA read them).
 */
import type { KindStrategy } from './strategy.js';

export const nodeMetrics: KindStrategy = {
  group: 'metrics.k8s.io',
  version: 'v1beta1',
  kind: 'NodeMetrics',
  plural: 'nodes',
  singular: '',
  namespaced: false,
  verbs: ['get', 'list'],
  columns: [],
};

export const podMetrics: KindStrategy = {
  group: 'metrics.k8s.io',
  version: 'v1beta1',
  kind: 'PodMetrics',
  plural: 'pods',
  singular: '',
  namespaced: true,
  verbs: ['get', 'list'],
  columns: [],
};
