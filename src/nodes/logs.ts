/**
 * Deterministic synthetic container logs: one line per second of a container instance's life,
 * the first at its start. The same pod, container and instance always give the same lines, so
 * tests can check tail, since, timestamps and previous exactly.
 */
import type { Obj } from '../client/api-client.js';

/** Lines kept per container instance (older ones rotated away, as a runtime's log files). */
export const MAX_LOG_LINES = 10_000;
export const LOG_LINE_INTERVAL_MS = 1000;

export interface LogOptions {
  container: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: number;
  limitBytes?: number;
}

export interface LogInstance {
  /** The instance's restart number (0 for the first run). */
  instance: number;
  startedMs: number;
  /** When it ended (a terminated instance); undefined while running. */
  finishedMs?: number;
}

export class LogOptionsError extends Error {}

function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Which instance of the container the request means (the current one, or the previous). */
export function logInstance(pod: Obj, container: string, previous: boolean): LogInstance {
  const statuses: Obj[] = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const status = statuses.find((s) => s.name === container);
  const podName = pod.metadata.name;
  if (previous) {
    const last = status?.lastState?.terminated;
    const started = parseTime(last?.startedAt);
    if (!status || !last || started === undefined) throw new LogOptionsError(`previous terminated container "${container}" in pod "${podName}" not found`);
    return { instance: Math.max(0, (status.restartCount ?? 1) - 1), startedMs: started, finishedMs: parseTime(last.finishedAt) ?? started };
  }
  const state = status?.state ?? {};
  if (state.running) return { instance: status!.restartCount ?? 0, startedMs: parseTime(state.running.startedAt) ?? Date.now() };
  if (state.terminated) {
    const started = parseTime(state.terminated.startedAt) ?? Date.now();
    return { instance: status!.restartCount ?? 0, startedMs: started, finishedMs: parseTime(state.terminated.finishedAt) ?? started };
  }
  const reason = state.waiting?.reason ?? 'ContainerCreating';
  throw new LogOptionsError(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
}

/** RFC 3339 with nanoseconds, as the kubelet prefixes lines with --timestamps. */
export function nanoTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export function logText(pod: Obj, container: string, instance: number, index: number): string {
  const paths = ['/', '/healthz', '/api/items', '/static/app.js', '/login'];
  const codes = [200, 200, 200, 304, 404];
  const pick = (index * 7 + instance * 3 + container.length) % paths.length;
  return `${container}[${instance}] line ${index}: ${pod.metadata.namespace}/${pod.metadata.name} GET ${paths[pick]} ${codes[(pick + index) % codes.length]}`;
}

export function formatLine(pod: Obj, container: string, instance: LogInstance, index: number, timestamps: boolean): string {
  const text = logText(pod, container, instance.instance, index);
  return timestamps ? `${nanoTimestamp(instance.startedMs + index * LOG_LINE_INTERVAL_MS)} ${text}\n` : `${text}\n`;
}

/** Index of the last line written by `nowMs` (−1 before the first). */
export function lastLineIndex(instance: LogInstance, nowMs: number): number {
  const end = instance.finishedMs !== undefined ? Math.min(instance.finishedMs, nowMs) : nowMs;
  if (end < instance.startedMs) return -1;
  return Math.floor((end - instance.startedMs) / LOG_LINE_INTERVAL_MS);
}

/** The first line index the options select (since/tail/rotation), up to `last`. */
export function firstLineIndex(instance: LogInstance, last: number, options: LogOptions, nowMs: number): number {
  let first = Math.max(0, last - MAX_LOG_LINES + 1);
  const since = options.sinceTime ?? (options.sinceSeconds !== undefined ? nowMs - options.sinceSeconds * 1000 : undefined);
  if (since !== undefined) first = Math.max(first, Math.ceil((since - instance.startedMs) / LOG_LINE_INTERVAL_MS));
  if (options.tailLines !== undefined) first = Math.max(first, last - options.tailLines + 1);
  return first;
}
