import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { WorkQueue } from '../../src/client/work-queue.js';
import { WorkQueueMetrics } from '../../src/client/work-queue-metrics.js';
import { ExponentialBackoff, TokenBucket } from '../../src/client/rate-limiter.js';
import { sleep } from './fixture.js';

describe('WorkQueue', () => {
  it('processes a key added many times while it waits once', async () => {
    const queue = new WorkQueue('dedup');
    const seen: string[] = [];
    queue.add('a');
    queue.add('a');
    queue.add('b');
    queue.add('a');
    queue.run(1, async (key) => void seen.push(key));
    await sleep(20);
    assert.deepEqual(seen, ['a', 'b']);
    await queue.shutDown();
  });

  it('never gives one key to two workers, and processes it again if it was added meanwhile', async () => {
    const queue = new WorkQueue('exclusive');
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    queue.run(4, async () => {
      running++;
      runs++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(15);
      running--;
    });
    queue.add('k');
    await sleep(2);
    queue.add('k');
    queue.add('k');
    await sleep(60);
    assert.equal(maxRunning, 1);
    assert.equal(runs, 2);
    await queue.shutDown();
  });

  it('retries a failing key with growing delays and forgets its failures once it succeeds', async () => {
    const queue = new WorkQueue('retry', { rateLimiter: new ExponentialBackoff(10, 1000) });
    const times: number[] = [];
    queue.run(1, async () => {
      times.push(Date.now());
      if (times.length < 4) throw new Error('not yet');
    });
    queue.add('k');
    for (let waited = 0; times.length < 4 && waited < 10_000; waited += 20) await sleep(20);
    assert.equal(times.length, 4);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // 10, 20, 40 ms: timers may fire late (a loaded machine), never much early.
    assert.ok(gaps[0] >= 8 && gaps[1] >= 18 && gaps[2] >= 38, `gaps ${gaps}`);
    assert.equal(queue.retries('k'), 0);
    await queue.shutDown();
  });

  it('delays keys on one timer, the earliest of several delays winning', async () => {
    const queue = new WorkQueue('delay');
    const seen: string[] = [];
    queue.run(1, async (key) => void seen.push(key));
    queue.addAfter('late', 60);
    queue.addAfter('soon', 10);
    queue.addAfter('late', 30);
    queue.addAfter('late', 80);
    await sleep(45);
    assert.deepEqual(seen, ['soon', 'late']);
    await sleep(60);
    assert.deepEqual(seen, ['soon', 'late']);
    await queue.shutDown();
  });

  it('requeues after what reconcile asks', async () => {
    const queue = new WorkQueue('requeue');
    let runs = 0;
    queue.run(1, async () => (++runs < 3 ? { requeueAfterMs: 5 } : undefined));
    queue.add('k');
    for (let waited = 0; runs < 3 && waited < 10_000; waited += 20) await sleep(20);
    await sleep(30);
    assert.equal(runs, 3);
    await queue.shutDown();
  });

  it('waits for running work on shutdown and takes no more', async () => {
    const queue = new WorkQueue('shutdown');
    let started = 0;
    let finished = 0;
    queue.run(2, async () => {
      started++;
      await sleep(20);
      finished++;
    });
    queue.add('a');
    queue.add('b');
    queue.add('c');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(started, 2, 'both workers took a key at once');
    await queue.shutDown();
    assert.equal(finished, 2);
    queue.add('d');
    await sleep(30);
    assert.equal(finished, 2);
  });

  it('exports workqueue_* metrics under the queue name', async () => {
    const registry = new Registry();
    const queue = new WorkQueue('measured', { metrics: WorkQueueMetrics.in(registry) });
    queue.add('x');
    queue.add('y');
    const before = await registry.metrics();
    assert.match(before, /workqueue_depth\{name="measured"\} 2/);
    let done = 0;
    queue.run(1, async () => void done++);
    for (let waited = 0; done < 2 && waited < 10_000; waited += 10) await sleep(10);
    await sleep(10);
    const after = await registry.metrics();
    assert.match(after, /workqueue_adds_total\{name="measured"\} 2/);
    assert.match(after, /workqueue_depth\{name="measured"\} 0/);
    assert.match(after, /workqueue_work_duration_seconds_count\{name="measured"\} 2/);
    await queue.shutDown();
  });
});

describe('rate limiters', () => {
  it('back off exponentially per key, up to the cap', () => {
    const limiter = new ExponentialBackoff(5, 100);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => limiter.when('a')), [5, 10, 20, 40, 80, 100]);
    assert.equal(limiter.when('b'), 5);
    limiter.forget('a');
    assert.equal(limiter.when('a'), 5);
  });

  it('lets a burst through, then spaces keys at the bucket rate', () => {
    const bucket = new TokenBucket(10, 3);
    const delays = [1, 2, 3, 4, 5].map(() => bucket.when());
    assert.deepEqual(delays.slice(0, 3), [0, 0, 0]);
    assert.ok(delays[3] > 90 && delays[3] <= 100, String(delays[3]));
    assert.ok(delays[4] > 190 && delays[4] <= 200, String(delays[4]));
  });
});
