/**
 * Preloaded into a benchmarked server (`node --import …/memory-probe.js`): on SIGUSR2 it collects
 * garbage (when --expose-gc is on) and writes the process's memory figures as JSON to the file
 * named by NAUTILUS_BENCH_PROBE. It lives outside the server's code so that any commit can be
 * measured the same way.
 */
import { writeFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';

const target = process.env.NAUTILUS_BENCH_PROBE;
if (target) {
  process.on('SIGUSR2', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const usage = process.memoryUsage();
    const heap = getHeapStatistics();
    writeFileSync(target + '.tmp', JSON.stringify({ at: Date.now(), rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external, arrayBuffers: usage.arrayBuffers, heapLimit: heap.heap_size_limit }));
    // Renamed into place so that a reader never sees half a file.
    import('node:fs').then(({ renameSync }) => renameSync(target + '.tmp', target));
  });
}
