/** Shared benchmark helpers: percentiles, an HTTP/2 client with the admin certificate, results. */
import { connect, type ClientHttp2Session } from 'node:http2';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { parse } from 'yaml';

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const index = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)];
}

export function summarize(samplesMs: number[]): { n: number; p50: number; p90: number; p99: number; max: number } {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return { n: sorted.length, p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1]) };
}

export interface AdminClient {
  session: ClientHttp2Session;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: Buffer }>;
  /** Any verb; a JSON body is sent when given (DELETE goes without one). */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Buffer }>;
  /** A streaming GET (a watch): `onLine` gets each line as it arrives. */
  stream(path: string, onLine: (line: string) => void): { close(): void; done: Promise<void> };
  close(): void;
}

/** An HTTP/2 client authenticated with the kubeconfig's client certificate. */
export async function adminClient(kubeconfigPath: string): Promise<AdminClient> {
  const config = parse(await readFile(kubeconfigPath, 'utf8'));
  const cluster = config.clusters[0].cluster;
  const user = config.users[0].user;
  const b64 = (s: string) => Buffer.from(s, 'base64');
  const session = connect(cluster.server, { ca: b64(cluster['certificate-authority-data']), cert: b64(user['client-certificate-data']), key: b64(user['client-key-data']) });
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  const request: AdminClient['request'] = (method, path, body, headers = {}) => {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = session.request({ ':method': method, ':path': path, ...(payload ? { 'content-type': 'application/json' } : {}), ...headers });
      const chunks: Buffer[] = [];
      let status = 0;
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
      req.on('error', reject);
      req.end(payload);
    });
  };
  return {
    session,
    get: (path, headers = {}) => request('GET', path, undefined, headers),
    request,
    stream(path, onLine) {
      const req = session.request({ ':path': path });
      let buffered = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        buffered += chunk;
        for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim()) onLine(line);
        }
      });
      const done = new Promise<void>((resolve) => {
        req.on('close', () => resolve());
        req.on('error', () => resolve());
      });
      return { close: () => req.close(), done };
    },
    close: () => session.close(),
  };
}

export async function writeResult(name: string, result: unknown): Promise<void> {
  await mkdir('bench/results', { recursive: true });
  await writeFile(`bench/results/${name}.json`, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

/** utime + stime of a process, in seconds (Linux /proc; clock ticks are 100 Hz there). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A process's resident set size in MiB (Linux /proc). */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024);
}
