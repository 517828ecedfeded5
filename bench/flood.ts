/**
 * No noisy neighbour: the GET latency of a quiet user while FLOODERS clients (default 512) of
 * another user hammer creates, against a server with API Priority and Fairness on and one with
 * it off (--enable-priority-and-fairness=false: plain max-inflight limits), in the same run.
 * Each server is its own process; flooders honour Retry-After on 429 as client-go does.
 * Run: npm run build && node dist/bench/flood.js   (FLOODERS, SECONDS to change the load)
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { connect, type ClientHttp2Session } from 'node:http2';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { summarize, writeResult } from './common.js';

const FLOODERS = Number(process.env.FLOODERS ?? 512);
const SECONDS = Number(process.env.SECONDS ?? 15);
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const run = promisify(execFile);

async function startServer(dir: string, extra: string[]): Promise<{ url: string; child: ChildProcess; ca: Buffer }> {
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
  const kubeconfig = join(dir, 'admin.kubeconfig');
  // Both users may write configmaps in default (RBAC), neither is system:masters (which APF exempts).
  for (const user of ['flooder', 'quiet']) await run('kubectl', ['--kubeconfig', kubeconfig, 'create', 'rolebinding', `${user}-edit`, '--clusterrole=edit', `--user=${user}`, '-n', 'default']);
  return { url, child, ca: await readFile(join(dir, 'pki', 'ca.crt')) };
}

function session(url: string, ca: Buffer): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const h2 = connect(url, { ca });
    h2.once('connect', () => resolve(h2));
    h2.once('error', reject);
  });
}

function request(h2: ClientHttp2Session, token: string, method: string, path: string, body?: string): Promise<{ status: number; retryAfter: number }> {
  return new Promise((resolve) => {
    const stream = h2.request({ ':method': method, ':path': path, authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) });
    let status = 0;
    let retryAfter = 0;
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
      retryAfter = Number(headers['retry-after'] ?? 0);
    });
    stream.on('data', () => {});
    stream.on('close', () => resolve({ status, retryAfter }));
    stream.on('error', () => {});
    stream.end(body);
  });
}

async function measure(label: string, url: string, ca: Buffer) {
  const deadline = performance.now() + SECONDS * 1000;
  const counts = { created: 0, tooMany: 0, other: 0 };
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'flood-' }, data: { k: 'v' } });
  const flooders = await Promise.all(Array.from({ length: FLOODERS }, () => session(url, ca)));
  const flood = flooders.map(async (h2) => {
    while (performance.now() < deadline) {
      const answer = await request(h2, 'flooder-token', 'POST', '/api/v1/namespaces/default/configmaps', body);
      if (answer.status === 201) counts.created++;
      else if (answer.status === 429) {
        counts.tooMany++;
        await new Promise((r) => setTimeout(r, (answer.retryAfter || 1) * 1000));
      } else counts.other++;
    }
  });
  const quietSession = await session(url, ca);
  const latencies: number[] = [];
  let quietErrors = 0;
  while (performance.now() < deadline) {
    const started = performance.now();
    const answer = await request(quietSession, 'quiet-token', 'GET', '/api/v1/namespaces/default/configmaps?limit=1');
    if (answer.status === 200) latencies.push(performance.now() - started);
    else quietErrors++;
  }
  await Promise.all(flood);
  for (const h2 of [...flooders, quietSession]) h2.close();
  return { label, quietGetMs: summarize(latencies), quietErrors, flood: counts };
}

async function main() {
  const root = await mkdtemp(join(tmpdir(), 'nautilus-flood-'));
  await writeFile(join(root, 'tokens.csv'), 'flooder-token,flooder,5001\nquiet-token,quiet,5002\n');
  const results = [];
  try {
    for (const [label, flags] of [['apf-on', []], ['apf-off (max-inflight only)', ['--enable-priority-and-fairness=false']]] as const) {
      const dir = join(root, label.split(' ')[0]);
      const server = await startServer(dir, [...flags]);
      try {
        results.push(await measure(label, server.url, server.ca));
      } finally {
        server.child.kill('SIGTERM');
        await new Promise((r) => server.child.once('exit', r));
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  await writeResult('flood', { flooders: FLOODERS, seconds: SECONDS, results });
}

await main();
