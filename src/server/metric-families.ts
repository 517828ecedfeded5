/**
 * Counter, gauge and histogram families for the request path. prom-client hashes and validates the
 * label object on every observation; these find their child by a key the caller already has (the
 * label values joined), so a request or a watch event costs a Map lookup and a few additions. They
 * register in a prom-client Registry like any of its own metrics, so one /metrics renders both.
 */
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

/**
 * Label sets per family beyond which new ones share one child labelled "overflow": label values
 * come partly from requests (a resource name that does not exist), and memory must stay bounded.
 */
const MAX_CHILDREN = 10_000;

interface MetricValue {
  value: number;
  labels: Labels;
  metricName?: string;
}

abstract class Family<Child extends object> {
  readonly aggregator = 'sum';
  protected readonly children = new Map<string, Child & { labels: Labels }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    // registerMetric is typed for prom-client's own classes; it only reads name, help, type and get().
    registry.registerMetric(this as never);
  }

  abstract readonly type: string;
  protected abstract fresh(): Child;
  protected abstract values(): MetricValue[];

  /** The child for these label values (in labelNames order). */
  protected child(values: readonly string[]): Child & { labels: Labels } {
    let key = values.join('\u0001');
    let child = this.children.get(key);
    if (!child && this.children.size >= MAX_CHILDREN) {
      values = this.labelNames.map(() => 'overflow');
      key = values.join('\u0001');
      child = this.children.get(key);
    }
    if (!child) {
      const labels: Labels = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i] ?? ''));
      const created = Object.assign(this.fresh(), { labels });
      this.children.set(key, created);
      return created;
    }
    return child;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }
}

export class CounterFamily extends Family<{ value: number }> {
  readonly type = 'counter';

  inc(values: readonly string[], by = 1): void {
    this.child(values).value += by;
  }

  protected fresh() {
    return { value: 0 };
  }

  protected values(): MetricValue[] {
    return [...this.children.values()].map(({ labels, value }) => ({ labels, value }));
  }
}

export class GaugeFamily extends Family<{ value: number }> {
  readonly type = 'gauge';

  add(values: readonly string[], by: number): void {
    this.child(values).value += by;
  }

  set(values: readonly string[], value: number): void {
    this.child(values).value = value;
  }

  /** Children are kept at zero rather than removed, as client_golang's vectors keep them. */
  protected fresh() {
    return { value: 0 };
  }

  protected values(): MetricValue[] {
    return [...this.children.values()].map(({ labels, value }) => ({ labels, value }));
  }
}

interface HistogramChild {
  counts: number[];
  sum: number;
  count: number;
}

export class HistogramFamily extends Family<HistogramChild> {
  readonly type = 'histogram';

  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[], registry: Registry) {
    super(name, help, labelNames, registry);
  }

  observe(values: readonly string[], value: number): void {
    const child = this.child(values);
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && value > buckets[i]) i++;
    if (i < buckets.length) child.counts[i]++;
    child.sum += value;
    child.count++;
  }

  protected fresh(): HistogramChild {
    return { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
  }

  protected values(): MetricValue[] {
    const out: MetricValue[] = [];
    for (const { labels, counts, sum, count } of this.children.values()) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += counts[i];
        out.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: String(bound) }, value: cumulative });
      });
      out.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count });
      out.push({ metricName: `${this.name}_sum`, labels, value: sum });
      out.push({ metricName: `${this.name}_count`, labels, value: count });
    }
    return out;
  }
}

/** client_golang's ExponentialBuckets: count buckets from start, each factor times the one before. */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}
