import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CRON_JOBS, JOBS } from '../../src/client/resource-types.js';
import type { Obj } from '../../src/client/api-client.js';
import { BY_CRONJOB, CronJobControl, cronJobOwnerOf } from '../../src/controllers/cronjob/control.js';
import { FakeClock, rfc3339 } from '../../src/controllers/clock.js';
import { newControllerRef } from '../../src/controllers/controller-ref.js';
import { controllerCluster } from './fixture.js';

const MINUTE = 60_000;

function cronJob(name: string, spec: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'default' },
    spec: {
      schedule: '*/1 * * * *',
      jobTemplate: { metadata: { labels: { team: 'a' }, annotations: { note: 'x' } }, spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } },
      ...spec,
    },
  } as Obj;
}

async function setup() {
  const cluster = await controllerCluster();
  const jobs = cluster.informers.informer(JOBS);
  jobs.addIndexer(BY_CRONJOB, cronJobOwnerOf);
  const clock = new FakeClock(Date.now());
  const control = new CronJobControl({ client: cluster.client, cronJobs: cluster.informers.informer(CRON_JOBS), jobs, events: cluster.events, clock });
  await cluster.sync();
  /** Creates the CronJob and returns its first activation after creation. */
  const create = async (object: Obj) => {
    const created = await cluster.client.create(CRON_JOBS, 'default', object);
    const createdAt = Date.parse(created.metadata.creationTimestamp!);
    return { created, first: Math.floor(createdAt / MINUTE) * MINUTE + MINUTE };
  };
  const status = async (name: string) => (await cluster.client.get(CRON_JOBS, 'default', name)).status;
  const finish = (name: string, type: 'Complete' | 'Failed', at: number) =>
    cluster.client.mutate(JOBS, 'default', name, (job) => {
      job.status = { ...job.status, startTime: job.status?.startTime ?? rfc3339(at - 1000), conditions: [{ type, status: 'True', lastProbeTime: rfc3339(at), lastTransitionTime: rfc3339(at) }], ...(type === 'Complete' ? { completionTime: rfc3339(at), succeeded: 1 } : { failed: 1 }) };
      return job;
    }, { subresource: 'status' });
  return { ...cluster, control, clock, create, status, finish };
}

