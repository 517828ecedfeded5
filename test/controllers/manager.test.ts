import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry as MetricsRegistry } from 'prom-client';
import { ControllerManager, type ControllerDefinition } from '../../src/controllers/manager.js';
import { InformerFactory } from '../../src/client/informer-factory.js';
import { PODS } from '../../src/client/resource-types.js';
import { inMemoryCluster, pod } from '../client/fixture.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('ControllerManager.start', () => {
  it('starts every controller at once: each registers its handlers before another has synced, so one replay of the cache serves them all', async () => {
    const { client } = await inMemoryCluster(['a']);
    for (let i = 0; i < 1_200; i++) await client.create(PODS, 'a', pod('a', `p${i}`));
    const informers = new InformerFactory(client);
    await informers.informer(PODS).start(); // synced before the controllers, as the authorizers' informers are
    const log: string[] = [];
    const seen = new Map<string, Set<string>>();
    const definition = (name: string): ControllerDefinition => ({
      name,
      serviceAccount: name,
      async start(context) {
        log.push(`${name} registers`);
        const names = new Set<string>();
        seen.set(name, names);
        const pods = context.informers.informer(PODS);
        const registration = pods.addEventHandler({ onAdd: (p) => names.add(p.metadata.name!) });
        await pods.start();
        log.push(`${name} synced`);
        return { stop: () => registration.remove() };
      },
    });
    const manager = new ControllerManager([definition('first'), definition('second'), definition('third')], { clientFor: () => client, informers, metrics: new MetricsRegistry() });
    await manager.start();
    assert.deepEqual(log.slice(0, 3), ['first registers', 'second registers', 'third registers']);
    for (const [name, names] of seen) assert.equal(names.size, 1_200, `${name} was given every cached pod`);
    await manager.stop();
    informers.stop();
  });

  it('records the controllers that started when another fails, so stop reaches them', async () => {
    const { client } = await inMemoryCluster(['a']);
    const informers = new InformerFactory(client);
    const stopped: string[] = [];
    const ok = (name: string): ControllerDefinition => ({
      name,
      serviceAccount: name,
      async start() {
        await turn();
        return { stop: () => void stopped.push(name) };
      },
    });
    const broken: ControllerDefinition = { name: 'broken', serviceAccount: 'broken', start: () => Promise.reject(new Error('cannot start')) };
    const manager = new ControllerManager([ok('one'), broken, ok('two')], { clientFor: () => client, informers, metrics: new MetricsRegistry() });
    await assert.rejects(manager.start(), /cannot start/);
    await manager.stop();
    assert.deepEqual(stopped, ['two', 'one']);
    informers.stop();
  });
});
