/** Seats of a request: upstream's list work estimate (one per 100 objects, 1…10), 1 for anything else. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateSeats } from '../../src/flowcontrol/work-estimator.js';
import { QueueSet } from '../../src/flowcontrol/queue-set.js';
import type { RequestInfo } from '../../src/server/request-info.js';

const list = (resource: string, group = ''): RequestInfo => ({ isResourceRequest: true, path: '', verb: 'list', group, version: 'v1', resource, rest: [] }) as RequestInfo;
const counts: Record<string, number> = { '/pods': 2500, '/configmaps': 5, 'apps/deployments': 150, '/secrets': 0 };
const counter = (group: string, resource: string) => counts[`${group}/${resource}`];

test('a LIST costs one seat per 100 stored objects, at least 1 and at most 10', () => {
  assert.equal(estimateSeats(list('configmaps'), undefined, counter), 1);
  assert.equal(estimateSeats(list('secrets'), undefined, counter), 1);
  assert.equal(estimateSeats(list('deployments', 'apps'), undefined, counter), 2);
  assert.equal(estimateSeats(list('pods'), undefined, counter), 10);
  assert.equal(estimateSeats(list('widgets'), undefined, counter), 1, 'unknown count');
});

test('a limit bounds the objects touched, unless a selector makes the server scan past it', () => {
  assert.equal(estimateSeats(list('pods'), new URLSearchParams('limit=500'), counter), 5);
  assert.equal(estimateSeats(list('pods'), new URLSearchParams('limit=50'), counter), 1);
  assert.equal(estimateSeats(list('pods'), new URLSearchParams('limit=50&labelSelector=app%3Dweb'), counter), 10);
  assert.equal(estimateSeats(list('pods'), new URLSearchParams('limit=50&fieldSelector=spec.nodeName%3Dn1'), counter), 10);
  assert.equal(estimateSeats(list('deployments', 'apps'), new URLSearchParams('limit=5000'), counter), 2);
});

test('gets, writes and non-resource requests cost one seat', () => {
  assert.equal(estimateSeats({ ...list('pods'), verb: 'get', name: 'p' }, undefined, counter), 1);
  assert.equal(estimateSeats({ ...list('pods'), verb: 'create' }, undefined, counter), 1);
  assert.equal(estimateSeats({ isResourceRequest: false, path: '/healthz', verb: 'get', group: '', version: '', rest: [] } as RequestInfo, undefined, counter), 1);
});

test('a 10-seat LIST waits until 10 seats are free, while 1-seat requests of other flows fill what is left', async () => {
  const set = new QueueSet({ concurrencyLimit: 12, queuing: { queues: 64, handSize: 6, queueLengthLimit: 50 }, maxWaitMs: 60_000 });
  const small = await Promise.all(Array.from({ length: 5 }, () => set.acquire('gets')));
  assert.equal(set.executingCount, 5);
  let listing = false;
  const big = set.acquire('lister', undefined, estimateSeats(list('pods'), undefined, counter)).then((release) => ((listing = true), release));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(listing, false, '7 free seats are not 10');
  small[0]();
  small[1]();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(listing, false, '9 free seats are not 10');
  small[2]();
  (await big)();
  assert.equal(set.executingCount, 12);
});
