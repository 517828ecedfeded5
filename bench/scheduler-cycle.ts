/**
 * The scheduler alone, without HTTP: the same Scheduler (cache, queue, plugins, DefaultBinder)
 * over an in-memory registry and the in-process client, as `serve` runs it, but with pods created
 * in process — so the figure is what the scheduler can do, not what the API's HTTP create path
 * lets in (bench/scheduler.ts measures that). No admission chain or managedFields hooks: the
 * binds and Scheduled events are plain store writes. Per scenario (SchedulingBasic shape, 5,000
 * nodes, 10,000 pods; basic, anti-affinity, topology-spread as in bench/scheduler.ts): pods/s from
 * the first create until all are bound, and the synchronous scheduling cycle's latency per pod
 * (scheduleOne: snapshot, PreFilter … Score, assume) as p50/p99.
 * BASE=/other/worktree runs each scenario against that build too (same run); every run is a
 * child process, bounded by TIMEOUT_S.
 * Run: npm run build && node dist/bench/scheduler-cycle.js
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { summarize, writeResult } from './common.js';
import { schedulingNode, schedulingPod } from './lib/scheduling-workload.js';

const NODES = Number(process.env.NODES ?? 5_000);
const PODS = Number(process.env.PODS ?? 10_000);
const TIMEOUT_S = Number(process.env.TIMEOUT_S ?? 300);
const SCENARIOS = (process.env.SCENARIOS ?? 'basic,anti-affinity,topology-spread').split(',');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;



/** One scenario against the build in `build` (a worktree holding dist/), in this process. */
async function runOne(build: string, scenario: string): Promise<Json> {
  const load = (path: string) => import(resolve(build, 'dist/src', path));
  const [{ Store }, { Registry }, { allKinds }, { InProcessClient }, { LOOPBACK_USER, SCHEDULER_USER }, { buildKindSchemas }, { InformerFactory }, { Scheduler }, types] = await Promise.all(
    ['storage/store.js', 'registry/registry.js', 'registry/catalog.js', 'client/in-process.js', 'auth/system-users.js', 'api/schemas.js', 'client/informer-factory.js', 'scheduler/scheduler.js', 'client/resource-types.js'].map(load),
  );
  const registry = new Registry(allKinds, new Store());
  const client = new InProcessClient({ registry, user: LOOPBACK_USER, fieldManager: 'bench', patchSchema: buildKindSchemas(allKinds).patchSchema });
  await client.create(types.NAMESPACES, undefined, { metadata: { name: 'bench' } });
  for (let i = 0; i < NODES; i++) await client.create(types.NODES, undefined, schedulingNode(i));
  const informers = new InformerFactory(client);
  const scheduler = new Scheduler({ client: client.as(SCHEDULER_USER, 'kube-scheduler'), informers });
  const cycles: number[] = [];
  const scheduleOne = scheduler.scheduleOne.bind(scheduler);
  scheduler.scheduleOne = (queued: unknown) => {
    const started = performance.now();
    scheduleOne(queued);
    cycles.push(performance.now() - started);
  };
  let bound = 0;
  let allBound: () => void = () => {};
  const done = new Promise<void>((r) => (allBound = r));
  informers.informer(types.PODS).addEventHandler({
    onUpdate: (old: Json, pod: Json) => {
      if (!old.spec?.nodeName && pod.spec?.nodeName && ++bound === PODS) allBound();
    },
  });
  await scheduler.start();
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < PODS; i++) {
    await client.create(types.PODS, 'bench', schedulingPod(scenario, i, PODS, 'bench'));
    // Let the scheduler and informers run between creates, as they would between HTTP requests.
    if (i % 64 === 63) await new Promise((r) => setImmediate(r));
  }
  let timedOut = false;
  await Promise.race([done, new Promise<void>((r) => setTimeout(() => ((timedOut = true), r()), TIMEOUT_S * 1000).unref())]);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  await scheduler.stop();
  informers.stop();
  const summary = summarize(cycles);
  return {
    scenario,
    build: build === resolve('.') ? 'this' : build,
    nodes: NODES,
    pods: PODS,
    ...(timedOut ? { timedOut, boundWithinTimeout: bound } : {}),
    seconds: Math.round(seconds * 100) / 100,
    podsScheduledPerSecond: Math.round(bound / seconds),
    cpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 100) / 100,
    cycleMs: { n: summary.n, p50: Math.round(summary.p50 * 1000) / 1000, p99: Math.round(summary.p99 * 1000) / 1000, max: Math.round(summary.max * 1000) / 1000 },
  };
}

async function child(build: string, scenario: string): Promise<Json> {
  return new Promise((resolvePromise) => {
    const proc = spawn(process.execPath, [process.argv[1], '--one', build, scenario], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' } });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c));
    const killer = setTimeout(() => proc.kill('SIGKILL'), (TIMEOUT_S + 120) * 1000);
    proc.on('exit', (code) => {
      clearTimeout(killer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolvePromise(JSON.parse(line));
      } catch {
        resolvePromise({ scenario, build, error: `exit ${code}` });
      }
    });
  });
}

async function main(): Promise<void> {
  if (process.argv[2] === '--one') {
    console.log(JSON.stringify(await runOne(process.argv[3], process.argv[4])));
    process.exit(0);
  }
  const results: Json[] = [];
  for (const scenario of SCENARIOS) {
    for (const build of process.env.BASE ? [resolve(process.env.BASE), resolve('.')] : [resolve('.')]) {
      const result = await child(build, scenario);
      console.log(JSON.stringify(result));
      results.push(result);
    }
  }
  await writeResult('scheduler-cycle', { date: new Date().toISOString(), machine: `${(await import('node:os')).cpus().length} cores`, node: process.version, results });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
