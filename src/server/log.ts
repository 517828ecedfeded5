/**
 * Structured logs: one JSON line per event on stderr, or a readable line when stderr is a
 * terminal (NAUTILUS_LOG=json|text overrides).
 */
type Level = 'debug' | 'info' | 'warn' | 'error';

const mode = process.env.NAUTILUS_LOG ?? (process.stderr.isTTY ? 'text' : 'json');
const quiet = process.env.NAUTILUS_LOG_LEVEL === 'error';

function write(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  if (quiet && level !== 'error') return;
  if (level === 'debug' && !process.env.NAUTILUS_DEBUG) return;
  const time = new Date().toISOString();
  if (mode === 'json') {
    process.stderr.write(JSON.stringify({ time, level, msg: message, ...fields }) + '\n');
  } else {
    const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
    process.stderr.write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${extra ? ' ' + extra : ''}\n`);
  }
}

export const log = {
  debug: (message: string, fields?: Record<string, unknown>) => write('debug', message, fields),
  info: (message: string, fields?: Record<string, unknown>) => write('info', message, fields),
  warn: (message: string, fields?: Record<string, unknown>) => write('warn', message, fields),
  error: (message: string, fields?: Record<string, unknown>) => write('error', message, fields),
};
