/**
 * Cron schedules as CronJob reads them (the robfig/cron ParseStandard grammar upstream uses):
 * five fields with lists, ranges, steps, month and weekday names; the @-descriptors; `@every
 * <duration>`. One parser serves both validation (errors worded as upstream's, so `kubectl`
 * users see the same message) and the CronJob controller's next-time calculation, which works
 * on the wall clock of an IANA time zone.
 */

interface FieldBounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTH_NAMES = Object.fromEntries(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map((m, i) => [m, i + 1]));
const DAY_NAMES = Object.fromEntries(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].map((d, i) => [d, i]));

const MINUTE: FieldBounds = { min: 0, max: 59 };
const HOUR: FieldBounds = { min: 0, max: 23 };
const DAY_OF_MONTH: FieldBounds = { min: 1, max: 31 };
const MONTH: FieldBounds = { min: 1, max: 12, names: MONTH_NAMES };
const DAY_OF_WEEK: FieldBounds = { min: 0, max: 6, names: DAY_NAMES };
/** minute, hour, day of month, month, day of week */
const FIELDS = [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** robfig gives up looking for a match this far ahead (e.g. "0 0 30 2 *" never happens). */
const SEARCH_LIMIT_MS = 5 * 366 * DAY_MS;

/** One field's allowed values; `star` when written as `*` or `?` (it matters for day matching). */
interface FieldSet {
  values: Set<number>;
  star: boolean;
}

export interface CronSchedule {
  /** The first activation strictly after `afterMs` (ms since the epoch), or undefined if none within 5 years. */
  next(afterMs: number): number | undefined;
}

function parseNumber(text: string, bounds: FieldBounds): number {
  const named = bounds.names?.[text.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^-?\d+$/.test(text)) throw new Error(`failed to parse int from ${text}: strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  const value = Number(text);
  if (value < 0) throw new Error(`negative number (${value}) not allowed: ${text}`);
  return value;
}

function parseRange(expression: string, bounds: FieldBounds, into: FieldSet): void {
  const slashParts = expression.split('/');
  if (slashParts.length > 2) throw new Error(`too many slashes: ${expression}`);
  const [range, stepText] = slashParts;
  const hyphenParts = range.split('-');
  if (hyphenParts.length > 2) throw new Error(`too many hyphens: ${expression}`);
  let start: number;
  let end: number;
  let star = false;
  if (range === '*' || range === '?') {
    start = bounds.min;
    end = bounds.max;
    star = true;
  } else {
    start = parseNumber(hyphenParts[0], bounds);
    // "N/step" means "N-max/step".
    end = hyphenParts.length === 2 ? parseNumber(hyphenParts[1], bounds) : stepText !== undefined ? bounds.max : start;
  }
  let step = 1;
  if (stepText !== undefined) {
    step = parseNumber(stepText, bounds);
    if (step === 0) throw new Error(`step of range should be a positive number: ${expression}`);
    // A stepped star no longer means "any": "*/2" in day-of-month restricts the days.
    if (step > 1) star = false;
  }
  if (start < bounds.min) throw new Error(`beginning of range (${start}) below minimum (${bounds.min}): ${expression}`);
  if (end > bounds.max) throw new Error(`end of range (${end}) above maximum (${bounds.max}): ${expression}`);
  if (start > end) throw new Error(`beginning of range (${start}) beyond end of range (${end}): ${expression}`);
  for (let value = start; value <= end; value += step) into.values.add(value);
  into.star ||= star;
}

function parseField(field: string, bounds: FieldBounds): FieldSet {
  const set: FieldSet = { values: new Set(), star: false };
  for (const expression of field.split(',')) parseRange(expression, bounds, set);
  return set;
}

/** A Go duration ("1h30m", "90s", "1.5h"), in milliseconds. */
function parseGoDuration(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: MINUTE_MS, h: HOUR_MS };
  if (!/^([0-9]*(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$/.test(text)) throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
  let total = 0;
  for (const [, number, unit] of text.matchAll(/([0-9]*(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)/g)) {
    if (number === '' || number === '.') throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
    total += Number(number) * units[unit];
  }
  return total;
}

/** `@every <d>`: every d after the previous activation, rounded down to whole seconds (at least 1s). */
function constantDelay(delayMs: number): CronSchedule {
  const delay = Math.max(1000, delayMs - (delayMs % 1000));
  return { next: (afterMs) => afterMs - (((afterMs % 1000) + 1000) % 1000) + delay };
}

/** Parses a CronJob schedule; throws an Error worded as upstream's parser. */
export function parseCronSchedule(schedule: string, timeZone: string = localTimeZone()): CronSchedule {
  let spec = schedule.trim();
  if (spec.startsWith('@every ')) {
    const duration = spec.slice('@every '.length).trim();
    try {
      return constantDelay(parseGoDuration(duration));
    } catch (error) {
      throw new Error(`failed to parse duration ${spec}: ${(error as Error).message}`);
    }
  }
  if (spec.startsWith('@')) {
    const expanded = DESCRIPTORS[spec];
    if (!expanded) throw new Error(`unrecognized descriptor: ${spec}`);
    spec = expanded;
  }
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== FIELDS.length) throw new Error(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields.map((field, i) => parseField(field, FIELDS[i]));
  return new WallClockSchedule(minute, hour, dayOfMonth, month, dayOfWeek, zoneClock(timeZone));
}

/** Undefined when the schedule is valid, otherwise upstream's parse error. */
export function cronScheduleError(schedule: string): string | undefined {
  try {
    parseCronSchedule(schedule, 'UTC');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The process's own zone: what kube-controller-manager's time.Local is for a CronJob without timeZone. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

/** Converts between instants and the wall clock of one zone. */
interface ZoneClock {
  wall(instant: number): WallTime;
  /** The instant showing this wall time (fields may overflow, e.g. day 32); in a DST gap, the first instant after it. */
  instant(year: number, month: number, day: number, hour: number, minute: number): number;
}

const zoneClocks = new Map<string, ZoneClock>();

function zoneClock(timeZone: string): ZoneClock {
  let clock = zoneClocks.get(timeZone);
  if (clock) return clock;
  const format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const wall = (instant: number): WallTime => {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(instant)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
    const weekday = new Date(Date.UTC(parts.year, parts.month - 1, parts.day)).getUTCDay();
    return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute, weekday };
  };
  /** The zone's offset at `instant`, in ms (wall time read as UTC, minus the instant). */
  const offsetAt = (instant: number): number => {
    const w = wall(instant);
    const seconds = Math.floor(instant / 1000) % 60;
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, seconds) - (instant - (instant % 1000));
  };
  clock = {
    wall,
    instant(year, month, day, hour, minute) {
      const asUtc = Date.UTC(year, month - 1, day, hour, minute);
      const target = new Date(asUtc);
      const shows = (instant: number) => {
        const w = wall(instant);
        return w.year === target.getUTCFullYear() && w.month === target.getUTCMonth() + 1 && w.day === target.getUTCDate() && w.hour === target.getUTCHours() && w.minute === target.getUTCMinutes();
      };
      // The offsets either side of any one transition bracket the answer.
      const offsets = [...new Set([offsetAt(asUtc - 14 * HOUR_MS), offsetAt(asUtc + 14 * HOUR_MS)])].sort((a, b) => b - a);
      for (const offset of offsets) if (shows(asUtc - offset)) return asUtc - offset;
      return asUtc - Math.min(...offsets);
    },
  };
  zoneClocks.set(timeZone, clock);
  return clock;
}

class WallClockSchedule implements CronSchedule {
  constructor(
    private readonly minute: FieldSet,
    private readonly hour: FieldSet,
    private readonly dayOfMonth: FieldSet,
    private readonly month: FieldSet,
    private readonly dayOfWeek: FieldSet,
    private readonly clock: ZoneClock,
  ) {}

  next(afterMs: number): number | undefined {
    const limit = afterMs + SEARCH_LIMIT_MS;
    // Activations are on whole minutes, strictly after `afterMs`.
    let t = Math.floor(afterMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    while (t <= limit) {
      const w = this.clock.wall(t);
      let next: number;
      if (!this.month.values.has(w.month)) next = this.clock.instant(w.year, w.month + 1, 1, 0, 0);
      else if (!this.dayMatches(w)) next = this.clock.instant(w.year, w.month, w.day + 1, 0, 0);
      else if (!this.hour.values.has(w.hour)) next = t + (60 - w.minute) * MINUTE_MS;
      else if (!this.minute.values.has(w.minute)) next = t + MINUTE_MS;
      else return t;
      // Conversions near a DST change must still move forward.
      t = next > t ? next : t + MINUTE_MS;
    }
    return undefined;
  }

  /** Either day field restricted alone applies alone; both restricted means either may match (cron's rule). */
  private dayMatches(w: WallTime): boolean {
    const dom = this.dayOfMonth.values.has(w.day);
    const dow = this.dayOfWeek.values.has(w.weekday);
    if (this.dayOfMonth.star || this.dayOfWeek.star) return dom && dow;
    return dom || dow;
  }
}
