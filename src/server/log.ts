/**
 * Structured logs on stderr: one JSON line per event when stderr is not a terminal, a readable
 * one-liner when it is (`--log-format json|text`, or NAUTILUS_LOG=json|text, overrides). Verbosity
 * follows klog's -v=N: 0 (the default) logs what an operator needs, 2 steady-state information,
 * 3 every request with its latency (as upstream's httplog), 4 and up debugging detail
 * (`log.v(n)` asks whether a level is on).
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'text';

let format: LogFormat = process.env.NAUTILUS_LOG === 'text' || process.env.NAUTILUS_LOG === 'json' ? process.env.NAUTILUS_LOG : process.stderr.isTTY ? 'text' : 'json';
let verbosity = process.env.NAUTILUS_DEBUG ? 4 : 0;
const quiet = process.env.NAUTILUS_LOG_LEVEL === 'error';

/** From the command line (serve: --log-format, -v). */
export function configureLogging(options: { format?: LogFormat; verbosity?: number }): void {
  if (options.format) format = options.format;
  if (options.verbosity !== undefined) verbosity = options.verbosity;
}

function write(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  if (quiet && level !== 'error') return;
  if (level === 'debug' && verbosity < 4) return;
  const time = new Date().toISOString();
  if (format === 'json') {
    process.stderr.write(JSON.stringify({ time, level, msg: message, ...fields }) + '\n');
  } else {
    const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"]/.test(v) ? v : JSON.stringify(v)}`).join(' ');
    process.stderr.write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${extra ? ' ' + extra : ''}\n`);
  }
}

export const log = {
  debug: (message: string, fields?: Record<string, unknown>) => write('debug', message, fields),
  info: (message: string, fields?: Record<string, unknown>) => write('info', message, fields),
  warn: (message: string, fields?: Record<string, unknown>) => write('warn', message, fields),
  error: (message: string, fields?: Record<string, unknown>) => write('error', message, fields),
  /** Whether klog verbosity `level` is on (-v=N with N >= level). */
  v: (level: number): boolean => !quiet && verbosity >= level,
};

/** klog's -v value: "3", "=3" (from -v=3) → 3; undefined when it is not a level. */
export function parseVerbosity(text: string): number | undefined {
  const value = Number(text.replace(/^=/, ''));
  return Number.isInteger(value) && value >= 0 && value <= 10 ? value : undefined;
}
