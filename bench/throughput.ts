/**
 * Request throughput on this machine's 2 cores with h2load (Debian package nghttp2-client):
 * GET one pod, a 500-row Table page (10,000 pods stored), and pod creates, over HTTP/2 with a
 * bearer token; creates are measured with --ephemeral and with the sealed WAL in the same run.
 * Run: npm run build && node dist/bench/throughput.js
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '../src/server/control-plane.js';
import { allKinds } from '../src/registry/catalog.js';
import { writeResult } from './common.js';

const PODS = Number(process.env.PODS ?? 10_000);
const REQUESTS = Number(process.env.REQUESTS ?? 100_000);
const TOKEN = 'bench-token-' + Math.random().toString(36).slice(2);

interface H2loadFigures {
  requestsPerSecond: number;
  succeeded: number;
  failed: number;
  meanMs: number;
  maxMs: number;
}

function h2load(url: string, requests: number, extra: string[]): Promise<H2loadFigures> {
  return new Promise((resolve, reject) => {
    // h2load runs as its own process so this one only serves.
    import('node:child_process').then(({ execFile }) =>
      execFile('h2load', ['-n', String(requests), '-c', '8', '-m', '16', '-t', '1', '-H', `authorization: Bearer ${TOKEN}`, ...extra, url], { maxBuffer: 16 << 20 }, (error, stdout) => {
        if (error) return reject(error);
        const number = (pattern: RegExp) => Number(stdout.match(pattern)?.[1] ?? NaN);
        const unit = (value: string, u: string) => (u === 'us' ? Number(value) / 1000 : u === 's' ? Number(value) * 1000 : Number(value));
        const timing = stdout.match(/time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/);
        resolve({
          requestsPerSecond: Math.round(number(/finished in [\d.]+s, ([\d.]+) req\/s/)),
          succeeded: number(/(\d+) succeeded/),
          failed: number(/(\d+) failed/),
          meanMs: timing ? unit(timing[5], timing[6]) : NaN,
          maxMs: timing ? unit(timing[3], timing[4]) : NaN,
        });
      }),
    );
  });
}

async function main(): Promise<void> {
  execFileSync('h2load', ['--version']);
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-throughput-'));
  const tokens = join(dir, 'tokens.csv');
  await writeFile(tokens, `${TOKEN},bench,1,system:masters\n`);
  const controlPlane = await startControlPlane({ address: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), kinds: allKinds, ephemeral: true, tokenAuthFile: tokens });
  try {
    await controlPlane.registry.of('', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    const pods = controlPlane.registry.of('', 'pods');
    for (let i = 0; i < PODS; i++) {
      await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${i}`, namespace: 'bench', labels: { app: `app-${i % 50}` } }, spec: { nodeName: `node-${i % 100}`, containers: [{ name: 'main', image: 'registry.example/app:1.0' }] } });
    }
    const base = controlPlane.url;
    const getPod = await h2load(`${base}/api/v1/namespaces/bench/pods/pod-42`, REQUESTS, []);
    const tablePage = await h2load(`${base}/api/v1/namespaces/bench/pods?limit=500`, Math.round(REQUESTS / 50), ['-H', 'accept: application/json;as=Table;v=v1;g=meta.k8s.io']);
    const createEphemeral = await createPods(base, dir);
    await controlPlane.stop();
    const durablePlane = await startControlPlane({ address: '127.0.0.1', port: 0, dataDir: join(dir, 'durable'), kinds: allKinds, tokenAuthFile: tokens });
    await durablePlane.registry.of('', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    const createDurable = await createPods(durablePlane.url, dir);
    await durablePlane.stop();
    await writeResult('throughput', {
      date: new Date().toISOString(),
      pods: PODS,
      clients: 8,
      streamsPerClient: 16,
      getPod,
      table500: tablePage,
      createPodEphemeral: createEphemeral,
      createPodDurable: createDurable,
      durableVsEphemeral: Math.round((createDurable.requestsPerSecond / createEphemeral.requestsPerSecond) * 100) / 100,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** POSTs the same generateName pod: every create is a new object. */
async function createPods(base: string, dir: string): Promise<H2loadFigures> {
  const body = join(dir, 'pod.json');
  await writeFile(body, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'load-', labels: { app: 'load' } }, spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'registry.example/app:1.0', resources: { requests: { cpu: '100m' } } }] } }));
  return h2load(`${base}/api/v1/namespaces/bench/pods`, Math.round(REQUESTS / 5), ['-d', body, '-H', 'content-type: application/json']);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
