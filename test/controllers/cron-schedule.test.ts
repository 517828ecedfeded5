import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCronSchedule } from '../../src/registry/common/cron.js';
import { mostRecentScheduleTime, nextScheduleDelayMs, formatInZone, jobNameFor } from '../../src/controllers/cronjob/schedule.js';
import type { Obj } from '../../src/client/api-client.js';

const next = (schedule: string, after: string, zone = 'UTC') => {
  const t = parseCronSchedule(schedule, zone).next(Date.parse(after));
  return t === undefined ? undefined : new Date(t).toISOString();
};

describe('cron schedules: next activation', () => {
  it('steps, ranges, lists and names, strictly after the given time', () => {
    assert.equal(next('*/15 * * * *', '2025-01-01T10:07:00Z'), '2025-01-01T10:15:00.000Z');
    assert.equal(next('*/15 * * * *', '2025-01-01T10:15:00Z'), '2025-01-01T10:30:00.000Z', 'strictly after');
    assert.equal(next('*/1 * * * *', '2025-01-01T10:15:30.500Z'), '2025-01-01T10:16:00.000Z');
    assert.equal(next('0 9 * * 1-5', '2025-01-03T09:00:00Z'), '2025-01-06T09:00:00.000Z', 'Friday 9:00 → Monday');
    assert.equal(next('30 4 * jan,jul sun', '2025-01-27T00:00:00Z'), '2025-07-06T04:30:00.000Z');
    assert.equal(next('5-10/5 * * * *', '2025-01-01T00:06:00Z'), '2025-01-01T00:10:00.000Z');
    assert.equal(next('0 0 29 2 *', '2025-01-01T00:00:00Z'), '2028-02-29T00:00:00.000Z');
    assert.equal(next('0 0 30 2 *', '2025-01-01T00:00:00Z'), undefined, 'never happens');
  });

  it('day of month and day of week: either matches when both are restricted, both when one is *', () => {
    // 2025-01-03 is a Friday.
    assert.equal(next('0 0 15 * 5', '2025-01-01T00:00:00Z'), '2025-01-03T00:00:00.000Z');
    assert.equal(next('0 0 * * 5', '2025-01-04T00:00:00Z'), '2025-01-10T00:00:00.000Z');
    // A stepped star restricts: odd days only, any weekday.
    assert.equal(next('0 0 */2 * *', '2025-01-01T00:00:00Z'), '2025-01-03T00:00:00.000Z');
    assert.equal(next('0 0 */2 * 1', '2025-01-01T00:00:00Z'), '2025-01-03T00:00:00.000Z', 'odd day or Monday');
  });

  it('descriptors and @every', () => {
    assert.equal(next('@hourly', '2025-01-01T10:07:00Z'), '2025-01-01T11:00:00.000Z');
    assert.equal(next('@daily', '2025-01-01T10:07:00Z'), '2025-01-02T00:00:00.000Z');
    assert.equal(next('@midnight', '2025-01-01T10:07:00Z'), '2025-01-02T00:00:00.000Z');
    assert.equal(next('@weekly', '2025-01-01T10:07:00Z'), '2025-01-05T00:00:00.000Z');
    assert.equal(next('@monthly', '2025-01-01T10:07:00Z'), '2025-02-01T00:00:00.000Z');
    assert.equal(next('@yearly', '2025-01-01T10:07:00Z'), '2026-01-01T00:00:00.000Z');
    assert.equal(next('@annually', '2025-03-01T00:00:00Z'), '2026-01-01T00:00:00.000Z');
    assert.equal(next('@every 1m30s', '2025-01-01T10:07:00.700Z'), '2025-01-01T10:08:30.000Z');
    assert.equal(next('@every 100ms', '2025-01-01T10:07:00Z'), '2025-01-01T10:07:01.000Z', 'at least a second');
  });

  it('reads the schedule on the wall clock of its time zone, across DST changes', () => {
    assert.equal(next('0 9 * * *', '2025-01-01T00:00:00Z', 'America/New_York'), '2025-01-01T14:00:00.000Z');
    assert.equal(next('0 9 * * *', '2025-07-01T00:00:00Z', 'America/New_York'), '2025-07-01T13:00:00.000Z');
    assert.equal(next('0 9 * * *', '2025-01-01T00:00:00Z', 'Asia/Kolkata'), '2025-01-01T03:30:00.000Z');
    assert.equal(next('0 0 * * *', '2025-01-01T00:00:00Z', 'Asia/Tokyo'), '2025-01-01T15:00:00.000Z');
    // 02:30 does not exist on 2025-03-09 in New York: that day is skipped, as robfig/cron does.
    assert.equal(next('30 2 * * *', '2025-03-09T05:00:00Z', 'America/New_York'), '2025-03-10T06:30:00.000Z');
    // A daily 03:00 stays at 03:00 local through the change.
    assert.equal(next('0 3 * * *', '2025-03-08T09:00:00Z', 'America/New_York'), '2025-03-09T07:00:00.000Z');
    assert.equal(next('0 0 1 * *', '2025-03-15T00:00:00Z', 'Europe/Berlin'), '2025-03-31T22:00:00.000Z', 'April 1 in CEST');
  });

  it('formats the scheduled time in the zone with its offset, and names Jobs by minutes since the epoch', () => {
    assert.equal(formatInZone(Date.parse('2025-01-01T15:00:00Z'), 'Asia/Tokyo'), '2025-01-02T00:00:00+09:00');
    assert.equal(formatInZone(Date.parse('2025-01-01T15:00:00Z'), 'America/New_York'), '2025-01-01T10:00:00-05:00');
    assert.equal(formatInZone(Date.parse('2025-01-01T15:00:00Z'), 'UTC'), '2025-01-01T15:00:00Z');
    assert.equal(jobNameFor({ metadata: { name: 'hello' } } as Obj, Date.parse('2025-01-01T00:01:00Z')), `hello-${Date.parse('2025-01-01T00:01:00Z') / 60000}`);
  });
});

