/**
 * h2load (Debian's nghttp2-client) as the load generator for reads: a C client in its own process,
 * so the figures are the server's and not a Node client's. Latencies come from its per-request log.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { latencyFigures, type LatencyFigures } from './stats.js';

export interface H2loadRun {
  /** Request paths, used round robin by each client. */
  paths: string[];
  requests: number;
  /** Connections (each a kubectl-like client with its own TLS session). */
  clients?: number;
  /** Concurrent streams per connection. */
  streams?: number;
  headers?: Record<string, string>;
  /** A request body file (makes the requests POSTs). */
  bodyFile?: string;
  /** Requests per second per connection (unpaced when absent). */
  rps?: number;
}

export function requireH2load(): void {
  try {
    execFileSync('h2load', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('h2load is missing: apt-get install -y nghttp2-client');
  }
}

export interface H2loadSamples {
  /** Per-request latency (ms), in the order h2load logged them. */
  latenciesMs: number[];
  /** Answers by HTTP status code. */
  statuses: Map<string, number>;
  /** h2load's own wall time for the run. */
  seconds: number;
}

/** One h2load run's raw per-request log (for callers that merge runs). */
export async function h2loadSamples(base: string, token: string, run: H2loadRun): Promise<H2loadSamples> {
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-h2load-'));
  try {
    const uris = join(dir, 'uris.txt');
    await writeFile(uris, run.paths.map((p) => base + p).join('\n') + '\n');
    const log = join(dir, 'requests.log');
    const headers = Object.entries({ authorization: `Bearer ${token}`, ...(run.headers ?? {}) }).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
    const clients = run.clients ?? 16;
    const args = ['-n', String(Math.max(run.requests, clients)), '-c', String(clients), '-m', String(run.streams ?? 1), '-t', '1', '--log-file', log, ...headers, ...(run.bodyFile ? ['-d', run.bodyFile] : []), ...(run.rps ? [`--rps=${run.rps}`] : []), '-i', uris];
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('h2load', args, { maxBuffer: 16 << 20, timeout: 600_000 }, (error, out) => (error ? reject(new Error(`h2load failed: ${error.message}\n${out}`)) : resolve(out))),
    );
    const rows = (await readFile(log, 'utf8')).split('\n').filter(Boolean).map((line) => line.split('\t'));
    const statuses = new Map<string, number>();
    for (const r of rows) statuses.set(r[1], (statuses.get(r[1]) ?? 0) + 1);
    const finished = stdout.match(/finished in ([\d.]+)(ms|s),/);
    const seconds = finished ? Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1) : NaN;
    return { latenciesMs: rows.map((r) => Number(r[2]) / 1000), statuses, seconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One h2load run's latency figures; non-2xx answers are counted under `errors`. */
export async function h2load(base: string, token: string, run: H2loadRun): Promise<LatencyFigures> {
  const { latenciesMs, statuses, seconds } = await h2loadSamples(base, token, run);
  const figures = latencyFigures(latenciesMs, seconds);
  const errors = [...statuses].filter(([status]) => !status.startsWith('2'));
  if (errors.length) figures.errors = Object.fromEntries(errors);
  return figures;
}
