/**
 * When a CronJob's next Job is due (upstream cronjob utils.go): the most recent activation not
 * yet started — after the last scheduled time (or creation), and within startingDeadlineSeconds
 * when set — how many were missed, and how long until the next.
 */
import type { Obj } from '../../client/api-client.js';
import type { CronSchedule } from '../../registry/common/cron.js';

/** Upstream's nextScheduleDelta: wake a little after the activation, never before it. */
const NEXT_SCHEDULE_DELTA_MS = 100;

export interface RecentSchedule {
  /** Where the search started: last schedule time, creation, or the starting deadline. */
  earliest: number;
  /** The latest activation at or before now, after `earliest`; undefined when none. */
  mostRecent?: number;
  /** About how many activations were missed (upstream's estimate: the span over one interval). */
  missed: number;
}

export function mostRecentScheduleTime(cronJob: Obj, now: number, schedule: CronSchedule, includeStartingDeadline: boolean): RecentSchedule {
  let earliest = Date.parse(cronJob.status?.lastScheduleTime ?? cronJob.metadata.creationTimestamp ?? '');
  if (!Number.isFinite(earliest)) earliest = now;
  const deadline = cronJob.spec?.startingDeadlineSeconds;
  if (includeStartingDeadline && typeof deadline === 'number') earliest = Math.max(earliest, now - deadline * 1000);
  const t1 = schedule.next(earliest);
  if (t1 === undefined || now < t1) return { earliest, missed: 0 };
  const t2 = schedule.next(t1);
  if (t2 === undefined || now < t2) return { earliest, mostRecent: t1, missed: 1 };
  const interval = Math.max(1, Math.round((t2 - t1) / 1000));
  const missed = Math.floor(Math.floor((now - t1) / 1000) / interval) + 1;
  return { earliest, mostRecent: latestActivation(schedule, t1, now, interval * 1000), missed };
}

/** The last activation in [t1, now], searching back from now in growing windows (exact, and cheap for regular schedules). */
function latestActivation(schedule: CronSchedule, t1: number, now: number, intervalMs: number): number {
  for (let window = 2 * intervalMs; ; window *= 2) {
    const from = Math.max(t1, now - window);
    let latest: number | undefined;
    for (let t = from === t1 ? t1 : schedule.next(from - 1); t !== undefined && t <= now; t = schedule.next(t)) latest = t;
    if (latest !== undefined) return latest;
    if (from === t1) return t1;
  }
}

/** How long until the activation after the most recent one (nextScheduleTimeDuration). */
export function nextScheduleDelayMs(cronJob: Obj, now: number, schedule: CronSchedule): number | undefined {
  const { earliest, mostRecent } = mostRecentScheduleTime(cronJob, now, schedule, false);
  const next = schedule.next(mostRecent ?? earliest);
  if (next === undefined) return undefined;
  return next + NEXT_SCHEDULE_DELTA_MS - now;
}

/** `<cronjob>-<minutes since the epoch>`: one name per activation, so a retry cannot start it twice. */
export function jobNameFor(cronJob: Obj, scheduledTime: number): string {
  return `${cronJob.metadata.name}-${Math.floor(scheduledTime / 60_000)}`;
}

/** RFC 3339 in the given zone, with its offset (Go's time.Format(time.RFC3339) after In(zone)). */
export function formatInZone(ms: number, timeZone: string): string {
  const parts: Record<string, string> = {};
  const format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  for (const part of format.formatToParts(ms)) parts[part.type] = part.value;
  const wallAsUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const offsetMinutes = Math.round((wallAsUtc - Math.floor(ms / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset = offsetMinutes === 0 ? 'Z' : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}