describe('CronJob missed schedules', () => {
  const cronJob = (status: Record<string, string> = {}, spec: Record<string, unknown> = {}) => ({ metadata: { name: 'c', creationTimestamp: '2025-01-01T00:00:00Z' }, spec: { schedule: '*/1 * * * *', ...spec }, status }) as unknown as Obj;
  const every = parseCronSchedule('*/1 * * * *', 'UTC');

  it('nothing is due before the first activation after creation', () => {
    assert.deepEqual(mostRecentScheduleTime(cronJob(), Date.parse('2025-01-01T00:00:30Z'), every, true), { earliest: Date.parse('2025-01-01T00:00:00Z'), missed: 0 });
    assert.equal(nextScheduleDelayMs(cronJob(), Date.parse('2025-01-01T00:00:30Z'), every), 30_100);
  });

  it('the most recent activation is the one to start, counting the missed ones', () => {
    const recent = mostRecentScheduleTime(cronJob(), Date.parse('2025-01-01T03:20:30Z'), every, true);
    assert.equal(new Date(recent.mostRecent!).toISOString(), '2025-01-01T03:20:00.000Z');
    assert.equal(recent.missed, 200);
    const after = mostRecentScheduleTime(cronJob({ lastScheduleTime: '2025-01-01T03:19:00Z' }), Date.parse('2025-01-01T03:20:30Z'), every, true);
    assert.equal(after.missed, 1);
  });

  it('startingDeadlineSeconds bounds how far back activations are looked for', () => {
    const recent = mostRecentScheduleTime(cronJob({}, { startingDeadlineSeconds: 120 }), Date.parse('2025-01-01T03:20:30Z'), every, true);
    assert.equal(recent.missed, 2);
    assert.equal(new Date(recent.earliest).toISOString(), '2025-01-01T03:18:30.000Z');
  });

  it('irregular schedules get their exact most recent activation', () => {
    const weekdays = parseCronSchedule('0 9 * * 1,3', 'UTC');
    // Created Wednesday 2025-01-01; now Tuesday 2025-01-14: last was Monday the 13th.
    const recent = mostRecentScheduleTime(cronJob({}, { schedule: '0 9 * * 1,3' }), Date.parse('2025-01-14T12:00:00Z'), weekdays, true);
    assert.equal(new Date(recent.mostRecent!).toISOString(), '2025-01-13T09:00:00.000Z');
  });
});
