import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { jobs } from '../../src/registry/jobs.js';
import { cronJobs } from '../../src/registry/cronjobs.js';
import { cronScheduleError } from '../../src/registry/common/cron.js';
import { CREATED_AGE, ago, create, created, fields, meta, podTemplate, row, update } from './lifecycle.js';

const jobInput = { metadata: meta('pi', 'default'), spec: { template: podTemplate({}, { restartPolicy: 'Never' }) } };

describe('Job', () => {
  it('is defaulted as batch/v1 does and gets a selector on its own uid', () => {
    const job = created(jobs, jobInput);
    const uid = job.metadata.uid!;
    const spec = job.spec;
    assert.equal(spec.completions, 1);
    assert.equal(spec.parallelism, 1);
    assert.equal(spec.backoffLimit, 6);
    assert.equal(spec.completionMode, 'NonIndexed');
    assert.equal(spec.suspend, false);
    assert.equal(spec.podReplacementPolicy, 'TerminatingOrFailed');
    assert.equal(spec.manualSelector, undefined);
    assert.deepEqual(spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    const expectedLabels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': uid, 'job-name': 'pi' };
    assert.deepEqual(spec.template.metadata.labels, expectedLabels);
    assert.deepEqual(job.metadata.labels, expectedLabels);
    assert.deepEqual(job.status, {});
  });

  it('leaves completions unset when only parallelism is given', () => {
    const job = created(jobs, { ...jobInput, spec: { ...jobInput.spec, parallelism: 4 } });
    assert.equal(job.spec.completions, undefined);
    assert.equal(row(jobs, job)['Completions'], '0/1 of 4');
  });

  it('requires restartPolicy OnFailure or Never (the pod default Always is rejected)', () => {
    const { errors } = create(jobs, { metadata: meta('bad', 'default'), spec: { template: podTemplate({}) } });
    assert.deepEqual(fields(errors), ['spec.template.spec.restartPolicy']);
    assert.equal(errors[0].detail, 'Unsupported value: "Always": supported values: "OnFailure", "Never"');
  });

  it('refuses a hand-written selector unless manualSelector is set', () => {
    const manual = { selector: { matchLabels: { app: 'pi' } }, template: podTemplate({ app: 'pi' }, { restartPolicy: 'Never' }) };
    const refused = create(jobs, { metadata: meta('m', 'default'), spec: manual });
    assert.deepEqual(fields(refused.errors), ['spec.selector']);
    assert.match(refused.errors[0].detail, /`selector` not auto-generated/);
    const accepted = created(jobs, { metadata: meta('m', 'default'), spec: { ...manual, manualSelector: true } });
    assert.deepEqual(accepted.spec.selector, { matchLabels: { app: 'pi' } });
  });

  it('requires completions for Indexed jobs', () => {
    const { errors } = create(jobs, { metadata: meta('i', 'default'), spec: { ...jobInput.spec, completionMode: 'Indexed', parallelism: 2 } });
    assert.deepEqual(fields(errors), ['spec.completions']);
  });

  it('keeps selector, completions and a running job\'s template immutable', () => {
    const old = created(jobs, jobInput);
    const next = structuredClone(old);
    next.spec.completions = 3;
    next.spec.template.spec.containers[0].image = 'perl:5';
    assert.deepEqual(fields(update(jobs, old, next).errors), ['spec.completions', 'spec.template']);
  });

  it('prints STATUS, COMPLETIONS and DURATION as kubectl 1.32 does', () => {
    const job = created(jobs, { ...jobInput, spec: { ...jobInput.spec, completions: 3 } });
    job.status = { startTime: '2025-03-01T10:00:00Z', completionTime: '2025-03-01T10:01:40Z', succeeded: 3, conditions: [{ type: 'Complete', status: 'True' }] };
    const cells = row(jobs, job);
    assert.equal(cells['Status'], 'Complete');
    assert.equal(cells['Completions'], '3/3');
    assert.equal(cells['Duration'], '100s');
    job.status = { startTime: ago(30), active: 1, conditions: [] };
    assert.equal(row(jobs, job)['Status'], 'Running');
    job.status = { conditions: [{ type: 'Failed', status: 'True' }] };
    assert.equal(row(jobs, job)['Status'], 'Failed');
    assert.equal(row(jobs, job)['Duration'], '');
    job.status = { conditions: [{ type: 'Suspended', status: 'True' }] };
    assert.equal(row(jobs, job)['Status'], 'Suspended');
    assert.equal(jobs.fieldSelectors?.['status.successful']?.(job), '0');
  });
});

describe('CronJob', () => {
  const input = { metadata: meta('hourly', 'default'), spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: podTemplate({}, { restartPolicy: 'OnFailure' }) } } } };

  it('is defaulted as batch/v1 does', () => {
    const cronJob = created(cronJobs, input);
    assert.equal(cronJob.spec.concurrencyPolicy, 'Allow');
    assert.equal(cronJob.spec.suspend, false);
    assert.equal(cronJob.spec.successfulJobsHistoryLimit, 3);
    assert.equal(cronJob.spec.failedJobsHistoryLimit, 1);
    assert.equal(cronJob.spec.jobTemplate.spec.template.spec.terminationGracePeriodSeconds, 30);
  });

  it('validates the schedule, time zone, name length and job template', () => {
    const bad = create(cronJobs, {
      metadata: meta('x'.repeat(53), 'default'),
      spec: { schedule: '61 * * * *', timeZone: 'Mars/Olympus', jobTemplate: { spec: { template: podTemplate({}) } } },
    });
    assert.deepEqual(fields(bad.errors), ['metadata.name', 'spec.schedule', 'spec.timeZone', 'spec.jobTemplate.spec.template.spec.restartPolicy']);
    assert.match(bad.errors[1].detail, /end of range \(61\) above maximum \(59\): 61/);
    assert.deepEqual(fields(create(cronJobs, { ...input, spec: { ...input.spec, schedule: 'TZ=UTC 0 * * * *' } }).errors), ['spec.schedule']);
    assert.deepEqual(create(cronJobs, { ...input, spec: { ...input.spec, timeZone: 'Europe/Berlin' } }).errors, []);
  });

  it('prints schedule, time zone, suspend, active jobs and last schedule', () => {
    const cronJob = created(cronJobs, input);
    assert.deepEqual(row(cronJobs, cronJob), {
      'Schedule': '0 * * * *',
      'Timezone': '<none>',
      'Suspend': 'False',
      'Active': 0,
      'Last Schedule': '<none>',
      'Age': CREATED_AGE,
      'Containers': 'web',
      'Images': 'nginx:1.27',
      'Selector': '<none>',
    });
    cronJob.status = { active: [{ name: 'hourly-1' }], lastScheduleTime: ago(600) };
    assert.equal(row(cronJobs, cronJob)['Active'], 1);
    assert.equal(row(cronJobs, cronJob)['Last Schedule'], '10m');
  });
});

