/**
 * The resource metrics API (metrics.k8s.io/v1beta1) over the virtual nodes' synthetic usage
 * (usage.ts): NodeMetrics for every virtual node, PodMetrics for every running pod on one —
 * what metrics-server would report from scraping their kubelets, computed at read time from the
 * stored pods (the same pure function the agents' /stats/summary uses, so both agree).
 */
import { errors } from '../api/status.js';
import type { Obj } from '../client/api-client.js';
import { buildSelection } from '../registry/selection.js';
import type { Registry } from '../registry/registry.js';
import { VIRTUAL_NODE_ANNOTATION } from './node-object.js';
import { cpuQuantity, memoryQuantity, nodeUsage, podUsage, USAGE_WINDOW_SECONDS } from './usage.js';

export const METRICS_GROUP = 'metrics.k8s.io';
const API_VERSION = 'metrics.k8s.io/v1beta1';

export interface MetricsQuery {
  labelSelector?: string;
  fieldSelector?: string;
}

function timestamp(nowMs: number): string {
  return new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z');
}

export class ResourceMetrics {
  constructor(private readonly registry: Registry) {}

  private virtualNodes(): Obj[] {
    return this.registry
      .of('', 'nodes')
      .list(undefined, {})
      .items.map((item) => item.object as Obj)
      .filter((node) => node.metadata.annotations?.[VIRTUAL_NODE_ANNOTATION] === 'true');
  }

  private podsOn(nodeName: string): Obj[] {
    const pods = this.registry.of('', 'pods');
    const { filter } = buildSelection(pods.strategy, { fieldSelector: `spec.nodeName=${nodeName}` });
    return pods.list(undefined, { filter }).items.map((item) => item.object as Obj);
  }

  private nodeItem(node: Obj, nowMs: number): Obj {
    const usage = nodeUsage(this.podsOn(node.metadata.name!), nowMs);
    return {
      kind: 'NodeMetrics',
      apiVersion: API_VERSION,
      metadata: { name: node.metadata.name, creationTimestamp: timestamp(nowMs), labels: node.metadata.labels ?? {} },
      timestamp: timestamp(nowMs),
      window: `${USAGE_WINDOW_SECONDS}s`,
      usage: { cpu: cpuQuantity(usage.cpu), memory: memoryQuantity(usage.memory) },
    } as Obj;
  }

  private podItem(pod: Obj, nowMs: number): Obj | undefined {
    const containers = podUsage(pod, nowMs);
    if (containers.length === 0) return undefined;
    return {
      kind: 'PodMetrics',
      apiVersion: API_VERSION,
      metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, creationTimestamp: timestamp(nowMs), labels: pod.metadata.labels ?? {} },
      timestamp: timestamp(nowMs),
      window: `${USAGE_WINDOW_SECONDS}s`,
      containers: containers.map(({ name, usage }) => ({ name, usage: { cpu: cpuQuantity(usage.cpu), memory: memoryQuantity(usage.memory) } })),
    } as Obj;
  }

  listNodes(query: MetricsQuery, nowMs = Date.now()): Obj {
    const { matches } = buildSelection(this.registry.of('', 'nodes').strategy, query);
    const items = this.virtualNodes().filter((node) => !matches || matches(node)).map((node) => this.nodeItem(node, nowMs));
    return { kind: 'NodeMetricsList', apiVersion: API_VERSION, metadata: {}, items } as unknown as Obj;
  }

  getNode(name: string, nowMs = Date.now()): Obj {
    const node = this.virtualNodes().find((n) => n.metadata.name === name);
    if (!node) throw errors.notFound({ group: METRICS_GROUP, resource: 'nodes' }, name);
    return this.nodeItem(node, nowMs);
  }

  private virtualPods(namespace: string | undefined, query: MetricsQuery): Obj[] {
    const virtual = new Set(this.virtualNodes().map((node) => node.metadata.name));
    const pods = this.registry.of('', 'pods');
    const { filter } = buildSelection(pods.strategy, query);
    return pods
      .list(namespace, { filter })
      .items.map((item) => item.object as Obj)
      .filter((pod) => virtual.has(pod.spec?.nodeName));
  }

  listPods(namespace: string | undefined, query: MetricsQuery, nowMs = Date.now()): Obj {
    const items = this.virtualPods(namespace, query).flatMap((pod) => this.podItem(pod, nowMs) ?? []);
    return { kind: 'PodMetricsList', apiVersion: API_VERSION, metadata: {}, items } as unknown as Obj;
  }

  getPod(namespace: string, name: string, nowMs = Date.now()): Obj {
    const pod = this.virtualPods(namespace, { fieldSelector: `metadata.name=${name}` })[0];
    const item = pod && this.podItem(pod, nowMs);
    if (!item) throw errors.notFound({ group: METRICS_GROUP, resource: 'pods' }, name);
    return item;
  }

  /** A get or list of either kind, by resource name (what the REST handler and the in-process client ask). */
  answer(resource: string, namespace: string | undefined, name: string | undefined, query: MetricsQuery): Obj {
    if (resource === 'nodes') return name ? this.getNode(name) : this.listNodes(query);
    if (resource === 'pods') return name ? this.getPod(namespace!, name) : this.listPods(namespace, query);
    throw errors.pathNotFound();
  }
}
