/**
 * Batch-controller benchmark, in one process: how long the Job, DaemonSet and StatefulSet
 * controllers take to bring many objects to their goal, with an in-process "kubelet" that
 * reports every new pod Running and Ready (or, for Jobs, Succeeded) through pods/status.
 * Run: npm run build && node dist/bench/batch-controllers.js   (JOBS=500 NODES=1000 REPLICAS=200)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startControlPlane } from '../src/server/control-plane.js';
import { allKinds } from '../src/registry/catalog.js';
import { DAEMON_SETS, JOBS as JOB_TYPE, NAMESPACES, NODES as NODE_TYPE, PODS, STATEFUL_SETS } from '../src/client/resource-types.js';
import type { Obj } from '../src/client/api-client.js';
import { writeResult } from './common.js';

const JOBS = Number(process.env.JOBS ?? 500);
const NODES = Number(process.env.NODES ?? 1000);
const REPLICAS = Number(process.env.REPLICAS ?? 200);
const ORDERED = Number(process.env.ORDERED ?? 50);
const TIMEOUT_MS = 10 * 60_000;

const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-bench-batch-'));
  const cp = await startControlPlane({ address: '127.0.0.1', port: 0, dataDir: dir, kinds: allKinds, ephemeral: true });
  const client = cp.client;
  await client.create(NAMESPACES, undefined, { metadata: { name: 'bench' } });
  const pods = cp.informers.informer(PODS);
  await pods.start();

  // The kubelet stand-in: every new pod runs (Job pods run to success).
  const containerStatus = (pod: Obj, finished: boolean) =>
    (pod.spec.containers as Obj[]).map((c) => ({ name: c.name, image: c.image, imageID: '', ready: !finished, restartCount: 0, state: finished ? { terminated: { exitCode: 0, reason: 'Completed', finishedAt: stamp() } } : { running: { startedAt: stamp() } } }));
  const report = (pod: Obj) => {
    const isJobPod = pod.metadata.labels?.['batch.kubernetes.io/job-name'] !== undefined;
    const status = isJobPod
      ? { phase: 'Succeeded', conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: stamp() }], containerStatuses: containerStatus(pod, true) }
      : { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: stamp() }], containerStatuses: containerStatus(pod, false) };
    void client.mutate(PODS, pod.metadata.namespace, pod.metadata.name!, (p) => ({ ...p, status: { ...p.status, ...status } }), { subresource: 'status' }).catch(() => undefined);
  };
  pods.addEventHandler({ onAdd: (pod) => pod.status?.phase === 'Pending' && report(pod) });

  const cpuBefore = process.cpuUsage();
  const rssBefore = process.memoryUsage().rss;
  const template = { spec: { containers: [{ name: 'main', image: 'registry.example/app:1.0' }] } };

  // 1. Jobs of one pod each, to Complete.
  let started = performance.now();
  for (let i = 0; i < JOBS; i++) {
    await client.create(JOB_TYPE, 'bench', { metadata: { name: `job-${i}` }, spec: { template: { spec: { ...template.spec, restartPolicy: 'Never' } } } });
  }
  const jobsCreatedMs = performance.now() - started;
  const complete = () => client.list(JOB_TYPE, 'bench').then((l) => l.items.filter((j) => (j.status?.conditions ?? []).some((c: Obj) => c.type === 'Complete' && c.status === 'True')).length);
  await until(`${JOBS} Jobs complete`, async () => (await complete()) === JOBS);
  const jobsMs = performance.now() - started;

  // 2. A DaemonSet over many nodes: scheduled, available, then rolled out with maxUnavailable 10%.
  for (let i = 0; i < NODES; i++) await client.create(NODE_TYPE, undefined, { metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}` } } });
  started = performance.now();
  await client.create(DAEMON_SETS, 'bench', { metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } }, template: { metadata: { labels: { app: 'agent' } }, ...template } } });
  const ds = () => client.get(DAEMON_SETS, 'bench', 'agent').then((d) => d.status ?? {});
  await until('daemon pods available', async () => (await ds()).numberAvailable === NODES);
  const daemonAvailableMs = performance.now() - started;
  started = performance.now();
  await client.mutate(DAEMON_SETS, 'bench', 'agent', (d) => {
    d.spec.template.spec.containers[0].image = 'registry.example/app:2.0';
    return d;
  });
  await until('daemon rollout', async () => {
    const status = await ds();
    return status.observedGeneration === 2 && status.updatedNumberScheduled === NODES && status.numberAvailable === NODES;
  });
  const daemonRolloutMs = performance.now() - started;

  // 3. StatefulSets: Parallel to all ready, and OrderedReady one by one.
  const sts = (name: string, replicas: number, podManagementPolicy: string) => ({ metadata: { name }, spec: { replicas, podManagementPolicy, serviceName: name, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, ...template } } });
  started = performance.now();
  await client.create(STATEFUL_SETS, 'bench', sts('parallel', REPLICAS, 'Parallel'));
  await until('parallel set ready', async () => (await client.get(STATEFUL_SETS, 'bench', 'parallel')).status?.readyReplicas === REPLICAS);
  const parallelMs = performance.now() - started;
  started = performance.now();
  await client.create(STATEFUL_SETS, 'bench', sts('ordered', ORDERED, 'OrderedReady'));
  await until('ordered set ready', async () => (await client.get(STATEFUL_SETS, 'bench', 'ordered')).status?.readyReplicas === ORDERED);
  const orderedMs = performance.now() - started;

  const cpu = process.cpuUsage(cpuBefore);
  const rssAfter = process.memoryUsage().rss;
  await cp.stop();
  await rm(dir, { recursive: true, force: true });
  await writeResult('batch-controllers', {
    date: new Date().toISOString(),
    node: process.version,
    note: 'one process: API, store, controllers and the stand-in kubelet share the event loop; rough figures on a shared 2-core VM',
    jobs: { count: JOBS, createMs: Math.round(jobsCreatedMs), allCompleteMs: Math.round(jobsMs), jobsPerSecond: Math.round((JOBS / jobsMs) * 1000) },
    daemonSet: { nodes: NODES, allAvailableMs: Math.round(daemonAvailableMs), rollingUpdateMaxUnavailable10PercentMs: Math.round(daemonRolloutMs) },
    statefulSet: { parallelReplicas: REPLICAS, parallelAllReadyMs: Math.round(parallelMs), orderedReplicas: ORDERED, orderedAllReadyMs: Math.round(orderedMs), orderedMsPerPod: Math.round(orderedMs / ORDERED) },
    cpuSeconds: { user: Math.round(cpu.user / 1e4) / 100, system: Math.round(cpu.system / 1e4) / 100 },
    rssMiB: { before: mib(rssBefore), after: mib(rssAfter) },
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
