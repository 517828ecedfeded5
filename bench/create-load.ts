/**
 * A pod-create load, run as its own process so the server it measures has the CPU to itself
 * (an in-process client stalls the server's event loop and distorts tail latencies).
 * Usage: node dist/bench/create-load.js KUBECONFIG [WRITES] [IN_FLIGHT]; prints one JSON line.
 */
import { performance } from 'node:perf_hooks';
import { adminClient, summarize } from './common.js';

const WARMUP_WRITES = 1_000;

function pod(name: string, i: number) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'bench', labels: { app: `app-${i % 50}` } },
    spec: { nodeName: `node-${i % 5000}`, containers: [{ name: 'main', image: 'registry.example/app:1.0', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
  };
}

async function main(): Promise<void> {
  const [kubeconfig, writesText = '10000', inFlightText = '64'] = process.argv.slice(2);
  const writes = Number(writesText);
  const inFlight = Number(inFlightText);
  const client = await adminClient(kubeconfig);
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = client.session.request({ ':method': 'POST', ':path': '/api/v1/namespaces/bench/pods', 'content-type': 'application/json' });
      let status = 0;
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', () => {});
      req.on('end', () => resolve(status));
      req.on('error', reject);
      req.end(body);
    });
  // Warm the server's JIT and the connection first, so every mode is measured hot.
  for (let i = 0; i < WARMUP_WRITES; i++) await post(JSON.stringify(pod(`warmup-${i}`, i)));
  let next = 0;
  const samples: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < writes) {
        const i = next++;
        const t = performance.now();
        const status = await post(JSON.stringify(pod(`pod-${i}`, i)));
        samples.push(performance.now() - t);
        if (status !== 201) throw new Error(`create answered ${status}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  client.close();
  process.stdout.write(JSON.stringify({ writesPerSecond: Math.round(writes / seconds), latencyMs: summarize(samples) }) + '\n');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
