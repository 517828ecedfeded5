/**
 * Indexed Jobs (upstream indexed_job_utils.go): each pod carries its completion index in the
 * batch.kubernetes.io/job-completion-index annotation and label; status.completedIndexes lists
 * the succeeded ones compactly ("1,3-5").
 */
import type { Obj } from '../../client/api-client.js';

export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** Pod names are generated; their prefix may not exceed this (names.MaxGeneratedNameLength). */
const MAX_GENERATED_NAME_LENGTH = 58;

/** The pod's completion index, or -1 when missing or malformed. */
export function completionIndexOf(pod: Obj): number {
  const text = pod.metadata.annotations?.[COMPLETION_INDEX];
  if (text === undefined || !/^(0|[1-9][0-9]*)$/.test(text)) return -1;
  const index = Number(text);
  return Number.isSafeInteger(index) ? index : -1;
}

/** A sorted set of indexes as inclusive intervals. */
export class Intervals {
  private constructor(private readonly ranges: ReadonlyArray<readonly [number, number]>) {}

  static empty(): Intervals {
    return new Intervals([]);
  }

  /** Parses "1,3-5"; anything malformed or at/after `completions` is ignored, as upstream does. */
  static parse(text: string | undefined, completions: number): Intervals {
    const indexes: number[] = [];
    for (const part of (text ?? '').split(',')) {
      const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
      if (!match) continue;
      const first = Number(match[1]);
      const last = Math.min(match[2] === undefined ? first : Number(match[2]), completions - 1);
      for (let i = first; i <= last; i++) indexes.push(i);
    }
    return Intervals.of(indexes);
  }

  static of(indexes: Iterable<number>): Intervals {
    const sorted = [...new Set(indexes)].sort((a, b) => a - b);
    const ranges: Array<[number, number]> = [];
    for (const index of sorted) {
      const last = ranges[ranges.length - 1];
      if (last && last[1] + 1 === index) last[1] = index;
      else ranges.push([index, index]);
    }
    return new Intervals(ranges);
  }

  has(index: number): boolean {
    return this.ranges.some(([first, last]) => index >= first && index <= last);
  }

  total(): number {
    return this.ranges.reduce((sum, [first, last]) => sum + last - first + 1, 0);
  }

  with(indexes: Iterable<number>): Intervals {
    return Intervals.of([...this.values(), ...indexes]);
  }

  *values(): IterableIterator<number> {
    for (const [first, last] of this.ranges) for (let i = first; i <= last; i++) yield i;
  }

  /** Upstream's format: a pair of neighbours is written "1,2", longer runs "1-3". */
  toString(): string {
    return this.ranges.map(([first, last]) => (first === last ? String(first) : `${first}${last === first + 1 ? ',' : '-'}${last}`)).join(',');
  }
}

/** `<job>-<index>-`, shortened to fit a generated name. */
export function generateNameWithIndex(jobName: string, index: number): string {
  const appendix = `-${index}-`;
  const prefix = `${jobName}${appendix}`;
  return prefix.length > MAX_GENERATED_NAME_LENGTH ? prefix.slice(0, MAX_GENERATED_NAME_LENGTH - appendix.length) + appendix : prefix;
}

/** Every container learns its index from the downward API (addCompletionIndexEnvVariables). */
export function addCompletionIndexEnv(podSpec: Obj['spec']): void {
  for (const list of [podSpec.initContainers, podSpec.containers]) {
    for (const container of (Array.isArray(list) ? list : []) as Obj['spec'][]) {
      const env: Obj['spec'][] = Array.isArray(container.env) ? container.env : [];
      if (env.some((e) => e.name === COMPLETION_INDEX_ENV)) continue;
      env.push({ name: COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } } });
      container.env = env;
    }
  }
}

/** The lowest `count` indexes below `completions` that are neither succeeded nor taken (firstPendingIndexes). */
export function firstPendingIndexes(count: number, completions: number, succeeded: Intervals, taken: ReadonlySet<number>): number[] {
  const result: number[] = [];
  for (let index = 0; index < completions && result.length < count; index++) {
    if (!succeeded.has(index) && !taken.has(index)) result.push(index);
  }
  return result;
}
