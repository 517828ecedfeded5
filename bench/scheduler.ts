/**
 * Scheduler benchmark, in upstream scheduler_perf's SchedulingBasic shape: NODES (5,000) Nodes
 * and then PODS (10,000) Pods created through the API against `nautilus serve --ephemeral`, timed
 * until every pod is bound. The pods are posted by h2load (Debian's nghttp2-client: a C client in
 * its own process, IN_FLIGHT streams over 4 connections, bearer token) so the figure is the
 * server's, not a Node client's. Scenarios:
 *  - baseline: the same pod creations with --disable-scheduler (the API's own ceiling, same run);
 *  - basic: pods requesting 100m / 100Mi;
 *  - anti-affinity: pods in groups of 1,000 with required pod anti-affinity on the hostname;
 *  - topology-spread: nodes in 10 zones, pods with maxSkew 1 DoNotSchedule on the zone.
 * Per-pod latency: from the watch event first showing the pod (unbound) to the one showing it
 * bound, as one watcher sees both; beside it the scheduler's own histograms: the attempt (cycle
 * start to bind done) and the SLI (queued to bound, as upstream's pod_scheduling_sli_duration).
 * Unpaced, latency is mostly the queue of pods created faster than they are placed; CREATE_RATE=N
 * paces the creates at N pods/s in all, to read the latency when the scheduler keeps up.
 * The node lifecycle controller is left out (as scheduler_perf runs no controller manager): the
 * Nodes have no kubelet renewing them, so it would taint them unreachable mid-run.
 * BASE=/path/to/other/worktree runs every scheduling scenario first against that build (its
 * dist/), then this one: a same-run before/after. A scenario that exceeds TIMEOUT_S is reported
 * with what was bound by then (`timedOut: true`).
 * Run: npm run build && node dist/bench/scheduler.js   (SCENARIOS=basic,anti-affinity,… to pick)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { adminClient, writeResult, type AdminClient, cpuSeconds, rssMiB } from './common.js';
import { h2loadSamples, requireH2load } from './lib/h2load.js';
import { latencyFigures } from './lib/stats.js';
import { podShapes, schedulingNode, schedulingPod } from './lib/scheduling-workload.js';

const NODES = Number(process.env.NODES ?? 5_000);
const PODS = Number(process.env.PODS ?? 10_000);
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 64);
const CONNECTIONS = 4;
/** Pods created per second in all (h2load --rps); unpaced (as fast as the server takes them) when unset. */
const CREATE_RATE = process.env.CREATE_RATE ? Number(process.env.CREATE_RATE) : undefined;
const TOKEN = 'bench-' + Math.random().toString(36).slice(2);
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



