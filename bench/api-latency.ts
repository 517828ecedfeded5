/**
 * Foundation benchmark: cold start, and latency of GET one pod and of a 500-row Table page with
 * 10,000 pods stored. Run: npm run build && node dist/bench/api-latency.js
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startControlPlane } from '../src/server/control-plane.js';
import { allKinds } from '../src/registry/catalog.js';
import { adminClient, summarize, writeResult } from './common.js';

const PODS = Number(process.env.PODS ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 2_000);
const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

async function coldStart(dataDir: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [resolve('dist/src/cli/main.js'), 'serve', '--port', '0', '--data-dir', dataDir, '--ephemeral'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolvePromise) => child.stdout.on('data', (c: Buffer) => c.toString().includes('serving at') && resolvePromise()));
  const elapsed = performance.now() - started;
  child.kill('SIGKILL');
  return elapsed;
}

function pod(i: number) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pod-${String(i).padStart(5, '0')}`, namespace: 'bench', labels: { app: `app-${i % 50}`, tier: 'web' } },
    spec: { nodeName: `node-${i % 100}`, containers: [{ name: 'main', image: 'registry.example/app:1.0', ports: [{ containerPort: 8080 }], resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-bench-'));
  const coldFirst = await coldStart(join(dir, 'cold'));
  const coldWarm = await coldStart(join(dir, 'cold'));

  const controlPlane = await startControlPlane({ address: '127.0.0.1', port: 0, dataDir: join(dir, 'latency'), kinds: allKinds });
  const pods = controlPlane.registry.of('', 'pods');
  await controlPlane.registry.of('', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
  const loadStarted = performance.now();
  for (let i = 0; i < PODS; i++) await pods.create(pod(i));
  const loadMs = performance.now() - loadStarted;

  const client = await adminClient(controlPlane.kubeconfigPath);
  const measure = async (path: string, headers: Record<string, string>) => {
    for (let i = 0; i < 50; i++) await client.get(path, headers);
    const samples: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t = performance.now();
      const res = await client.get(path.replace('{i}', String(i % PODS).padStart(5, '0')), headers);
      samples.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    }
    return summarize(samples);
  };
  const getPod = await measure('/api/v1/namespaces/bench/pods/pod-{i}', { accept: 'application/json' });
  const tablePage = await measure('/api/v1/namespaces/bench/pods?limit=500', { accept: TABLE_ACCEPT });
  const tableSelector = await measure('/api/v1/pods?limit=500&labelSelector=app%3Dapp-7', { accept: TABLE_ACCEPT });
  // What a kubelet asks for: its node's pods (answered from the spec.nodeName index).
  const podsOfNode = await measure('/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-42', { accept: 'application/json' });
  client.close();
  const memory = process.memoryUsage();
  await controlPlane.stop();
  await rm(dir, { recursive: true, force: true });

  await writeResult('api-latency', {
    date: new Date().toISOString(),
    node: process.version,
    pods: PODS,
    rounds: ROUNDS,
    coldStartMs: { firstStartWithCaGeneration: Math.round(coldFirst), restart: Math.round(coldWarm) },
    loadPodsMs: Math.round(loadMs),
    note: 'round-trip over loopback HTTP/2 with one sequential client (includes client cost)',
    getPodMs: getPod,
    table500Ms: tablePage,
    table500WithLabelSelectorAllNamespacesMs: tableSelector,
    listPodsOfOneNodeMs: podsOfNode,
    heapUsedMiB: Math.round(memory.heapUsed / 2 ** 20),
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
