import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderComponents } from '../../src/server/leader-components.js';

test('components added together start side by side, run in the order given and stop in reverse', async () => {
  const components = new LeaderComponents({ strict: true });
  await components.startAll();
  const stopped: string[] = [];
  // The first cannot finish starting before the second has begun: one after the other, they would never start.
  let secondBegan!: () => void;
  const began = new Promise<void>((resolve) => (secondBegan = resolve));
  await components.addTogether([
    { name: 'first', start: async () => (await began, { stop: () => void stopped.push('first') }) },
    { name: 'second', start: () => (secondBegan(), { stop: () => void stopped.push('second') }) },
  ]);
  await components.add('third', () => ({ stop: () => void stopped.push('third') }));
  await components.stopAll();
  assert.deepEqual(stopped, ['third', 'second', 'first']);
});

test('a step whose component cannot start fails a strict start; the others of the step still run', async () => {
  const components = new LeaderComponents({ strict: true });
  await components.startAll();
  const stopped: string[] = [];
  const starting = components.addTogether([
    { name: 'broken', start: () => Promise.reject(new Error('cannot start')) },
    { name: 'fine', start: () => ({ stop: () => void stopped.push('fine') }) },
  ]);
  await assert.rejects(starting, /cannot start/);
  await components.stopAll();
  assert.deepEqual(stopped, ['fine']);
});

test('registered before leading, a step starts when this replica becomes the leader', async () => {
  const components = new LeaderComponents();
  const started: string[] = [];
  await components.addTogether([
    { name: 'a', start: () => (started.push('a'), { stop() {} }) },
    { name: 'b', start: () => (started.push('b'), { stop() {} }) },
  ]);
  assert.deepEqual(started, []);
  await components.startAll();
  assert.deepEqual(started, ['a', 'b']);
  await components.stopAll();
});
