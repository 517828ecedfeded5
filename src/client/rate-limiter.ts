/**
 * How long a failing key waits before its next try (client-go's workqueue rate limiters). The
 * controllers' default is the slower of a per-key exponential backoff and an overall token
 * bucket, so one broken object backs off alone while a storm of failures cannot flood the server.
 */
export interface RateLimiter {
  /** Delay before `key` may be retried; each call counts as one more failure. */
  when(key: string): number;
  /** The key succeeded: its failures are forgotten. */
  forget(key: string): void;
  /** Failures counted for `key` since it last succeeded. */
  retries(key: string): number;
}

/** base · 2^failures, capped (client-go's ItemExponentialFailureRateLimiter). */
export class ExponentialBackoff implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(private readonly baseMs: number, private readonly maxMs: number) {}

  when(key: string): number {
    const count = this.failures.get(key) ?? 0;
    this.failures.set(key, count + 1);
    return Math.min(this.baseMs * 2 ** count, this.maxMs);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * A token bucket shared by all keys: `qps` tokens a second, at most `burst` saved up. `when` reserves
 * a token (client-go's workqueue BucketRateLimiter); `tryAccept` takes one only if it is there
 * (flowcontrol's TryAccept). `now` is the clock it refills by (milliseconds).
 */
export class TokenBucket implements RateLimiter {
  private tokens: number;
  private last: number;

  constructor(readonly qps: number, private readonly burst: number, private readonly now: () => number = Date.now) {
    this.tokens = burst;
    this.last = now();
  }

  when(): number {
    this.refill();
    this.tokens -= 1;
    // A negative balance is a reservation: wait until it is paid back.
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  /** Takes a token if one is saved up. */
  tryAccept(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is there (0 when one is). */
  msUntilToken(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.qps) * 1000);
  }

  forget(): void {}

  retries(): number {
    return 0;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.last) / 1000) * this.qps);
    this.last = now;
  }
}

/** The longest delay any of its limiters asks for. */
export class SlowestOf implements RateLimiter {
  private readonly limiters: RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    return Math.max(...this.limiters.map((limiter) => limiter.when(key)));
  }

  forget(key: string): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }

  retries(key: string): number {
    return Math.max(...this.limiters.map((limiter) => limiter.retries(key)));
  }
}

/** client-go's DefaultControllerRateLimiter: 5 ms doubling to 1000 s per key, 10 qps burst 100 overall. */
export function defaultControllerRateLimiter(): RateLimiter {
  return new SlowestOf(new ExponentialBackoff(5, 1000 * 1000), new TokenBucket(10, 100));
}
