/** The scheduler's metric families, with upstream's names, in the process's prom-client registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const DURATION_BUCKETS = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);

export class SchedulerMetrics {
  private static readonly byRegistry = new WeakMap<Registry, SchedulerMetrics>();
  readonly attempts: Counter<'result' | 'profile'>;
  readonly attemptDuration: Histogram<'result' | 'profile'>;
  readonly sliDuration: Histogram<'attempts'>;
  readonly preemptionAttempts: Counter;
  readonly preemptionVictims: Histogram;
  /** Read at scrape time: the queue of the scheduler running now. */
  pendingPods: () => { active: number; backoff: number; unschedulable: number; gated: number } = () => ({ active: 0, backoff: 0, unschedulable: 0, gated: 0 });

  /** One set per registry: a scheduler restarted (leadership regained) reuses it. */
  static in(registry: Registry): SchedulerMetrics {
    let metrics = SchedulerMetrics.byRegistry.get(registry);
    if (!metrics) SchedulerMetrics.byRegistry.set(registry, (metrics = new SchedulerMetrics(registry)));
    return metrics;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    this.attempts = new Counter({ name: 'scheduler_schedule_attempts_total', help: 'Number of attempts to schedule pods, by the result. \'unschedulable\' means a pod could not be scheduled, while \'error\' means an internal scheduler problem.', labelNames: ['result', 'profile'], registers });
    this.attemptDuration = new Histogram({ name: 'scheduler_scheduling_attempt_duration_seconds', help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)', labelNames: ['result', 'profile'], buckets: DURATION_BUCKETS, registers });
    this.sliDuration = new Histogram({ name: 'scheduler_pod_scheduling_sli_duration_seconds', help: 'E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts.', labelNames: ['attempts'], buckets: DURATION_BUCKETS, registers });
    this.preemptionAttempts = new Counter({ name: 'scheduler_preemption_attempts_total', help: 'Total preemption attempts in the cluster till now', registers });
    this.preemptionVictims = new Histogram({ name: 'scheduler_preemption_victims', help: 'Number of selected preemption victims', buckets: [1, 2, 4, 8, 16, 32, 64], registers });
    const pending = () => this.pendingPods();
    new Gauge({
      name: 'scheduler_pending_pods',
      help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
      labelNames: ['queue'],
      registers,
      collect() {
        const counts = pending();
        for (const [queue, value] of Object.entries(counts)) this.set({ queue }, value);
      },
    });
  }
}