describe('cron schedules', () => {
  it('accepts the standard forms', () => {
    for (const schedule of ['*/5 * * * *', '0 0 1 1 *', '15 3 * * MON-FRI', '0 0 * jan,jul sun', '0 12 ? * 1-5', '30 2 1-15/2 * *', '@hourly', '@daily', '@every 1h30m', '5/10 * * * *']) {
      assert.equal(cronScheduleError(schedule), undefined, schedule);
    }
  });

  it('rejects malformed schedules with robfig/cron messages', () => {
    assert.equal(cronScheduleError('* * * *'), 'expected exactly 5 fields, found 4: [* * * *]');
    assert.equal(cronScheduleError('@fortnightly'), 'unrecognized descriptor: @fortnightly');
    assert.equal(cronScheduleError('0 24 * * *'), 'end of range (24) above maximum (23): 24');
    assert.equal(cronScheduleError('0 0 0 * *'), 'beginning of range (0) below minimum (1): 0');
    assert.equal(cronScheduleError('5-1 * * * *'), 'beginning of range (5) beyond end of range (1): 5-1');
    assert.equal(cronScheduleError('*/0 * * * *'), 'step of range should be a positive number: */0');
    assert.match(cronScheduleError('x * * * *') ?? '', /^failed to parse int from x/);
    assert.equal(cronScheduleError('0 0 * * 7'), 'end of range (7) above maximum (6): 7');
  });
});
