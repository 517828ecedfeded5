/**
 * A work queue of keys with de-duplication and per-key retry backoff (client-go's rate-limited
 * queue, simplified): a key queued many times is reconciled once; a failing key retries later.
 */
export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly failures = new Map<string, number>();
  private running = false;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly reconcile: (key: string) => Promise<void>, private readonly onError: (key: string, error: unknown) => void) {}

  add(key: string): void {
    if (this.stopped) return;
    this.queued.add(key);
    if (!this.running) queueMicrotask(() => void this.drain());
  }

  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.queued.clear();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queued.size > 0 && !this.stopped) {
        const key = this.queued.values().next().value as string;
        this.queued.delete(key);
        try {
          await this.reconcile(key);
          this.failures.delete(key);
        } catch (error) {
          const attempts = (this.failures.get(key) ?? 0) + 1;
          this.failures.set(key, attempts);
          this.onError(key, error);
          this.addAfter(key, Math.min(5 * 2 ** attempts, 30_000));
        }
      }
    } finally {
      this.running = false;
    }
  }
}
