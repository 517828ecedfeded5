/**
 * Takes snapshots of the store into the durable log so that restart replays little: after
 * every `everyMutations` writes, or after `everyMs` when anything changed. Writes go on while a
 * snapshot is written (the store's view is captured synchronously, objects are immutable).
 *
 * A snapshot is also where watch history starts after a restart (like etcd's compaction), so
 * none is taken at shutdown: the mutations since the last snapshot replay into the watch
 * history, and resume points and continue tokens from before a restart stay valid.
 */
import type { DurableLog } from './durable-log.js';
import type { Store } from './store.js';
import { log } from '../server/log.js';

export interface SnapshotSchedule {
  /** Stops taking snapshots (waits for one in progress). */
  stop(): Promise<void>;
}

export interface SnapshotScheduleOptions {
  everyMutations?: number;
  everyMs?: number;
  checkMs?: number;
  /** Told of every snapshot written: its revision and how long it took (metrics, status page). */
  onSnapshot?: (revision: number, seconds: number) => void;
}

export function startSnapshotSchedule(store: Store, durableLog: DurableLog, options: SnapshotScheduleOptions = {}): SnapshotSchedule {
  const everyMutations = options.everyMutations ?? 50_000;
  const everyMs = options.everyMs ?? 5 * 60_000;
  let lastRevision = store.revision;
  let lastTime = Date.now();
  let running: Promise<void> | undefined;

  const take = (reason: string): Promise<void> => {
    if (running || store.revision === lastRevision) return running ?? Promise.resolve();
    const { revision, entries } = store.snapshotEntries();
    const started = Date.now();
    running = durableLog
      .snapshot(revision, entries)
      .then(() => {
        lastRevision = revision;
        lastTime = Date.now();
        options.onSnapshot?.(revision, (lastTime - started) / 1000);
        log.info('snapshot written', { revision, objects: entries.length, reason, ms: Date.now() - started });
      })
      .catch((error: Error) => log.error('snapshot failed', { revision, error: error.message }))
      .finally(() => (running = undefined));
    return running;
  };

  const timer = setInterval(() => {
    if (store.revision - lastRevision >= everyMutations) void take('mutations');
    else if (Date.now() - lastTime >= everyMs) void take('interval');
  }, options.checkMs ?? 5_000);
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
