/**
 * No noisy neighbour: the latency of a quiet user's GETs and LISTs while FLOODERS clients
 * (default 512) of another user hammer creates from PROCS child processes (default 2), against a
 * server with API Priority and Fairness on and one with it off
 * (--enable-priority-and-fairness=false: plain max-inflight limits), interleaved ROUNDS times in
 * the same run (and APF on with global-default's borrowingLimitPercent patched to 0). Flooders honour Retry-After on 429 as client-go does. The quiet user paces one
 * request every QUIET_INTERVAL_MS (default 50), alternating a GET of one configmap and a LIST of
 * its namespace's few, from the parent process (which does nothing else).
 * Run: npm run build && node dist/bench/flood.js   (FLOODERS, PROCS, SECONDS, ROUNDS, SERVER_FLAGS)
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { connect, type ClientHttp2Session } from 'node:http2';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { cpuSeconds, summarize, writeResult } from './common.js';

const FLOODERS = Number(process.env.FLOODERS ?? 512);
const PROCS = Number(process.env.PROCS ?? 2);
const SECONDS = Number(process.env.SECONDS ?? 15);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const QUIET_INTERVAL_MS = Number(process.env.QUIET_INTERVAL_MS ?? 50);
const SERVER_FLAGS = (process.env.SERVER_FLAGS ?? '').split(' ').filter(Boolean);
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const run = promisify(execFile);

interface FloodCounts {
  created: number;
  tooMany: number;
  other: number;
  retryAfter: Record<string, number>;
}

async function startServer(dir: string, extra: string[], noBorrowing = false): Promise<{ url: string; child: ChildProcess; ca: Buffer }> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--ephemeral', '--data-dir', dir, '--token-auth-file', join(dir, '..', 'tokens.csv'), ...extra], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' } });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/serving at (https:\/\/\S+?);/);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', join(dir, 'admin.kubeconfig'), ...args]);
  // Neither user is system:masters (which APF exempts); both land in global-default, as different flows (ByUser).
  await kubectl('create', 'rolebinding', 'flooder-edit', '--clusterrole=edit', '--user=flooder', '-n', 'default');
  await kubectl('create', 'namespace', 'quiet');
  await kubectl('create', 'rolebinding', 'quiet-edit', '--clusterrole=edit', '--user=quiet', '-n', 'quiet');
  for (let i = 0; i < 5; i++) await kubectl('create', 'configmap', `q${i}`, '-n', 'quiet', '--from-literal=k=v');
  // The flooded level may not borrow beyond its nominal seats (idle levels' seats are not lent to it).
  if (noBorrowing) await kubectl('patch', 'prioritylevelconfiguration', 'global-default', '--type=merge', '-p', '{"spec":{"limited":{"borrowingLimitPercent":0}}}');
  return { url, child, ca: await readFile(join(dir, 'pki', 'ca.crt')) };
}

function session(url: string, ca: Buffer): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const h2 = connect(url, { ca });
    h2.once('connect', () => resolve(h2));
    h2.once('error', reject);
  });
}

function request(h2: ClientHttp2Session, token: string, method: string, path: string, body?: string): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve) => {
    const stream = h2.request({ ':method': method, ':path': path, authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) });
    let status = 0;
    let retryAfter: string | undefined;
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
      retryAfter = headers['retry-after'] as string | undefined;
    });
    stream.on('data', () => {});
    stream.on('close', () => resolve({ status, retryAfter }));
    stream.on('error', () => {});
    stream.end(body);
  });
}

/** A child process: `clients` connections of the flooder, each a create loop until the deadline. */
async function flooderChild(url: string, ca: Buffer, clients: number, seconds: number): Promise<void> {
  const counts: FloodCounts = { created: 0, tooMany: 0, other: 0, retryAfter: {} };
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'flood-' }, data: { k: 'v' } });
  const sessions = await Promise.all(Array.from({ length: clients }, () => session(url, ca)));
  process.send!({ ready: true });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    sessions.map(async (h2) => {
      while (performance.now() < deadline) {
        const answer = await request(h2, 'flooder-token', 'POST', '/api/v1/namespaces/default/configmaps', body);
        if (answer.status === 201) counts.created++;
        else if (answer.status === 429) {
          counts.tooMany++;
          const after = answer.retryAfter ?? 'none';
          counts.retryAfter[after] = (counts.retryAfter[after] ?? 0) + 1;
          await new Promise((r) => setTimeout(r, Math.min((Number(answer.retryAfter) || 1) * 1000, Math.max(0, deadline - performance.now()))));
        } else counts.other++;
      }
    }),
  );
  for (const h2 of sessions) h2.close();
  process.send!({ counts });
}

