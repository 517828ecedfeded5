/** Prometheus text metrics, with upstream's metric names where they exist. */
import { Registry } from 'prom-client';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 5, 10, 30, 60];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export class Metrics {
  private readonly durations = new Map<string, Histogram>();
  private readonly gauges = new Map<string, () => number>();
  /** Families kept by prom-client (work queues, controllers, scheduler …), rendered after ours. */
  readonly registry = new Registry();

  observeRequest(verb: string, resource: string, seconds: number): void {
    const key = `verb="${verb}",resource="${resource}"`;
    let histogram = this.durations.get(key);
    if (!histogram) {
      histogram = { counts: new Array(BUCKETS.length).fill(0), sum: 0, count: 0 };
      this.durations.set(key, histogram);
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) histogram.counts[i]++;
    histogram.sum += seconds;
    histogram.count++;
  }

  /** A value read at scrape time, e.g. `apiserver_storage_objects{resource="pods"}`. */
  gauge(nameWithLabels: string, read: () => number): void {
    this.gauges.set(nameWithLabels, read);
  }

  async render(): Promise<string> {
    const lines: string[] = [];
    lines.push('# HELP apiserver_request_duration_seconds Response latency distribution in seconds for each verb and resource.');
    lines.push('# TYPE apiserver_request_duration_seconds histogram');
    for (const [labels, h] of this.durations) {
      BUCKETS.forEach((bucket, i) => lines.push(`apiserver_request_duration_seconds_bucket{${labels},le="${bucket}"} ${h.counts[i]}`));
      lines.push(`apiserver_request_duration_seconds_bucket{${labels},le="+Inf"} ${h.count}`);
      lines.push(`apiserver_request_duration_seconds_sum{${labels}} ${h.sum}`);
      lines.push(`apiserver_request_duration_seconds_count{${labels}} ${h.count}`);
    }
    lines.push('# HELP apiserver_request_total Counter of apiserver requests broken out by verb and resource.');
    lines.push('# TYPE apiserver_request_total counter');
    for (const [labels, h] of this.durations) lines.push(`apiserver_request_total{${labels}} ${h.count}`);
    const names = new Set<string>();
    for (const [nameWithLabels, read] of this.gauges) {
      const name = nameWithLabels.split('{')[0];
      if (!names.has(name)) lines.push(`# TYPE ${name} gauge`);
      names.add(name);
      lines.push(`${nameWithLabels} ${read()}`);
    }
    const memory = process.memoryUsage();
    lines.push('# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${memory.rss}`);
    lines.push('# TYPE nautilus_heap_used_bytes gauge', `nautilus_heap_used_bytes ${memory.heapUsed}`);
    return lines.join('\n') + '\n' + (await this.registry.metrics());
  }
}
