/**
 * API Priority and Fairness on /metrics, with upstream's names and labels: requests waiting and
 * executing now, dispatched and rejected (by reason) so far, and the time spent waiting for a seat.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FlowControlObserver } from '../flowcontrol/priority-and-fairness.js';

/** Upstream's buckets for apiserver_flowcontrol_request_wait_duration_seconds. */
const WAIT_BUCKETS = [0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30];

export function flowControlMetrics(registry: Registry): FlowControlObserver {
  const labelNames = ['priority_level', 'flow_schema'] as const;
  const inQueue = new Gauge({ name: 'apiserver_flowcontrol_current_inqueue_requests', help: 'Number of requests currently pending in queues of the API Priority and Fairness subsystem', labelNames, registers: [registry] });
  const executing = new Gauge({ name: 'apiserver_flowcontrol_current_executing_requests', help: 'Number of requests in initial (for a WATCH) or any (for a non-WATCH) execution stage in the API Priority and Fairness subsystem', labelNames, registers: [registry] });
  const dispatched = new Counter({ name: 'apiserver_flowcontrol_dispatched_requests_total', help: 'Number of requests executed by API Priority and Fairness subsystem', labelNames, registers: [registry] });
  const rejected = new Counter({ name: 'apiserver_flowcontrol_rejected_requests_total', help: 'Number of requests rejected by API Priority and Fairness subsystem', labelNames: [...labelNames, 'reason'], registers: [registry] });
  const wait = new Histogram({ name: 'apiserver_flowcontrol_request_wait_duration_seconds', help: 'Length of time a request spent waiting in its queue', labelNames: [...labelNames, 'execute'], buckets: WAIT_BUCKETS, registers: [registry] });
  return {
    waiting: (level, schema, delta) => inQueue.inc({ priority_level: level, flow_schema: schema }, delta),
    executing: (level, schema, delta) => executing.inc({ priority_level: level, flow_schema: schema }, delta),
    dispatched(level, schema, seconds) {
      dispatched.inc({ priority_level: level, flow_schema: schema });
      wait.observe({ priority_level: level, flow_schema: schema, execute: 'true' }, seconds);
    },
    rejected(level, schema, reason, seconds) {
      rejected.inc({ priority_level: level, flow_schema: schema, reason });
      wait.observe({ priority_level: level, flow_schema: schema, execute: 'false' }, seconds);
    },
  };
}
