/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), for tests: it throws on
 * anything a scraper could misread — a sample before its family's TYPE, a repeated HELP or TYPE, a
 * family split in two, a malformed name, label or value, a duplicated series, histogram buckets
 * that are not cumulative or lack +Inf, a _count that differs from the +Inf bucket.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help?: string;
  type?: MetricType;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seriesSeen = new Set<string>();
  let current: Family | undefined;
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('exposition must end with a newline');
  lines.pop();

  // A family's HELP, TYPE and samples are contiguous: meeting a name seen before, elsewhere, is an error.
  const enter = (name: string, lineNo: number): Family => {
    if (current?.name === name) return current;
    if (families.has(name)) throw new Error(`line ${lineNo}: family ${name} appears in two places`);
    current = { name, samples: [] };
    families.set(name, current);
    return current;
  };

  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!match) return; // a plain comment
      const [, keyword, name, rest = ''] = match;
      if (!METRIC_NAME.test(name)) throw new Error(`line ${lineNo}: bad metric name ${JSON.stringify(name)}`);
      const family = enter(name, lineNo);
      if (keyword === 'HELP') {
        if (family.help !== undefined) throw new Error(`line ${lineNo}: second HELP for ${name}`);
        family.help = unescapeHelp(rest, lineNo);
      } else {
        if (family.type !== undefined) throw new Error(`line ${lineNo}: second TYPE for ${name}`);
        if (family.samples.length > 0) throw new Error(`line ${lineNo}: TYPE for ${name} after its samples`);
        if (!TYPES.has(rest)) throw new Error(`line ${lineNo}: unknown type ${JSON.stringify(rest)}`);
        family.type = rest as MetricType;
      }
      return;
    }
    const sample = parseSample(line, lineNo);
    const familyName = familyOf(sample.name, current);
    const family = enter(familyName, lineNo);
    if (family.type === undefined) throw new Error(`line ${lineNo}: sample ${sample.name} before a TYPE for ${familyName}`);
    const series = `${sample.name}{${Object.entries(sample.labels).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (seriesSeen.has(series)) throw new Error(`line ${lineNo}: duplicate series ${series}`);
    seriesSeen.add(series);
    family.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

/** A sample belongs to the current family when its name is the family's or a histogram/summary suffix of it. */
function familyOf(sampleName: string, current: Family | undefined): string {
  if (current && (current.type === 'histogram' || current.type === 'summary')) {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (sampleName === current.name + suffix && (suffix !== '_bucket' || current.type === 'histogram')) return current.name;
    }
  }
  return sampleName;
}

function parseSample(line: string, lineNo: number): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new Error(`line ${lineNo}: bad sample ${JSON.stringify(line)}`);
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const labelMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!labelMatch || !LABEL_NAME.test(labelMatch[0])) throw new Error(`line ${lineNo}: bad label name at ${i}`);
      const labelName = labelMatch[0];
      i += labelName.length;
      if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`line ${lineNo}: expected =" after ${labelName}`);
      i += 2;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error(`line ${lineNo}: unterminated label value`);
        if (c === '"') break;
        if (c === '\\') {
          const next = line[i + 1];
          if (next === '\\') value += '\\';
          else if (next === '"') value += '"';
          else if (next === 'n') value += '\n';
          else throw new Error(`line ${lineNo}: bad escape \\${next}`);
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
      i++;
      if (labelName in labels) throw new Error(`line ${lineNo}: label ${labelName} twice`);
      labels[labelName] = value;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`line ${lineNo}: expected , or } at ${i}`);
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error(`line ${lineNo}: expected a space before the value`);
  const parts = line.slice(i + 1).split(' ');
  if (parts.length > 2 || parts[0] === '') throw new Error(`line ${lineNo}: bad value part ${JSON.stringify(line.slice(i + 1))}`);
  const value = parseValue(parts[0], lineNo);
  if (parts.length === 2 && !/^-?\d+$/.test(parts[1])) throw new Error(`line ${lineNo}: bad timestamp ${parts[1]}`);
  return { name, labels, value };
}

function parseValue(text: string, lineNo: number): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${lineNo}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

function unescapeHelp(text: string, lineNo: number): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new Error(`line ${lineNo}: bad escape in HELP`);
  });
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { buckets: [] }));
    if (sample.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      group.buckets.push([parseValue(le, 0), sample.value]);
    } else if (sample.name === `${family.name}_count`) group.count = sample.value;
    else if (sample.name === `${family.name}_sum`) group.sum = sample.value;
    else throw new Error(`${family.name}: unexpected sample ${sample.name}`);
  }
  for (const [key, group] of groups) {
    const sorted = [...group.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.at(-1)?.[0] !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    for (let i = 1; i < sorted.length; i++) if (sorted[i][1] < sorted[i - 1][1]) throw new Error(`${family.name}${key}: buckets not cumulative`);
    if (group.count === undefined || group.sum === undefined) throw new Error(`${family.name}${key}: missing _count or _sum`);
    if (group.count !== sorted.at(-1)![1]) throw new Error(`${family.name}${key}: _count ${group.count} differs from +Inf bucket ${sorted.at(-1)![1]}`);
  }
}

/** The sum of a family's samples (of `sampleName`, default the family's name) whose labels include `match`. */
export function sumOf(families: Map<string, Family>, family: string, match: Record<string, string> = {}, sampleName = family): number {
  let total = 0;
  for (const sample of families.get(family)?.samples ?? []) {
    if (sample.name !== sampleName) continue;
    if (Object.entries(match).every(([k, v]) => sample.labels[k] === v)) total += sample.value;
  }
  return total;
}
