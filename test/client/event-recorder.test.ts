import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventRecorder } from '../../src/client/event-recorder.js';
import { EVENTS, NODES, PODS } from '../../src/client/resource-types.js';
import { inMemoryCluster, pod } from './fixture.js';

describe('EventRecorder', () => {
  it('writes a core/v1 Event about the object, and bumps count and lastTimestamp for a repeat', async () => {
    const { client } = await inMemoryCluster();
    const subject = await client.create(PODS, 'default', pod('default', 'web-1'));
    const recorder = new EventRecorder(client, { component: 'default-scheduler' });
    recorder.event(subject, 'Warning', 'FailedScheduling', '0/3 nodes are available');
    recorder.event(subject, 'Warning', 'FailedScheduling', '0/3 nodes are available');
    recorder.event(subject, 'Warning', 'FailedScheduling', '0/3 nodes are available');
    await recorder.flush();
    const { items } = await client.list(EVENTS, 'default');
    assert.equal(items.length, 1);
    const [event] = items;
    assert.equal(event.count, 3);
    assert.equal(event.reason, 'FailedScheduling');
    assert.equal(event.type, 'Warning');
    assert.deepEqual(event.source, { component: 'default-scheduler' });
    assert.deepEqual(event.involvedObject, { kind: 'Pod', namespace: 'default', name: 'web-1', uid: subject.metadata.uid, apiVersion: 'v1', resourceVersion: subject.metadata.resourceVersion });
    assert.match(event.metadata.name ?? '', /^web-1\.[0-9a-f]+$/);
  });

  it('folds more than ten similar messages into one combined Event', async () => {
    const { client } = await inMemoryCluster();
    const subject = await client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    const recorder = new EventRecorder(client, { component: 'kubelet', host: 'n1' });
    for (let i = 0; i < 14; i++) recorder.event(subject, 'Normal', 'Pulled', `image ${i} pulled`);
    await recorder.flush();
    const { items } = await client.list(EVENTS, 'default');
    const combined = items.filter((e) => e.message.startsWith('(combined from similar events): '));
    assert.equal(items.length - combined.length, 9);
    assert.equal(combined.length, 1);
    assert.equal(combined[0].count, 5);
    assert.equal(combined[0].message, '(combined from similar events): image 13 pulled');
    assert.deepEqual(combined[0].source, { component: 'kubelet', host: 'n1' });
  });

  it('lets one object emit a burst of 25 events, then drops the spam', async () => {
    const { client } = await inMemoryCluster();
    const subject = await client.create(PODS, 'default', pod('default', 'noisy'));
    const recorder = new EventRecorder(client, { component: 'test' });
    for (let i = 0; i < 30; i++) recorder.event(subject, 'Normal', `Reason${i}`, 'happened');
    await recorder.flush();
    assert.equal((await client.list(EVENTS, 'default')).items.length, 25);
  });
});
