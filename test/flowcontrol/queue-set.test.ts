/** The fair queues of one priority level: seats, shuffle sharding, round-robin, rejections. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dealHand, QueueSet, Rejected, type Release } from '../../src/flowcontrol/queue-set.js';

const QUEUING = { queues: 64, handSize: 6, queueLengthLimit: 50 };

test('a hand holds handSize distinct queues, the same for the same flow', () => {
  const hand = dealHand('global-default\u0000alice', 128, 6);
  assert.equal(hand.length, 6);
  assert.equal(new Set(hand).size, 6);
  for (const card of hand) assert.ok(card >= 0 && card < 128);
  assert.deepEqual(dealHand('global-default\u0000alice', 128, 6), hand);
  assert.notDeepEqual(dealHand('global-default\u0000bob', 128, 6), hand);
});

test('requests run at once while seats are free, then wait', async () => {
  const set = new QueueSet({ concurrencyLimit: 2, queuing: QUEUING, maxWaitMs: 60_000 });
  const first = await set.acquire('a');
  await set.acquire('a');
  let third: Release | undefined;
  const waiting = set.acquire('a').then((release) => (third = release));
  assert.equal(set.waitingCount, 1);
  assert.equal(third, undefined);
  first();
  await waiting;
  assert.ok(third);
  assert.equal(set.executingCount, 2);
});

test('a flow with many waiting requests does not delay a flow with one (round-robin)', async () => {
  const set = new QueueSet({ concurrencyLimit: 1, queuing: QUEUING, maxWaitMs: 60_000 });
  const order: string[] = [];
  let running = await set.acquire('seed');
  const all: Promise<void>[] = [];
  const enqueue = (flow: string, label: string) =>
    all.push(
      set.acquire(flow).then((release) => {
        order.push(label);
        running = release;
      }),
    );
  for (let i = 0; i < 20; i++) enqueue('flooder', `flood-${i}`);
  enqueue('quiet', 'quiet');
  // Serve one at a time: each release hands the seat to the next queue in turn.
  for (let served = 0; served < 21; served++) {
    const current = running;
    current();
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(all);
  // The flooder spreads over its hand of 6 queues, quiet has a queue of its own: one round
  // serves each non-empty queue once, so quiet is served within 7 turns, not after all 20.
  assert.ok(order.indexOf('quiet') < 7, `quiet served at position ${order.indexOf('quiet')}: ${order.join(',')}`);
  running();
});

test('a full queue rejects, a level without queues rejects at once, a long wait times out', async () => {
  const oneQueue = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 1, handSize: 1, queueLengthLimit: 1 }, maxWaitMs: 60_000 });
  const held = await oneQueue.acquire('a');
  const queued = oneQueue.acquire('a');
  await assert.rejects(oneQueue.acquire('b'), (error: unknown) => error instanceof Rejected && error.reason === 'queue-full');
  held();
  (await queued)();

  const reject = new QueueSet({ concurrencyLimit: 1, maxWaitMs: 60_000 });
  const seat = await reject.acquire('a');
  await assert.rejects(reject.acquire('a'), (error: unknown) => error instanceof Rejected && error.reason === 'concurrency-limit');
  seat();

  const slow = new QueueSet({ concurrencyLimit: 1, queuing: QUEUING, maxWaitMs: 20 });
  const busy = await slow.acquire('a');
  await assert.rejects(slow.acquire('a'), (error: unknown) => error instanceof Rejected && error.reason === 'time-out');
  assert.equal(slow.waitingCount, 0);
  busy();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(slow.executingCount, 0);
});

test('a withdrawn request leaves its queue and never takes a seat', async () => {
  const set = new QueueSet({ concurrencyLimit: 1, queuing: QUEUING, maxWaitMs: 60_000 });
  const held = await set.acquire('a');
  let withdraw: (() => void) | undefined;
  const waiting = set.acquire('b', (w) => (withdraw = w));
  withdraw!();
  await assert.rejects(waiting, (error: unknown) => error instanceof Rejected && error.reason === 'cancelled');
  held();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(set.executingCount, 0);
  assert.equal(set.waitingCount, 0);
});

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('a seat is given back only after the turn: requests that finish at once still queue, and are served fairly', async () => {
  const set = new QueueSet({ concurrencyLimit: 2, queuing: QUEUING, maxWaitMs: 60_000 });
  const order: string[] = [];
  const all: Promise<void>[] = [];
  // Every handler finishes synchronously, as an in-memory create does.
  const request = (flow: string, label: string) => all.push(set.acquire(flow).then((release) => (order.push(label), release())));
  for (let i = 0; i < 30; i++) request('flooder', `flood-${i}`);
  request('quiet', 'quiet');
  await Promise.resolve();
  // Only the level's seats' worth ran in this turn, even though each released at once.
  assert.deepEqual(order, ['flood-0', 'flood-1']);
  assert.equal(set.waitingCount, 29);
  for (let i = 0; i < 40 && set.waitingCount > 0; i++) await turn();
  await Promise.all(all);
  assert.equal(order.length, 31);
  // Served round-robin over the flooder's hand of 6 queues and quiet's own: quiet within the first rounds.
  assert.ok(order.indexOf('quiet') <= 2 + 7, `quiet served at ${order.indexOf('quiet')}: ${order.join(',')}`);
});

test('a request costs its width in seats; a head that does not fit waits; a wider-than-level one runs alone', async () => {
  const set = new QueueSet({ concurrencyLimit: 4, queuing: QUEUING, maxWaitMs: 60_000 });
  const first = await set.acquire('a', undefined, 3);
  assert.equal(set.executingCount, 3);
  let wide: Release | undefined;
  const waitingWide = set.acquire('b', undefined, 2).then((r) => (wide = r));
  await turn();
  assert.equal(wide, undefined, 'needs 2 seats, 1 free');
  first();
  await waitingWide;
  assert.equal(set.executingCount, 2);
  wide!();
  await turn();
  // Wider than the level: clamped to the limit, so it runs when the level is idle.
  const huge = await set.acquire('c', undefined, 40);
  assert.equal(set.executingCount, 4);
  huge();
  await turn();
  assert.equal(set.executingCount, 0);
});

test('a raised limit dispatches waiting requests at once; demand statistics cover executing and waiting seats', async () => {
  const set = new QueueSet({ concurrencyLimit: 1, queuing: QUEUING, maxWaitMs: 60_000 });
  set.demandStats();
  const held = await set.acquire('a');
  const second = set.acquire('b');
  const third = set.acquire('c');
  assert.equal(set.waitingCount, 2);
  const stats = set.demandStats();
  assert.equal(stats.highWater, 3);
  set.setConcurrencyLimit(3);
  assert.equal(set.concurrencyLimit, 3);
  const [r2, r3] = await Promise.all([second, third]);
  assert.equal(set.executingCount, 3);
  for (const release of [held, r2, r3]) release();
  await turn();
  assert.equal(set.executingCount, 0);
});
