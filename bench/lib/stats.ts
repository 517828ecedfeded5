/** Latency percentiles and a plain-text table for benchmark output. */

export interface LatencyFigures {
  n: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** Requests per second over the run, when the run had a wall time. */
  perSecond?: number;
  /** Non-2xx answers by status code. */
  errors?: Record<string, number>;
}

function at(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

export function latencyFigures(samplesMs: number[], seconds?: number): LatencyFigures {
  const sorted = Float64Array.from(samplesMs).sort();
  const list = Array.from(sorted);
  const figures: LatencyFigures = { n: list.length, p50: round(at(list, 50)), p99: round(at(list, 99)), p999: round(at(list, 99.9)), max: round(list[list.length - 1] ?? NaN) };
  if (seconds && Number.isFinite(seconds) && seconds > 0) figures.perSecond = Math.round(list.length / seconds);
  return figures;
}

/** Rows of cells as an aligned text table (first row: headers). */
export function textTable(rows: (string | number)[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? '').length)));
  return rows.map((r, i) => {
    const line = r.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  ');
    return i === 0 ? line + '\n' + widths.map((w) => '-'.repeat(w)).join('  ') : line;
  }).join('\n');
}
