/**
 * Scheduler benchmark, in upstream scheduler_perf's SchedulingBasic shape: NODES (5,000) Nodes and
 * PODS (10,000) Pods created through the API (HTTP/2, from this separate process) against
 * `nautilus serve --ephemeral`, timed until every pod is bound. Scenarios:
 *  - baseline: the same pod creations with --disable-scheduler (the API's own ceiling, same run);
 *  - basic: pods requesting 100m / 100Mi;
 *  - anti-affinity: pods in groups of 1,000 with required pod anti-affinity on the hostname;
 *  - topology-spread: nodes in 10 zones, pods with maxSkew 1 DoNotSchedule on the zone.
 * Per-pod latency = from the pod's create response to the watch event showing it bound.
 * The node lifecycle controller is left out (as scheduler_perf runs no controller manager): the
 * Nodes have no kubelet renewing them, so it would taint them unreachable mid-run.
 * BASE=/path/to/other/worktree runs every scheduling scenario first against that build (its
 * dist/), then this one: a same-run before/after. A scenario that exceeds TIMEOUT_S is reported
 * with what was bound by then (`timedOut: true`).
 * Run: npm run build && node dist/bench/scheduler.js   (SCENARIOS=basic,anti-affinity,… to pick)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { adminClient, summarize, writeResult, type AdminClient, cpuSeconds, rssMiB } from './common.js';
import { schedulingNode, schedulingPod } from './lib/scheduling-workload.js';

const NODES = Number(process.env.NODES ?? 5_000);
const PODS = Number(process.env.PODS ?? 10_000);
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 64);
const TIMEOUT_S = Number(process.env.TIMEOUT_S ?? 600);
const SCENARIOS = (process.env.SCENARIOS ?? 'baseline,basic,anti-affinity,topology-spread').split(',');
const BASE = process.env.BASE;
const NAMESPACE = 'bench';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await task(items[next++]);
  }));
}



async function startServer(dir: string, extra: string[], build: string): Promise<ChildProcess> {
  const nodeArgs = (process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const controllers = ['--controllers', '*,-node-lifecycle-controller'];
  const server = spawn(process.execPath, [...nodeArgs, resolve(build, 'dist/src/cli/main.js'), 'serve', '--port', '0', '--address', '127.0.0.1', '--data-dir', dir, '--ephemeral', ...controllers, ...extra], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NAUTILUS_LOG_LEVEL: process.env.NAUTILUS_LOG_LEVEL ?? 'error' } });
  await new Promise<void>((resolvePromise, reject) => {
    let out = '';
    server.stdout!.on('data', (c: Buffer) => (out += c) && out.includes('serving at') && resolvePromise());
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return server;
}

async function create(client: AdminClient, path: string, body: Json): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const response = await client.request('POST', path, body);
    if (response.status === 201) return;
    if (response.status === 429 && attempt < 20) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    throw new Error(`POST ${path}: ${response.status} ${response.body.toString().slice(0, 300)}`);
  }
}

async function runScenario(scenario: string, build: string): Promise<Json> {
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-bench-scheduler-'));
  const server = await startServer(dir, scenario === 'baseline' ? ['--disable-scheduler'] : [], build);
  try {
    const kubeconfig = join(dir, 'admin.kubeconfig');
    const writers = await Promise.all(Array.from({ length: 4 }, () => adminClient(kubeconfig)));
    const watcher = await adminClient(kubeconfig);
    await create(writers[0], '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    const nodesStarted = performance.now();
    let w = 0;
    await pool(Array.from({ length: NODES }, (_, i) => i), IN_FLIGHT, (i) => create(writers[w++ % writers.length], '/api/v1/nodes', schedulingNode(i)));
    const nodesSeconds = (performance.now() - nodesStarted) / 1000;

    const created = new Map<string, number>();
    const latencies: number[] = [];
    let lastBound = 0;
    let allBound: () => void = () => {};
    const done = new Promise<void>((r) => (allBound = r));
    const seen = new Set<string>();
    const onPod = (pod: Json) => {
      if (!pod?.spec?.nodeName || seen.has(pod.metadata.name)) return;
      seen.add(pod.metadata.name);
      const now = performance.now();
      const at = created.get(pod.metadata.name);
      if (at !== undefined) latencies.push(now - at);
      lastBound = now;
      if (seen.size === PODS) allBound();
    };
    // As an informer: list, watch from there, and list again when the server ends the watch
    // (it cuts a watcher that falls too far behind).
    let watching = true;
    let watch: { close(): void; done: Promise<void> } | undefined;
    const following = (async () => {
      while (watching) {
        const list = JSON.parse((await watcher.get(`/api/v1/namespaces/${NAMESPACE}/pods`)).body.toString());
        for (const item of list.items ?? []) onPod(item);
        if (!watching) return;
        watch = watcher.stream(`/api/v1/namespaces/${NAMESPACE}/pods?watch=true&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=${TIMEOUT_S}`, (line) => onPod(JSON.parse(line).object));
        await watch.done;
      }
    })();
    const cpuBefore = await cpuSeconds(server.pid!);
    const started = performance.now();
    await pool(Array.from({ length: PODS }, (_, i) => i), IN_FLIGHT, async (i) => {
      const pod = schedulingPod(scenario, i, PODS, NAMESPACE);
      await create(writers[w++ % writers.length], `/api/v1/namespaces/${NAMESPACE}/pods`, pod);
      created.set(pod.metadata.name, performance.now());
    });
    const createdAt = performance.now();
    const createSeconds = (createdAt - started) / 1000;
    let timedOut = false;
    if (scenario !== 'baseline') {
      const timeout = new Promise<void>((r) => setTimeout(() => ((timedOut = true), r()), TIMEOUT_S * 1000).unref());
      await Promise.race([done, timeout]);
    }
    const cpu = (await cpuSeconds(server.pid!)) - cpuBefore;
    watching = false;
    watch?.close();
    await following.catch(() => {});
    const result: Json = { scenario, build: build === '.' ? 'this' : build, nodes: NODES, pods: PODS, nodesCreateSeconds: round(nodesSeconds), podCreateSeconds: round(createSeconds), podCreatesPerSecond: Math.round(PODS / createSeconds), serverCpuSeconds: round(cpu), serverRssMiB: await rssMiB(server.pid!) };
    if (scenario !== 'baseline') {
      const seconds = ((timedOut ? performance.now() : lastBound) - started) / 1000;
      if (timedOut) Object.assign(result, { timedOut, boundWithinTimeout: seen.size });
      else result.secondsToAllBound = round(seconds);
      result.podsScheduledPerSecond = Math.round(seen.size / seconds);
      result.latencyMs = summarize(latencies);
      const metrics = (await writers[0].get('/metrics')).body.toString();
      result.attemptDurationMs = histogramQuantiles(metrics, 'scheduler_scheduling_attempt_duration_seconds', 'result="scheduled"');
      result.attempts = Object.fromEntries([...metrics.matchAll(/^scheduler_schedule_attempts_total\{result="(\w+)",profile="default-scheduler"\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]));
    }
    for (const client of [...writers, watcher]) client.close();
    console.log(JSON.stringify(result));
    return result;
  } finally {
    if (process.env.SERVER_NODE_ARGS) {
      server.kill('SIGINT');
      await new Promise((r) => server.once('exit', r));
    } else server.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

/** p50/p99 (ms, bucket upper bounds) of a Prometheus histogram's series whose labels include `labels`. */
function histogramQuantiles(text: string, name: string, labels: string): Json {
  const buckets: Array<[number, number]> = [];
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)`, 'gm'))) {
    if (!m[1].includes(labels)) continue;
    const le = /le="([^"]+)"/.exec(m[1])?.[1];
    if (le) buckets.push([le === '+Inf' ? Infinity : Number(le), Number(m[2])]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  const at = (q: number) => {
    const bucket = buckets.find(([, count]) => count >= q * total);
    return bucket ? (bucket[0] === Infinity ? 'inf' : round(bucket[0] * 1000)) : undefined;
  };
  return { n: total, p50: at(0.5), p99: at(0.99) };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

async function main(): Promise<void> {
  const results: Json[] = [];
  for (const scenario of SCENARIOS) {
    if (BASE && scenario !== 'baseline') results.push(await runScenario(scenario, BASE));
    results.push(await runScenario(scenario, '.'));
  }
  await writeResult('scheduler', { date: new Date().toISOString(), machine: `${(await import('node:os')).cpus().length} cores`, node: process.version, results });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