function spawnFlooder(url: string, caPath: string, clients: number): { child: ChildProcess; ready: Promise<void>; result: Promise<FloodCounts> } {
  const child = spawn(process.execPath, [SELF, 'flooder', url, caPath, String(clients), String(SECONDS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let ready!: () => void;
  const readyPromise = new Promise<void>((r) => (ready = r));
  const result = new Promise<FloodCounts>((resolve, reject) => {
    child.on('message', (message: { ready?: boolean; counts?: FloodCounts }) => {
      if (message.ready) ready();
      if (message.counts) resolve(message.counts);
    });
    child.once('exit', (code) => reject(new Error(`flooder exited ${code}`)));
  });
  return { child, ready: readyPromise, result };
}

async function measure(label: string, url: string, ca: Buffer, caPath: string, serverPid: number, kubeconfig: string) {
  const children = Array.from({ length: PROCS }, (_, i) => spawnFlooder(url, caPath, Math.floor(FLOODERS / PROCS) + (i < FLOODERS % PROCS ? 1 : 0)));
  await Promise.all(children.map((c) => c.ready));
  const quietSession = await session(url, ca);
  // The quiet user alone first (its unloaded latency in this same server).
  const idle: number[] = [];
  for (let i = 0; i < 40; i++) {
    const started = performance.now();
    await request(quietSession, 'quiet-token', 'GET', i % 2 ? '/api/v1/namespaces/quiet/configmaps' : '/api/v1/namespaces/quiet/configmaps/q1');
    idle.push(performance.now() - started);
  }
  const cpuBefore = await cpuSeconds(serverPid);
  const startedAt = performance.now();
  for (const c of children) c.child.send('go');
  const deadline = performance.now() + SECONDS * 1000;
  const get: number[] = [];
  const list: number[] = [];
  const quietErrors: Record<string, number> = {};
  let sent = 0;
  // Skip the first second (connections ramping up) for the quiet user's figures.
  await new Promise((r) => setTimeout(r, 1000));
  // Halfway: what flow control holds (executing and queued requests of the flooder's level), from /metrics.
  const sample = new Promise<Record<string, number>>((resolve) =>
    setTimeout(async () => {
      const gauges: Record<string, number> = {};
      try {
        const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', '--raw', '/metrics'], { maxBuffer: 64 << 20 });
        for (const line of stdout.split('\n')) {
          const match = /^apiserver_flowcontrol_(current_executing_requests|current_inqueue_requests|current_limit_seats|current_executing_seats)\{[^}]*priority_level="global-default"[^}]*\} (\S+)/.exec(line);
          if (match) gauges[match[1]] = (gauges[match[1]] ?? 0) + Number(match[2]);
        }
      } catch {}
      resolve(gauges);
    }, (SECONDS * 1000) / 2 - 1000),
  );
  while (performance.now() < deadline - 500) {
    const isList = sent++ % 2 === 1;
    const started = performance.now();
    const answer = await request(quietSession, 'quiet-token', 'GET', isList ? '/api/v1/namespaces/quiet/configmaps' : '/api/v1/namespaces/quiet/configmaps/q1');
    const took = performance.now() - started;
    if (answer.status === 200) (isList ? list : get).push(took);
    else quietErrors[answer.status] = (quietErrors[answer.status] ?? 0) + 1;
    await new Promise((r) => setTimeout(r, Math.max(0, QUIET_INTERVAL_MS - took)));
  }
  const floods = await Promise.all(children.map((c) => c.result));
  const midRunGlobalDefault = await sample;
  const elapsed = (performance.now() - startedAt) / 1000;
  const serverCpu = (await cpuSeconds(serverPid)) - cpuBefore;
  quietSession.close();
  const flood: FloodCounts = { created: 0, tooMany: 0, other: 0, retryAfter: {} };
  for (const counts of floods) {
    flood.created += counts.created;
    flood.tooMany += counts.tooMany;
    flood.other += counts.other;
    for (const [k, v] of Object.entries(counts.retryAfter)) flood.retryAfter[k] = (flood.retryAfter[k] ?? 0) + v;
  }
  const quietRequests = get.length + list.length + Object.values(quietErrors).reduce((a, b) => a + b, 0);
  return {
    label,
    quietIdleMs: summarize(idle),
    quietGetMs: summarize(get),
    quietListMs: summarize(list),
    quietErrors,
    quietErrorRate: quietRequests ? Object.values(quietErrors).reduce((a, b) => a + b, 0) / quietRequests : 0,
    flood: { ...flood, createsPerSecond: Math.round(flood.created / elapsed) },
    midRunGlobalDefault,
    serverCpuCores: Math.round((serverCpu / elapsed) * 100) / 100,
    loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

async function main() {
  const root = await mkdtemp(join(tmpdir(), 'nautilus-flood-'));
  await writeFile(join(root, 'tokens.csv'), 'flooder-token,flooder,5001\nquiet-token,quiet,5002\n');
  const results = [];
  const loadBefore = loadavg();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [label, flags] of [['apf-on', []], ['apf-on-no-borrowing', []], ['apf-off', ['--enable-priority-and-fairness=false']]] as const) {
        const dir = join(root, `${label}-${round}`);
        const server = await startServer(dir, [...flags, ...SERVER_FLAGS], label === 'apf-on-no-borrowing');
        try {
          const result = await measure(label, server.url, server.ca, join(dir, 'pki', 'ca.crt'), server.child.pid!, join(dir, 'admin.kubeconfig'));
          console.log(JSON.stringify({ round, ...result }));
          results.push({ round, ...result });
        } finally {
          server.child.kill('SIGTERM');
          await new Promise((r) => server.child.once('exit', r));
        }
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  await writeResult('flood', { flooders: FLOODERS, processes: PROCS, seconds: SECONDS, quietIntervalMs: QUIET_INTERVAL_MS, serverFlags: SERVER_FLAGS, loadAverageBefore: loadBefore.map((v) => Math.round(v * 100) / 100), results });
}

if (process.argv[2] === 'flooder') {
  const [, , , url, caPath, clients, seconds] = process.argv;
  await flooderChild(url, await readFile(caPath), Number(clients), Number(seconds));
  process.exit(0);
} else await main();
