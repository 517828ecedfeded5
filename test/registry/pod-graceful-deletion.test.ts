/**
 * Graceful pod deletion as upstream's pod strategy and rest.BeforeDelete: a pod bound to a node
 * stays with deletionTimestamp (now + grace) and deletionGracePeriodSeconds until the kubelet
 * confirms with a 0-grace delete; unbound or finished pods, and grace 0, go at once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/api/status.js';
import { PODS } from '../../src/client/resource-types.js';
import { inMemoryCluster, pod } from '../client/fixture.js';

async function gone(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof ApiError && error.code === 404);
}

describe('graceful pod deletion', () => {
  it('a bound pod waits with deletionTimestamp = now + terminationGracePeriodSeconds until a 0-grace delete', async () => {
    const { client } = await inMemoryCluster();
    await client.create(PODS, 'default', pod('default', 'bound', {}, { nodeName: 'n1', terminationGracePeriodSeconds: 45 }));
    const before = Date.now();
    const pending = await client.delete(PODS, 'default', 'bound');
    assert.ok(pending, 'the pod is returned, not deleted');
    assert.equal(pending.metadata.deletionGracePeriodSeconds, 45);
    const at = Date.parse(pending.metadata.deletionTimestamp!);
    assert.ok(at >= Math.floor(before / 1000) * 1000 + 44_000 && at <= Date.now() + 45_000, `deletionTimestamp ${pending.metadata.deletionTimestamp} is about 45 s ahead`);

    // A status write (the kubelet reporting the containers stopping) does not complete it.
    await client.mutate(PODS, 'default', 'bound', (p) => ({ ...p, status: { ...p.status, phase: 'Running' } }), { subresource: 'status' });
    assert.ok(await client.get(PODS, 'default', 'bound'));

    // Another delete without a shorter period changes nothing.
    const again = await client.delete(PODS, 'default', 'bound');
    assert.equal(again?.metadata.deletionTimestamp, pending.metadata.deletionTimestamp);
    assert.equal(again?.metadata.deletionGracePeriodSeconds, 45);

    // A shorter period moves the timestamp earlier by the difference.
    const shorter = await client.delete(PODS, 'default', 'bound', { gracePeriodSeconds: 5 });
    assert.equal(shorter?.metadata.deletionGracePeriodSeconds, 5);
    assert.equal(Date.parse(shorter!.metadata.deletionTimestamp!), at - 40_000);

    // The kubelet's confirmation removes it.
    assert.equal(await client.delete(PODS, 'default', 'bound', { gracePeriodSeconds: 0, preconditions: { uid: pending.metadata.uid } }), undefined);
    await gone(client.get(PODS, 'default', 'bound'));
  });

  it('the requested period wins over the pod\'s own; a negative one counts as 1', async () => {
    const { client } = await inMemoryCluster();
    await client.create(PODS, 'default', pod('default', 'a', {}, { nodeName: 'n1' }));
    assert.equal((await client.delete(PODS, 'default', 'a', { gracePeriodSeconds: 7 }))?.metadata.deletionGracePeriodSeconds, 7);
    await client.create(PODS, 'default', pod('default', 'b', {}, { nodeName: 'n1' }));
    assert.equal((await client.delete(PODS, 'default', 'b'))?.metadata.deletionGracePeriodSeconds, 30, 'the defaulted terminationGracePeriodSeconds');
    await client.create(PODS, 'default', pod('default', 'c', {}, { nodeName: 'n1' }));
    assert.equal((await client.delete(PODS, 'default', 'c', { gracePeriodSeconds: -1 }))?.metadata.deletionGracePeriodSeconds, 1);
  });

  it('unbound pods, finished pods and grace 0 are removed at once', async () => {
    const { client } = await inMemoryCluster();
    await client.create(PODS, 'default', pod('default', 'unbound'));
    assert.equal(await client.delete(PODS, 'default', 'unbound'), undefined);
    await gone(client.get(PODS, 'default', 'unbound'));

    await client.create(PODS, 'default', pod('default', 'done', {}, { nodeName: 'n1' }));
    await client.mutate(PODS, 'default', 'done', (p) => ({ ...p, status: { ...p.status, phase: 'Succeeded' } }), { subresource: 'status' });
    assert.equal(await client.delete(PODS, 'default', 'done'), undefined);

    await client.create(PODS, 'default', pod('default', 'forced', {}, { nodeName: 'n1' }));
    assert.equal(await client.delete(PODS, 'default', 'forced', { gracePeriodSeconds: 0 }), undefined);
    await gone(client.get(PODS, 'default', 'forced'));
  });

  it('with a finalizer, the confirmed deletion waits for it and completes when it is removed', async () => {
    const { client } = await inMemoryCluster();
    await client.create(PODS, 'default', { ...pod('default', 'held', {}, { nodeName: 'n1' }), metadata: { name: 'held', namespace: 'default', finalizers: ['example.com/hold'] } });
    assert.equal((await client.delete(PODS, 'default', 'held'))?.metadata.deletionGracePeriodSeconds, 30);
    const confirmed = await client.delete(PODS, 'default', 'held', { gracePeriodSeconds: 0 });
    assert.equal(confirmed?.metadata.deletionGracePeriodSeconds, 0);
    await client.mutate(PODS, 'default', 'held', (p) => ({ ...p, metadata: { ...p.metadata, finalizers: [] } }));
    await gone(client.get(PODS, 'default', 'held'));
  });

  it('removing the last finalizer during the grace period leaves the pod for the kubelet', async () => {
    const { client } = await inMemoryCluster();
    await client.create(PODS, 'default', { ...pod('default', 'held', {}, { nodeName: 'n1' }), metadata: { name: 'held', namespace: 'default', finalizers: ['example.com/hold'] } });
    await client.delete(PODS, 'default', 'held');
    await client.mutate(PODS, 'default', 'held', (p) => ({ ...p, metadata: { ...p.metadata, finalizers: [] } }));
    assert.ok((await client.get(PODS, 'default', 'held')).metadata.deletionTimestamp);
  });

  it('kinds without graceful deletion are unaffected', async () => {
    const { client } = await inMemoryCluster();
    const { CONFIG_MAPS } = await import('../../src/client/resource-types.js');
    await client.create(CONFIG_MAPS, 'default', { metadata: { name: 'c' } });
    assert.equal(await client.delete(CONFIG_MAPS, 'default', 'c', { gracePeriodSeconds: 30 }), undefined);
  });
});