async function startServer(dir: string, extra: string[], build: string): Promise<{ server: ChildProcess; url: string }> {
  const nodeArgs = (process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const controllers = ['--controllers', '*,-node-lifecycle-controller'];
  const tokens = join(dir, 'tokens.csv');
  await writeFile(tokens, `${TOKEN},bench,1,system:masters\n`);
  const server = spawn(process.execPath, [...nodeArgs, resolve(build, 'dist/src/cli/main.js'), 'serve', '--port', '0', '--address', '127.0.0.1', '--data-dir', dir, '--ephemeral', '--token-auth-file', tokens, ...controllers, ...extra], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NAUTILUS_LOG_LEVEL: process.env.NAUTILUS_LOG_LEVEL ?? 'error' } });
  const url = await new Promise<string>((resolvePromise, reject) => {
    let out = '';
    server.stdout!.on('data', (c: Buffer) => {
      out += c;
      const serving = /serving at (\S+?);/.exec(out);
      if (serving) resolvePromise(serving[1]);
    });
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { server, url };
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

/**
 * Creates PODS pods with h2load, one run per pod shape in parallel (each run posts one body, named
 * by generateName), IN_FLIGHT streams in all. Returns the create latencies and answers.
 */
async function createPods(scenario: string, url: string, dir: string): Promise<{ seconds: number; created: number; latencyMs: Json; errors?: Json }> {
  const shapes = podShapes(scenario, PODS);
  const runs = await Promise.all(Array.from({ length: shapes }, async (_, shape) => {
    const pod = schedulingPod(scenario, shape, PODS, NAMESPACE);
    pod.metadata = { generateName: 'pod-', namespace: NAMESPACE, labels: pod.metadata.labels };
    const bodyFile = join(dir, `pod-${shape}.json`);
    await writeFile(bodyFile, JSON.stringify(pod));
    const requests = Math.floor(PODS / shapes) + (shape < PODS % shapes ? 1 : 0);
    const clients = Math.max(1, Math.round(CONNECTIONS / shapes));
    const streams = Math.max(1, Math.round(IN_FLIGHT / shapes / clients));
    const rps = CREATE_RATE ? Math.max(1, Math.round(CREATE_RATE / shapes / clients)) : undefined;
    return h2loadSamples(url, TOKEN, { paths: [`/api/v1/namespaces/${NAMESPACE}/pods`], requests, clients, streams, headers: { 'content-type': 'application/json' }, bodyFile, rps });
  }));
  const statuses = new Map<string, number>();
  for (const run of runs) for (const [status, count] of run.statuses) statuses.set(status, (statuses.get(status) ?? 0) + count);
  const errors = [...statuses].filter(([status]) => status !== '201');
  return {
    seconds: Math.max(...runs.map((run) => run.seconds)),
    created: statuses.get('201') ?? 0,
    latencyMs: latencyFigures(runs.flatMap((run) => run.latenciesMs)),
    ...(errors.length ? { errors: Object.fromEntries(errors) } : {}),
  };
}

async function runScenario(scenario: string, build: string): Promise<Json> {
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-bench-scheduler-'));
  const { server, url } = await startServer(dir, scenario === 'baseline' ? ['--disable-scheduler'] : [], build);
  try {
    const kubeconfig = join(dir, 'admin.kubeconfig');
    const writers = await Promise.all(Array.from({ length: CONNECTIONS }, () => adminClient(kubeconfig)));
    const watcher = await adminClient(kubeconfig);
    await create(writers[0], '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    const nodesStarted = performance.now();
    let w = 0;
    await pool(Array.from({ length: NODES }, (_, i) => i), IN_FLIGHT, (i) => create(writers[w++ % writers.length], '/api/v1/nodes', schedulingNode(i)));
    const nodesSeconds = (performance.now() - nodesStarted) / 1000;
    for (const client of writers) client.close();

    // Per-pod latency as one watcher sees it: the first event showing the pod unbound, then the
    // first showing it bound (both through the same stream, so its own delay cancels out).
    const firstSeen = new Map<string, number>();
    const latencies: number[] = [];
    const bound = new Set<string>();
    let lastBound = 0;
    let expected = PODS;
    let allBound: () => void = () => {};
    const done = new Promise<void>((r) => (allBound = r));
    const onPod = (pod: Json) => {
      const uid: string | undefined = pod?.metadata?.uid;
      if (!uid || bound.has(uid)) return;
      const now = performance.now();
      if (!pod.spec?.nodeName) {
        if (!firstSeen.has(uid)) firstSeen.set(uid, now);
        return;
      }
      bound.add(uid);
      const at = firstSeen.get(uid);
      if (at !== undefined) latencies.push(now - at);
      lastBound = now;
      if (bound.size >= expected) allBound();
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
    const creates = await createPods(scenario, url, dir);
    expected = creates.created;
    if (bound.size >= expected) allBound();
    let timedOut = false;
    if (scenario !== 'baseline') {
      const timeout = new Promise<void>((r) => setTimeout(() => ((timedOut = true), r()), TIMEOUT_S * 1000).unref());
      await Promise.race([done, timeout]);
    }
    const cpu = (await cpuSeconds(server.pid!)) - cpuBefore;
    watching = false;
    watch?.close();
    await following.catch(() => {});
    const result: Json = { scenario, ...(CREATE_RATE ? { createRate: CREATE_RATE } : {}), build: build === '.' ? 'this' : build, nodes: NODES, pods: PODS, nodesCreateSeconds: round(nodesSeconds), podCreateSeconds: round(creates.seconds), podCreatesPerSecond: Math.round(creates.created / creates.seconds), createLatencyMs: creates.latencyMs, ...(creates.errors ? { createErrors: creates.errors } : {}), serverCpuSeconds: round(cpu), serverRssMiB: await rssMiB(server.pid!) };
    if (scenario !== 'baseline') {
      const seconds = ((timedOut ? performance.now() : lastBound) - started) / 1000;
      if (timedOut) Object.assign(result, { timedOut, boundWithinTimeout: bound.size });
      else result.secondsToAllBound = round(seconds);
      result.podsScheduledPerSecond = Math.round(bound.size / seconds);
      result.latencyMs = latencyFigures(latencies);
      const metrics = (await watcher.get('/metrics')).body.toString();
      result.attemptDurationMs = histogramQuantiles(metrics, 'scheduler_scheduling_attempt_duration_seconds', 'result="scheduled"');
      result.sliDurationMs = histogramQuantiles(metrics, 'scheduler_pod_scheduling_sli_duration_seconds');
      result.attempts = Object.fromEntries([...metrics.matchAll(/^scheduler_schedule_attempts_total\{result="(\w+)",profile="default-scheduler"\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]));
    }
    watcher.close();
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

/**
 * p50/p99 (ms) of a Prometheus histogram, its series whose labels include `labels` summed, each
 * quantile interpolated within its bucket as Prometheus' histogram_quantile does.
 */
function histogramQuantiles(text: string, name: string, labels = ''): Json {
  const byBound = new Map<number, number>();
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)`, 'gm'))) {
    if (!m[1].includes(labels)) continue;
    const le = /le="([^"]+)"/.exec(m[1])?.[1];
    if (!le) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    byBound.set(bound, (byBound.get(bound) ?? 0) + Number(m[2]));
  }
  const buckets = [...byBound].sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  const at = (q: number): number | string | undefined => {
    const rank = q * total;
    const i = buckets.findIndex(([, count]) => count >= rank);
    if (i < 0) return undefined;
    const [upper, count] = buckets[i];
    if (upper === Infinity) return i > 0 ? `>${round(buckets[i - 1][0] * 1000)}` : 'inf';
    const [lower, below] = i > 0 ? buckets[i - 1] : [0, 0];
    return round((lower + ((upper - lower) * (rank - below)) / Math.max(1, count - below)) * 1000);
  };
  return { n: total, p50: at(0.5), p99: at(0.99) };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

async function main(): Promise<void> {
  requireH2load();
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
