import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulingQueue } from '../../src/scheduler/queue.js';
import { prioritySort } from '../../src/scheduler/plugins/priority-sort.js';
import { schedulingGates } from '../../src/scheduler/plugins/scheduling-gates.js';
import { pod } from './fixture.js';

function queue(now: { t: number }, plugins: Record<string, string[]> = {}) {
  const sort = prioritySort();
  const gates = schedulingGates();
  return new SchedulingQueue({
    less: (a, b) => sort.less!(a, b),
    preEnqueue: (p) => {
      const result = gates.preEnqueue!(p);
      if (result) result.plugin = gates.name;
      return result;
    },
    pluginsFor: (event) => new Set(plugins[event] ?? []),
    now: () => now.t,
  });
}

test('activeQ pops by priority, then by time in the queue', async () => {
  const now = { t: 0 };
  const q = queue(now);
  q.add(pod('low', { priority: 1 }));
  now.t = 1;
  q.add(pod('high-late', { priority: 10 }));
  now.t = 2;
  q.add(pod('high-later', { priority: 10 }));
  const order = [];
  for (let i = 0; i < 3; i++) order.push((await q.pop())!.pod.metadata.name);
  assert.deepEqual(order, ['high-late', 'high-later', 'low']);
});

test('backoff doubles from 1 s to at most 10 s', () => {
  const q = queue({ t: 0 });
  const durations = [1, 2, 3, 4, 5, 6].map((attempts) => q.backoffDuration({ attempts } as never));
  assert.deepEqual(durations, [1000, 2000, 4000, 8000, 10_000, 10_000]);
});

test('an unschedulable pod moves on an event one of its rejecting plugins registered for, through backoff', async () => {
  const now = { t: 0 };
  const q = queue(now, { 'Node/Add': ['NodeResourcesFit'] });
  q.add(pod('p'));
  const queued = (await q.pop())!;
  const cycle = q.cycle;
  queued.unschedulablePlugins = new Set(['NodeResourcesFit']);
  q.addUnschedulable(queued, cycle);
  assert.deepEqual(q.counts, { active: 0, backoff: 0, unschedulable: 1, gated: 0 });
  q.moveAllToActiveOrBackoff('Node/UpdateNodeLabel');
  assert.equal(q.counts.unschedulable, 1, 'an event no rejecting plugin cares about leaves it parked');
  q.moveAllToActiveOrBackoff('Node/Add');
  // Still backing off (1 s after its first failure): backoffQ, then activeQ once the time is up.
  assert.deepEqual(q.counts, { active: 0, backoff: 1, unschedulable: 0, gated: 0 });
  now.t = 999;
  q.flushBackoffCompleted();
  assert.equal(q.counts.backoff, 1);
  now.t = 1000;
  q.flushBackoffCompleted();
  assert.deepEqual(q.counts, { active: 1, backoff: 0, unschedulable: 0, gated: 0 });
});

test('an event during the attempt sends the failed pod to backoffQ, not to the unschedulable pods', async () => {
  const q = queue({ t: 0 });
  q.add(pod('p'));
  const queued = (await q.pop())!;
  const cycle = q.cycle;
  q.moveAllToActiveOrBackoff('Pod/Delete');
  queued.unschedulablePlugins = new Set(['NodeResourcesFit']);
  q.addUnschedulable(queued, cycle);
  assert.deepEqual(q.counts, { active: 0, backoff: 1, unschedulable: 0, gated: 0 });
});

test('unschedulable pods are flushed after 5 minutes without an event', async () => {
  const now = { t: 0 };
  const q = queue(now);
  q.add(pod('p'));
  const queued = (await q.pop())!;
  queued.unschedulablePlugins = new Set(['X']);
  q.addUnschedulable(queued, q.cycle);
  now.t = 5 * 60_000 - 1;
  q.flushUnschedulableLeftover();
  assert.equal(q.counts.unschedulable, 1);
  now.t = 5 * 60_000;
  q.flushUnschedulableLeftover();
  assert.equal(q.counts.active, 1);
});

test('a gated pod waits outside activeQ until its gates are removed', async () => {
  const q = queue({ t: 0 });
  const gated = pod('g', { schedulingGates: [{ name: 'wait' }] });
  q.add(gated);
  assert.deepEqual(q.counts, { active: 0, backoff: 0, unschedulable: 0, gated: 1 });
  q.moveAllToActiveOrBackoff('Node/Add');
  assert.equal(q.counts.gated, 1, 'cluster events do not ungate');
  q.update(gated, { ...gated, spec: { ...gated.spec, schedulingGates: [] } });
  assert.deepEqual(q.counts, { active: 1, backoff: 0, unschedulable: 0, gated: 0 });
});
