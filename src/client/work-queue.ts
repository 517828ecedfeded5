/**
 * A rate-limited work queue of keys (client-go's workqueue): a key added many times while it
 * waits is processed once; a key added while it is being processed is processed again after,
 * never by two workers at once; a failed key comes back after its rate limiter's delay. Delayed
 * adds share one timer over a heap, so 100,000 pending retries cost one timer, not 100,000.
 */
import { log } from '../server/log.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';
import type { WorkQueueMetrics } from './work-queue-metrics.js';

/** What a reconcile may ask for besides success: to look again after a while. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type Reconciler = (key: string) => Promise<ReconcileResult | void>;

export interface WorkQueueOptions {
  rateLimiter?: RateLimiter;
  metrics?: WorkQueueMetrics;
}

interface Delayed {
  at: number;
  key: string;
}

export class WorkQueue {
  private queue: string[] = [];
  private head = 0;
  /** Keys waiting to be processed (in `queue`, or to be re-queued when their processing ends). */
  private readonly dirty = new Set<string>();
  private readonly processing = new Map<string, number>();
  private readonly addedAt = new Map<string, number>();
  private readonly idleWorkers: Array<(key: string | undefined) => void> = [];
  private readonly delayedAt = new Map<string, number>();
  private readonly heap: Delayed[] = [];
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  private shuttingDown = false;
  private readonly workers: Promise<void>[] = [];
  private readonly rateLimiter: RateLimiter;

  constructor(readonly name: string, private readonly options: WorkQueueOptions = {}) {
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter();
    options.metrics?.register(this);
  }

  /** Keys waiting (not counting those being processed or delayed). */
  get length(): number {
    return this.queue.length - this.head;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.options.metrics?.added(this.name);
    // A key being processed goes back in line when its processing is done.
    if (!this.processing.has(key)) this.enqueue(key);
  }

  /** Adds `key` after `delayMs`; of several pending delays for one key the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.delayedAt.get(key);
    if (pending !== undefined && pending <= at) return;
    this.delayedAt.set(key, at);
    heapPush(this.heap, { at, key });
    this.armTimer();
  }

  /** Adds `key` after the rate limiter's delay for one more failure. */
  addRateLimited(key: string): void {
    this.options.metrics?.retried(this.name);
    this.addAfter(key, this.rateLimiter.when(key));
  }

  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  retries(key: string): number {
    return this.rateLimiter.retries(key);
  }

  /**
   * Runs `workers` concurrent loops, each taking a key, reconciling it and marking it done. A
   * failure is logged and retried with backoff; success forgets the key's failures.
   */
  run(workers: number, reconcile: Reconciler): void {
    for (let i = 0; i < workers; i++) this.workers.push(this.work(reconcile));
  }

  /** Stops taking keys; resolves when the workers' current reconciles have finished. */
  async shutDown(): Promise<void> {
    this.shuttingDown = true;
    clearTimeout(this.timer);
    for (const worker of this.idleWorkers.splice(0)) worker(undefined);
    await Promise.all(this.workers);
  }

  /** For metrics: seconds the oldest and all current reconciles have been running. */
  processingSeconds(): { longest: number; total: number } {
    const now = performance.now();
    let longest = 0;
    let total = 0;
    for (const started of this.processing.values()) {
      const seconds = (now - started) / 1000;
      longest = Math.max(longest, seconds);
      total += seconds;
    }
    return { longest, total };
  }

  private async work(reconcile: Reconciler): Promise<void> {
    for (;;) {
      const key = await this.next();
      if (key === undefined) return;
      const started = performance.now();
      try {
        const result = await reconcile(key);
        this.forget(key);
        if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
      } catch (error) {
        log.warn('reconcile failed; will retry', { queue: this.name, key, retries: this.retries(key), error: error instanceof Error ? error.message : String(error) });
        this.addRateLimited(key);
      } finally {
        this.options.metrics?.worked(this.name, (performance.now() - started) / 1000);
        this.done(key);
      }
    }
  }

  private next(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    if (this.head < this.queue.length) {
      const key = this.queue[this.head++];
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve(this.take(key));
    }
    return new Promise((resolve) => this.idleWorkers.push(resolve));
  }

  private enqueue(key: string): void {
    this.addedAt.set(key, performance.now());
    const worker = this.idleWorkers.shift();
    if (worker) worker(this.take(key));
    else this.queue.push(key);
  }

  private take(key: string): string {
    this.dirty.delete(key);
    this.processing.set(key, performance.now());
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (added !== undefined) this.options.metrics?.waited(this.name, (performance.now() - added) / 1000);
    return key;
  }

  private done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.enqueue(key);
  }

  private armTimer(): void {
    const earliest = this.heap[0];
    if (!earliest || earliest.at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = earliest.at;
    this.timer = setTimeout(() => this.fireDue(), Math.max(0, earliest.at - Date.now()));
    this.timer.unref();
  }

  private fireDue(): void {
    this.timerAt = Infinity;
    const now = Date.now();
    while (this.heap.length > 0 && this.heap[0].at <= now) {
      const { at, key } = heapPop(this.heap)!;
      // A later entry for a key re-delayed earlier is stale.
      if (this.delayedAt.get(key) !== at) continue;
      this.delayedAt.delete(key);
      this.add(key);
    }
    this.armTimer();
  }
}

function heapPush(heap: Delayed[], item: Delayed): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent].at <= heap[i].at) break;
    [heap[parent], heap[i]] = [heap[i], heap[parent]];
    i = parent;
  }
}

function heapPop(heap: Delayed[]): Delayed | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length > 0 && last) {
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && heap[left].at < heap[smallest].at) smallest = left;
      if (right < heap.length && heap[right].at < heap[smallest].at) smallest = right;
      if (smallest === i) break;
      [heap[smallest], heap[i]] = [heap[i], heap[smallest]];
      i = smallest;
    }
  }
  return top;
}
