/**
 * Durability benchmark: create throughput and latency through the API with the sealed WAL
 * (group commit) versus --ephemeral, measured in the same run; then restart time with 150,000
 * pods in the snapshot. Run: npm run build && node dist/bench/durable-writes.js
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { startControlPlane, type ControlPlane } from '../src/server/control-plane.js';
import { allKinds } from '../src/registry/catalog.js';
import { adminClient, type summarize, writeResult } from './common.js';

const WRITES = Number(process.env.WRITES ?? 10_000);
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 64);
const RESTART_PODS = Number(process.env.RESTART_PODS ?? 150_000);

function pod(i: number) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pod-${i}`, namespace: 'bench', labels: { app: `app-${i % 50}` } },
    spec: { nodeName: `node-${i % 5000}`, containers: [{ name: 'main', image: 'registry.example/app:1.0', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
  };
}

/** Runs bench/create-load in its own process against the control plane. */
function createThroughput(controlPlane: ControlPlane): Promise<{ writesPerSecond: number; latencyMs: ReturnType<typeof summarize> }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [resolve('dist/bench/create-load.js'), controlPlane.kubeconfigPath, String(WRITES), String(IN_FLIGHT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.once('exit', (code) => (code === 0 ? resolvePromise(JSON.parse(output)) : reject(new Error(`create-load exited ${code}`))));
  });
}

async function start(dataDir: string, ephemeral: boolean) {
  const controlPlane = await startControlPlane({ address: '127.0.0.1', port: 0, dataDir, kinds: allKinds, ephemeral });
  await controlPlane.registry.of('', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }).catch(() => undefined);
  return controlPlane;
}

/** Restarts `nautilus serve` on the data dir in a fresh process: time to serving, pods served, memory. */
async function restartServer(dataDir: string): Promise<{ restartMs: number; podsAfterRestart: number; rssMiB: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [resolve('dist/src/cli/main.js'), 'serve', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((ready) => child.stdout.on('data', (c: Buffer) => c.toString().includes('serving at') && ready()));
  const restartMs = Math.round(performance.now() - started);
  const client = await adminClient(join(dataDir, 'admin.kubeconfig'));
  const list = await client.get('/api/v1/namespaces/bench/pods?limit=1');
  const remaining = JSON.parse(list.body.toString()).metadata.remainingItemCount ?? 0;
  const metrics = (await client.get('/metrics')).body.toString();
  client.close();
  child.kill('SIGKILL');
  const rss = Number(metrics.match(/^process_resident_memory_bytes (\d+)/m)?.[1] ?? 0);
  return { restartMs, podsAfterRestart: remaining + 1, rssMiB: Math.round(rss / 2 ** 20) };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-durable-bench-'));
  try {
    const ephemeralPlane = await start(join(dir, 'ephemeral'), true);
    const ephemeral = await createThroughput(ephemeralPlane);
    await ephemeralPlane.stop();
    const durablePlane = await start(join(dir, 'durable'), false);
    const durable = await createThroughput(durablePlane);
    await durablePlane.stop();

    const restartDir = join(dir, 'restart');
    const loader = await start(restartDir, false);
    const pods = loader.registry.of('', 'pods');
    const loadStarted = performance.now();
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < RESTART_PODS; i++) {
      batch.push(pods.create(pod(i)));
      if (batch.length === 256) await Promise.all(batch.splice(0));
    }
    await Promise.all(batch);
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    await loader.stop(); // restart replays what came after the last scheduled snapshot
    const restart = await restartServer(restartDir);

    await writeResult('durable-writes', {
      date: new Date().toISOString(),
      writes: WRITES,
      inFlight: IN_FLIGHT,
      ephemeral,
      durableGroupCommit: durable,
      durableVsEphemeralThroughput: Math.round((durable.writesPerSecond / ephemeral.writesPerSecond) * 100) / 100,
      restart: { pods: RESTART_PODS, inProcessLoadPodsPerSecond: Math.round(RESTART_PODS / loadSeconds), ...restart },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
