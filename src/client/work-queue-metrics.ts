/**
 * client-go's workqueue metrics, with upstream's names and the queue's name as the `name` label:
 * depth, adds, time waiting, time working, retries, and how long current work has been running.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WorkQueue } from './work-queue.js';

const SECONDS_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10];

export class WorkQueueMetrics {
  private static readonly byRegistry = new WeakMap<Registry, WorkQueueMetrics>();
  private readonly queues = new Map<string, WorkQueue>();
  private readonly adds: Counter<'name'>;
  private readonly retries: Counter<'name'>;
  private readonly queueDuration: Histogram<'name'>;
  private readonly workDuration: Histogram<'name'>;

  /** One set of metric families per registry, shared by every queue registered in it. */
  static in(registry: Registry): WorkQueueMetrics {
    let metrics = WorkQueueMetrics.byRegistry.get(registry);
    if (!metrics) WorkQueueMetrics.byRegistry.set(registry, (metrics = new WorkQueueMetrics(registry)));
    return metrics;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    const queues = this.queues;
    this.adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'], registers });
    this.retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'], registers });
    this.queueDuration = new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested.', labelNames: ['name'], buckets: SECONDS_BUCKETS, registers });
    this.workDuration = new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes.', labelNames: ['name'], buckets: SECONDS_BUCKETS, registers });
    new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, queue] of queues) this.set({ name }, queue.length);
      },
    });
    new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help: 'How many seconds of work has been done that is in progress and hasn\'t been observed by work_duration. Large values indicate stuck threads.',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, queue] of queues) this.set({ name }, queue.processingSeconds().total);
      },
    });
    new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, queue] of queues) this.set({ name }, queue.processingSeconds().longest);
      },
    });
  }

  register(queue: WorkQueue): void {
    this.queues.set(queue.name, queue);
  }

  added(name: string): void {
    this.adds.inc({ name });
  }

  retried(name: string): void {
    this.retries.inc({ name });
  }

  waited(name: string, seconds: number): void {
    this.queueDuration.observe({ name }, seconds);
  }

  worked(name: string, seconds: number): void {
    this.workDuration.observe({ name }, seconds);
  }
}