describe('CronJob controller', () => {
  it('starts the Job of each activation once, named by its minute, annotated and owned, and records status', async () => {
    const t = await setup();
    const { created, first } = await t.create(cronJob('tick'));
    t.clock.set(first - 1000);
    assert.deepEqual(await t.control.sync('default/tick'), { requeueAfterMs: 1100 }, 'wakes just after the activation');
    assert.deepEqual(await t.names(JOBS), []);
    t.clock.set(first + 500);
    const result = await t.control.sync('default/tick');
    assert.equal(result?.requeueAfterMs, MINUTE - 500 + 100);
    const name = `tick-${first / MINUTE}`;
    assert.deepEqual(await t.names(JOBS), [name]);
    const job = await t.client.get(JOBS, 'default', name);
    assert.equal(job.metadata.labels!.team, 'a');
    assert.equal(job.metadata.annotations!.note, 'x');
    assert.equal(job.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp'], rfc3339(first));
    assert.deepEqual(job.metadata.ownerReferences!.map((r) => [r.kind, r.uid, r.controller, r.blockOwnerDeletion]), [['CronJob', created.metadata.uid, true, true]]);
    let status = await t.status('tick');
    assert.equal(status.lastScheduleTime, rfc3339(first));
    assert.deepEqual(status.active.map((r: Obj) => [r.kind, r.name, r.apiVersion]), [['Job', name, 'batch/v1']]);
    await t.control.sync('default/tick');
    assert.equal((await t.names(JOBS)).length, 1, 'no second Job for the same activation');

    // The Job finishes: dropped from active, then lastSuccessfulTime recorded.
    await t.finish(name, 'Complete', first + 20_000);
    await t.control.sync('default/tick');
    await t.control.sync('default/tick');
    status = await t.status('tick');
    assert.equal(status.active, undefined);
    assert.equal(status.lastSuccessfulTime, rfc3339(first + 20_000));
    const reasons = await t.reasons();
    assert.ok(reasons.includes('SuccessfulCreate') && reasons.includes('SawCompletedJob'), reasons.join());
    t.stop();
  });

  it('Forbid skips an activation while a Job runs; Replace deletes the running one; Allow runs both', async () => {
    const t = await setup();
    for (const policy of ['Forbid', 'Replace', 'Allow']) {
      const name = policy.toLowerCase();
      const { first } = await t.create(cronJob(name, { concurrencyPolicy: policy }));
      t.clock.set(first + 1000);
      await t.control.sync(`default/${name}`);
      t.clock.set(first + MINUTE + 1000);
      await t.control.sync(`default/${name}`);
      const jobs = (await t.list(JOBS)).filter((j) => j.metadata.name!.startsWith(`${name}-`));
      const alive = jobs.filter((j) => !j.metadata.deletionTimestamp).map((j) => j.metadata.name).sort();
      const active = ((await t.status(name)).active ?? []).map((r: Obj) => r.name).sort();
      if (policy === 'Forbid') {
        assert.deepEqual(alive, [`${name}-${first / MINUTE}`]);
        assert.deepEqual(active, alive);
      } else if (policy === 'Replace') {
        assert.deepEqual(alive, [`${name}-${first / MINUTE + 1}`]);
        assert.deepEqual(active, alive);
      } else {
        assert.deepEqual(alive, [`${name}-${first / MINUTE}`, `${name}-${first / MINUTE + 1}`]);
        assert.deepEqual(active, alive);
      }
    }
    assert.ok((await t.reasons()).includes('JobAlreadyActive'));
    t.stop();
  });

  it('startingDeadlineSeconds: an activation missed by more than the deadline is not started', async () => {
    const t = await setup();
    const { first } = await t.create(cronJob('late', { startingDeadlineSeconds: 10 }));
    t.clock.set(first + 30_000);
    const result = await t.control.sync('default/late');
    assert.deepEqual(await t.names(JOBS), []);
    assert.equal(result?.requeueAfterMs, 30_100, 'looks again at the next activation');
    t.clock.set(first + MINUTE + 5000);
    await t.control.sync('default/late');
    assert.deepEqual(await t.names(JOBS), [`late-${first / MINUTE + 1}`], 'the next one, within its deadline, starts');
    t.stop();
  });

  it('after more than 100 missed activations it warns and starts only the most recent', async () => {
    const t = await setup();
    const { first } = await t.create(cronJob('behind'));
    t.clock.set(first + 150 * MINUTE + 5000);
    await t.control.sync('default/behind');
    assert.deepEqual(await t.names(JOBS), [`behind-${first / MINUTE + 150}`]);
    await t.events.flush();
    const warning = (await t.list((await import('../../src/client/resource-types.js')).EVENTS)).find((e) => e.reason === 'TooManyMissedTimes');
    assert.equal(warning?.message, 'too many missed start times: 151. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    t.stop();
  });

  it('suspend starts nothing; the time zone sets the wall clock and the annotation offset', async () => {
    const t = await setup();
    const { first } = await t.create(cronJob('paused', { suspend: true }));
    t.clock.set(first + 1000);
    assert.equal(await t.control.sync('default/paused'), undefined);
    assert.deepEqual(await t.names(JOBS), []);

    const { created } = await t.create(cronJob('tokyo', { schedule: '0 9 * * *', timeZone: 'Asia/Tokyo' }));
    const createdAt = Date.parse(created.metadata.creationTimestamp!);
    // The first 09:00 in Tokyo (00:00 UTC) after creation.
    let nine = Math.floor(createdAt / (24 * 60 * MINUTE)) * 24 * 60 * MINUTE;
    if (nine <= createdAt) nine += 24 * 60 * MINUTE;
    t.clock.set(nine + 1000);
    await t.control.sync('default/tokyo');
    const [job] = (await t.list(JOBS)).filter((j) => j.metadata.name!.startsWith('tokyo-'));
    assert.equal(job.metadata.name, `tokyo-${nine / MINUTE}`);
    assert.match(job.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp'], /T09:00:00\+09:00$/);
    t.stop();
  });

  it('keeps only successfulJobsHistoryLimit complete and failedJobsHistoryLimit failed Jobs, deleting the oldest', async () => {
    const t = await setup();
    const { created, first } = await t.create(cronJob('hist', { successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1, suspend: true }));
    const owned = (name: string) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: 'default', ownerReferences: [newControllerRef(created, CRON_JOBS)] }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } }) as Obj;
    for (const [i, type] of (['Complete', 'Complete', 'Failed', 'Complete', 'Failed'] as const).entries()) {
      await t.client.create(JOBS, 'default', owned(`hist-${i}`));
      await t.finish(`hist-${i}`, type, first + i * 1000);
    }
    t.clock.set(first + 10_000);
    await t.control.sync('default/hist');
    assert.deepEqual(await t.names(JOBS), ['hist-3', 'hist-4']);
    t.stop();
  });
});
