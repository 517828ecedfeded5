/**
 * Upstream's slowStartBatch: do `count` creations in batches of 1, 2, 4 … and stop at the first
 * batch with a failure, so a cause that fails them all (quota, admission) costs a few calls, not
 * thousands. Returns how many succeeded and the first error.
 */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: (index: number) => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let successes = 0;
  let next = 0;
  for (let batch = Math.min(count, initialBatchSize); next < count; batch = Math.min(2 * batch, count - next)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, (_, i) => fn(next + i)));
    next += batch;
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += results.filter((r) => r.status === 'fulfilled').length;
    if (failure) return { successes, error: failure.reason };
  }
  return { successes };
}

/** Upstream's SlowStartInitialBatchSize. */
export const SLOW_START_INITIAL_BATCH = 1;
