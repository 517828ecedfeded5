import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry as MetricsRegistry } from 'prom-client';
import { InformerFactory } from '../../src/client/informer-factory.js';
import { PODS } from '../../src/client/resource-types.js';
import { ControllerManager, type ControllerDefinition } from '../../src/controllers/manager.js';
import { inMemoryCluster, pod } from '../client/fixture.js';

/** A controller that records every pod add it is given, then waits for the pods informer (as startReconciler does). */
function recordingController(name: string, adds: string[]): ControllerDefinition {
  return {
    name,
    serviceAccount: name,
    async start({ informers }) {
      const pods = informers.informer(PODS);
      const registration = pods.addEventHandler({ onAdd: (object) => adds.push(`${name}:${object.metadata.name}`) });
      await pods.start();
      return { stop: () => registration.remove() };
    },
  };
}

test('controllers start together: a shared informer feeds its first list to every controller in one pass', async () => {
  const { client } = await inMemoryCluster();
  for (let i = 0; i < 5; i++) await client.create(PODS, 'default', pod('default', `p${i}`));
  const adds: string[] = [];
  const informers = new InformerFactory(client);
  const manager = new ControllerManager([recordingController('first', adds), recordingController('second', adds)], { clientFor: (user, fieldManager) => client.as(user, fieldManager), informers, metrics: new MetricsRegistry() });
  await manager.start();
  // One feed hands each object to both handlers in turn; controllers started one after the other
  // would give the second its replay only after the first had all of them.
  assert.deepEqual(adds, [0, 1, 2, 3, 4].flatMap((i) => [`first:p${i}`, `second:p${i}`]));
  await manager.stop();
  informers.stop();
});

test('a controller that cannot start fails the start; the ones that started are stopped by stop()', async () => {
  const { client } = await inMemoryCluster();
  const stopped: string[] = [];
  const starting = (name: string): ControllerDefinition => ({ name, serviceAccount: name, start: async () => ({ stop: () => void stopped.push(name) }) });
  const failing: ControllerDefinition = {
    name: 'failing',
    serviceAccount: 'failing',
    start: () => {
      throw new Error('cannot start');
    },
  };
  const informers = new InformerFactory(client);
  const manager = new ControllerManager([starting('a'), failing, starting('b')], { clientFor: (user, fieldManager) => client.as(user, fieldManager), informers, metrics: new MetricsRegistry() });
  await assert.rejects(manager.start(), /cannot start/);
  await manager.stop();
  assert.deepEqual(stopped, ['b', 'a']);
  informers.stop();
});
