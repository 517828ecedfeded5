/**
 * Events are kept like a ring, as upstream keeps them under an etcd lease: each lives `ttlMs`
 * (1 h) after its last occurrence, and when events together exceed their share of the memory
 * budget the oldest go first — so events can never push the server out of its budget.
 */
import { ApiError } from '../api/status.js';
import type { GenericStore } from '../registry/generic-store.js';
import type { Obj } from '../registry/strategy.js';
import type { Store } from '../storage/store.js';
import { log } from '../server/log.js';

export interface EventRetentionOptions {
  ttlMs: number;
  /** Bytes all events together may take. */
  maxBytes: number;
  sweepEveryMs: number;
}

/** When an event last happened: what its time to live counts from. */
function lastOccurrence(event: Obj): number {
  const times = [event.lastTimestamp, event.eventTime, event.series?.lastObservedTime, event.deprecatedLastTimestamp, event.metadata.creationTimestamp]
    .filter((t): t is string => typeof t === 'string')
    .map((t) => Date.parse(t))
    .filter((t) => !Number.isNaN(t));
  return times.length > 0 ? Math.max(...times) : 0;
}

export function startEventRetention(eventStores: GenericStore[], store: Store, options: EventRetentionOptions): { stop(): void } {
  let sweeping = false;
  const eventBytes = () => eventStores.reduce((sum, generic) => sum + store.bytes(generic.resource), 0);

  async function remove(generic: GenericStore, event: Obj): Promise<void> {
    try {
      await generic.delete(event.metadata.namespace, event.metadata.name!);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
  }

  async function sweep(): Promise<void> {
    if (sweeping) return;
    sweeping = true;
    try {
      const expiredBefore = Date.now() - options.ttlMs;
      let expired = 0;
      for (const generic of eventStores) {
        for (const item of generic.list(undefined, {}).items) {
          if (lastOccurrence(item.object as Obj) < expiredBefore) {
            await remove(generic, item.object as Obj);
            expired++;
          }
        }
      }
      let evicted = 0;
      if (eventBytes() > options.maxBytes) {
        const all = eventStores.flatMap((generic) => generic.list(undefined, {}).items.map((item) => ({ generic, item })));
        all.sort((a, b) => a.item.revision - b.item.revision);
        const target = options.maxBytes * 0.9;
        for (const { generic, item } of all) {
          if (eventBytes() <= target) break;
          await remove(generic, item.object as Obj);
          evicted++;
        }
      }
      if (expired || evicted) log.info('events pruned', { expired, evicted, bytes: eventBytes() });
    } catch (error) {
      log.warn('event retention sweep failed', { error: String(error) });
    } finally {
      sweeping = false;
    }
  }

  const timer = setInterval(() => void sweep(), options.sweepEveryMs);
  timer.unref();
  const watchers = eventStores.map((generic) =>
    generic.watch(undefined, { fromRevision: generic.visibleRevision }, (_event, type) => {
      if (type === 'ADDED' && eventBytes() > options.maxBytes) setImmediate(() => void sweep());
    }),
  );
  return {
    stop() {
      clearInterval(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}
