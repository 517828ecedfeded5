/**
 * Standard five-field cron schedules as CronJob accepts them (the robfig/cron ParseStandard
 * grammar): lists, ranges, steps, month and weekday names, and the @-descriptors. Errors read as
 * upstream's so that `kubectl` users see the same message.
 */

interface FieldBounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTH_NAMES = Object.fromEntries(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map((m, i) => [m, i + 1]));
const DAY_NAMES = Object.fromEntries(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].map((d, i) => [d, i]));

/** minute, hour, day of month, month, day of week */
const FIELDS: FieldBounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTH_NAMES },
  { min: 0, max: 6, names: DAY_NAMES },
];

const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const GO_DURATION = /^([0-9]*(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$/;

function parseNumber(text: string, bounds: FieldBounds): number {
  const named = bounds.names?.[text.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^-?\d+$/.test(text)) throw new Error(`failed to parse int from ${text}: strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  const value = Number(text);
  if (value < 0) throw new Error(`negative number (${value}) not allowed: ${text}`);
  return value;
}

function checkRange(expression: string, bounds: FieldBounds): void {
  const slashParts = expression.split('/');
  if (slashParts.length > 2) throw new Error(`too many slashes: ${expression}`);
  const [range, stepText] = slashParts;
  const hyphenParts = range.split('-');
  if (hyphenParts.length > 2) throw new Error(`too many hyphens: ${expression}`);
  let start: number;
  let end: number;
  if (range === '*' || range === '?') {
    start = bounds.min;
    end = bounds.max;
  } else {
    start = parseNumber(hyphenParts[0], bounds);
    end = hyphenParts.length === 2 ? parseNumber(hyphenParts[1], bounds) : stepText !== undefined ? bounds.max : start;
  }
  if (stepText !== undefined) {
    const step = parseNumber(stepText, bounds);
    if (step === 0) throw new Error(`step of range should be a positive number: ${expression}`);
  }
  if (start < bounds.min) throw new Error(`beginning of range (${start}) below minimum (${bounds.min}): ${expression}`);
  if (end > bounds.max) throw new Error(`end of range (${end}) above maximum (${bounds.max}): ${expression}`);
  if (start > end) throw new Error(`beginning of range (${start}) beyond end of range (${end}): ${expression}`);
}

/** Undefined when the schedule is valid, otherwise upstream's parse error. */
export function cronScheduleError(schedule: string): string | undefined {
  const trimmed = schedule.trim();
  try {
    if (trimmed.startsWith('@')) {
      if (DESCRIPTORS.has(trimmed)) return undefined;
      if (trimmed.startsWith('@every ')) {
        const duration = trimmed.slice('@every '.length).trim();
        return GO_DURATION.test(duration) ? undefined : `failed to parse duration ${trimmed}: time: invalid duration ${JSON.stringify(duration)}`;
      }
      return `unrecognized descriptor: ${trimmed}`;
    }
    const fields = trimmed.split(/\s+/).filter((f) => f !== '');
    if (fields.length !== FIELDS.length) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
    fields.forEach((field, i) => {
      for (const expression of field.split(',')) checkRange(expression, FIELDS[i]);
    });
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
