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
  const byLevel = (name: string, help: string) => new Gauge({ name, help, labelNames: ['priority_level'], registers: [registry] });
  const nominal = byLevel('apiserver_flowcontrol_nominal_limit_seats', 'Nominal number of execution seats configured for each priority level');
  const current = byLevel('apiserver_flowcontrol_current_limit_seats', 'current derived number of execution seats available to each priority level');
  const lower = byLevel('apiserver_flowcontrol_lower_limit_seats', 'Configured lower bound on number of execution seats available to each priority level');
  const upper = byLevel('apiserver_flowcontrol_upper_limit_seats', 'Configured upper bound on number of execution seats available to each priority level');
  const target = byLevel('apiserver_flowcontrol_target_seats', 'Seat allocation targets');
  const demandAverage = byLevel('apiserver_flowcontrol_demand_seats_average', 'Time-weighted average, over last adjustment period, of demand_seats');
  const demandStdev = byLevel('apiserver_flowcontrol_demand_seats_stdev', 'Time-weighted standard deviation, over last adjustment period, of demand_seats');
  const demandHighWater = byLevel('apiserver_flowcontrol_demand_seats_high_watermark', 'High watermark, over last adjustment period, of demand_seats');
  const demandSmoothed = byLevel('apiserver_flowcontrol_demand_seats_smoothed', 'Smoothed seat demands');
  const fairFrac = new Gauge({ name: 'apiserver_flowcontrol_seat_fair_frac', help: 'Fair fraction of server\'s concurrency to allocate to each priority level that can use it', registers: [registry] });
  const executingSeats = new Gauge({ name: 'apiserver_flowcontrol_current_executing_seats', help: 'Concurrency (number of seats) occupied by the currently executing (initial stage for a WATCH, any stage otherwise) requests in the API Priority and Fairness subsystem', labelNames, registers: [registry] });
  return {
    seatLimits(limits, fairProp) {
      for (const [level, l] of limits) {
        const labels = { priority_level: level };
        nominal.set(labels, l.nominal);
        current.set(labels, l.current);
        lower.set(labels, l.lower);
        upper.set(labels, l.upper);
        target.set(labels, l.target);
        demandAverage.set(labels, l.demand.average);
        demandStdev.set(labels, l.demand.stdDev);
        demandHighWater.set(labels, l.demand.highWater);
        demandSmoothed.set(labels, l.demand.smoothed);
      }
      fairFrac.set(fairProp);
    },
    seats: (level, schema, delta) => executingSeats.inc({ priority_level: level, flow_schema: schema }, delta),
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
