/**
 * Records core/v1 Events about objects, as client-go's event recorder and correlator do:
 *  - a repeat of the same event (same source, object, type, reason and message) bumps the
 *    existing Event's `count` and `lastTimestamp` instead of creating another;
 *  - more than 10 events with the same source, object, type and reason but different messages
 *    within 10 minutes are folded into one "(combined from similar events): …" Event;
 *  - each source and object may emit a burst of 25 events, then one every 5 minutes (spam filter).
 * Recording never blocks or fails the caller: writes happen in the background, errors are logged.
 */
import { randomInt } from 'node:crypto';
import { ApiError } from '../api/status.js';
import { nowRfc3339 } from '../api/object.js';
import { log } from '../server/log.js';
import { EVENTS } from './resource-types.js';
import type { ApiClient, Obj } from './api-client.js';

export type EventType = 'Normal' | 'Warning';

export interface EventSource {
  component: string;
  host?: string;
}

const AGGREGATE_MAX_EVENTS = 10;
const AGGREGATE_WINDOW_MS = 10 * 60 * 1000;
const SPAM_BURST = 25;
const SPAM_REFILL_MS = 5 * 60 * 1000;
const CACHE_SIZE = 4096;

interface Recorded {
  name: string;
  namespace: string;
  count: number;
}

interface SimilarEvents {
  messages: Set<string>;
  since: number;
}

interface Bucket {
  tokens: number;
  last: number;
}

export class EventRecorder {
  private readonly recorded = new LruMap<string, Recorded>(CACHE_SIZE);
  private readonly similar = new LruMap<string, SimilarEvents>(CACHE_SIZE);
  private readonly buckets = new LruMap<string, Bucket>(CACHE_SIZE);
  /** Writes of one event key run in order (create, then its count updates). */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly client: ApiClient, private readonly source: EventSource) {}

  /** Records that `reason` happened to `object` (fire and forget). */
  event(object: Obj, type: EventType, reason: string, message: string): void {
    const involved = involvedObject(object);
    const objectId = [this.source.component, this.source.host ?? '', involved.kind, involved.namespace ?? '', involved.name, involved.uid ?? '', involved.apiVersion].join('\u0000');
    if (!this.allow(objectId)) return;
    const aggregateKey = [objectId, type, reason].join('\u0000');
    let key = [aggregateKey, message].join('\u0000');
    const similar = this.similarEvents(aggregateKey, message);
    if (similar >= AGGREGATE_MAX_EVENTS) {
      message = `(combined from similar events): ${message}`;
      key = aggregateKey;
    }
    const write = (this.chains.get(key) ?? Promise.resolve()).then(() => this.write(key, involved, type, reason, message)).catch((error) => {
      log.warn('could not record event', { reason, object: `${involved.kind}/${involved.namespace ?? ''}/${involved.name}`, error: String(error) });
    });
    this.chains.set(key, write);
    void write.then(() => {
      if (this.chains.get(key) === write) this.chains.delete(key);
    });
  }

  /** Resolves once every event recorded so far is written (for tests and shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private async write(key: string, involved: InvolvedObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = nowRfc3339();
    const previous = this.recorded.get(key);
    if (previous) {
      try {
        await this.client.mutate(EVENTS, previous.namespace, previous.name, (event) => ({ ...event, count: previous.count + 1, lastTimestamp: now, message }));
        this.recorded.set(key, { ...previous, count: previous.count + 1 });
        return;
      } catch (error) {
        // Expired or deleted meanwhile: start a new Event.
        if (!(error instanceof ApiError && error.code === 404)) throw error;
      }
    }
    const namespace = involved.namespace || 'default';
    const created = await this.client.create(EVENTS, namespace, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${involved.name}.${uniqueSuffix()}`, namespace },
      involvedObject: involved,
      reason,
      message,
      source: this.source.host ? { component: this.source.component, host: this.source.host } : { component: this.source.component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: this.source.component,
      reportingInstance: this.source.host ?? '',
    });
    this.recorded.set(key, { name: created.metadata.name!, namespace, count: 1 });
  }

  /** How many different messages this (object, type, reason) had within the window, this one included. */
  private similarEvents(aggregateKey: string, message: string): number {
    const now = Date.now();
    let entry = this.similar.get(aggregateKey);
    if (!entry || now - entry.since > AGGREGATE_WINDOW_MS) {
      entry = { messages: new Set(), since: now };
      this.similar.set(aggregateKey, entry);
    }
    entry.messages.add(message);
    return entry.messages.size;
  }

  private allow(objectId: string): boolean {
    const now = Date.now();
    const bucket = this.buckets.get(objectId) ?? { tokens: SPAM_BURST, last: now };
    bucket.tokens = Math.min(SPAM_BURST, bucket.tokens + (now - bucket.last) / SPAM_REFILL_MS);
    bucket.last = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(objectId, bucket);
    return allowed;
  }
}

interface InvolvedObject {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  apiVersion: string;
  resourceVersion?: string;
}

function involvedObject(object: Obj): InvolvedObject {
  const meta = object.metadata;
  const involved: InvolvedObject = { kind: object.kind ?? '', name: meta.name ?? '', apiVersion: object.apiVersion ?? '' };
  if (meta.namespace) involved.namespace = meta.namespace;
  if (meta.uid) involved.uid = meta.uid;
  if (meta.resourceVersion) involved.resourceVersion = meta.resourceVersion;
  return involved;
}

/**
 * Upstream names events `<object>.<unix nanoseconds in hex>`; random low bits keep them unique
 * within a millisecond (randomInt draws from a pooled buffer: one event each, no syscall each).
 */
function uniqueSuffix(): string {
  const nanos = BigInt(Date.now()) * 1_000_000n + BigInt(randomInt(1_000_000));
  return nanos.toString(16);
}

/** A Map that forgets its least recently used entries beyond `capacity`. */
class LruMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }
}
