/**
 * Controller benchmark: DEPLOYMENTS (1,000) Deployments of REPLICAS (10) each, created over
 * HTTP/2 against a separate `nautilus serve --ephemeral` process, until every one is complete
 * (all replicas updated and available). There are no node agents: the benchmark plays the
 * kubelets, marking each pod Running and Ready through pods/status as soon as a watch shows it.
 *
 * Figures: time to all-available, the server's CPU seconds over that time (from /proc, so the
 * benchmark's own work is not counted), and the server's RSS before and after.
 * Run: npm run build && node dist/bench/deployments.js   (bounded by TIMEOUT_S, default 900)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { adminClient, writeResult, type AdminClient, cpuSeconds, rssMiB } from './common.js';

const DEPLOYMENTS = Number(process.env.DEPLOYMENTS ?? 1_000);
const REPLICAS = Number(process.env.REPLICAS ?? 10);
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 32);
const TIMEOUT_S = Number(process.env.TIMEOUT_S ?? 900);
const NAMESPACE = 'bench';

function deployment(i: number) {
  const app = `app-${i}`;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `web-${i}`, namespace: NAMESPACE },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { app } },
      template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'main', image: 'registry.example/app:1.0', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
    },
  };
}

function readyStatus(pod: { spec: { containers: Array<{ name: string; image: string }> } }) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
  return {
    status: {
      phase: 'Running',
      conditions: [condition('Initialized'), condition('Ready'), condition('ContainersReady'), condition('PodScheduled')],
      startTime: now,
      containerStatuses: pod.spec.containers.map((c) => ({ name: c.name, image: c.image, imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } })),
    },
  };
}

/** Runs `task` over `items` with at most `limit` at once. */
async function pool<T>(items: Iterable<T>, limit: number, task: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let next = iterator.next(); !next.done; next = iterator.next()) await task(next.value);
    }),
  );
}

/**
 * Follows a collection as an informer does: list, then watch from the list's resourceVersion;
 * when the server ends the watch (a watcher that falls too far behind is cut off), list again.
 * `onObject` sees every object of every list and every watch event but deletions.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function follow(client: AdminClient, path: string, onObject: (object: any) => void): { stop(): void } {
  let stopped = false;
  let current: { close(): void } | undefined;
  void (async () => {
    while (!stopped) {
      try {
        const list = JSON.parse((await client.get(path)).body.toString());
        for (const item of list.items ?? []) onObject(item);
        const separator = path.includes('?') ? '&' : '?';
        const watch = client.stream(`${path}${separator}watch=true&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=${TIMEOUT_S}`, (line) => {
          const event = JSON.parse(line);
          if (event.type !== 'DELETED' && event.object?.metadata) onObject(event.object);
        });
        current = watch;
        await watch.done;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();
  return {
    stop() {
      stopped = true;
      current?.close();
    },
  };
}

/**
 * The stand-in kubelets: they follow the namespace's Pending pods and mark each Running and
 * Ready (then it leaves the selection), at most IN_FLIGHT at a time.
 */
function startKubelets(watchClient: AdminClient, clients: AdminClient[]) {
  const waiting: Array<{ name: string; spec: { containers: Array<{ name: string; image: string }> } }> = [];
  const marked = new Set<string>();
  let active = 0;
  let failures = 0;
  let lastFailure = '';
  let next = 0;
  const pump = () => {
    while (active < IN_FLIGHT && waiting.length > 0) {
      const pod = waiting.shift()!;
      active++;
      clients[next++ % clients.length]
        .request('PATCH', `/api/v1/namespaces/${NAMESPACE}/pods/${pod.name}/status`, readyStatus(pod), { 'content-type': 'application/merge-patch+json' })
        .then((response) => {
          if (response.status !== 200 && response.status !== 404) {
            failures++;
            lastFailure = `${response.status} ${response.body.toString().slice(0, 200)}`;
            marked.delete(pod.name);
          }
        })
        .catch((error) => {
          failures++;
          lastFailure = String(error);
          marked.delete(pod.name);
        })
        .finally(() => {
          active--;
          pump();
        });
    }
  };
  const pods = follow(watchClient, `/api/v1/namespaces/${NAMESPACE}/pods?fieldSelector=status.phase%3DPending`, (pod) => {
    if (pod.metadata.deletionTimestamp || marked.has(pod.metadata.name)) return;
    marked.add(pod.metadata.name);
    waiting.push({ name: pod.metadata.name, spec: pod.spec });
    pump();
  });
  return {
    stop: () => pods.stop(),
    get marked() {
      return marked.size;
    },
    get failures() {
      return failures;
    },
    progress: () => ({ marked: marked.size, inFlight: active, waiting: waiting.length, failures, lastFailure }),
  };
}

/** Resolves once every deployment reports all replicas updated and available for its latest generation. */
function waitForAllAvailable(client: AdminClient, deadline: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const complete = new Set<string>();
    const timer = setTimeout(() => {
      deployments.stop();
      reject(new Error(`timed out: ${complete.size} of ${DEPLOYMENTS} deployments available`));
    }, deadline - Date.now());
    const deployments = follow(client, `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`, (d) => {
      const s = d.status ?? {};
      const done = s.observedGeneration >= d.metadata.generation && s.updatedReplicas === REPLICAS && s.availableReplicas === REPLICAS && s.replicas === REPLICAS;
      if (done) complete.add(d.metadata.name);
      else complete.delete(d.metadata.name);
      if (complete.size === DEPLOYMENTS) {
        clearTimeout(timer);
        deployments.stop();
        resolvePromise(performance.now());
      }
    });
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-bench-deployments-'));
  // SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the server.
  const nodeArgs = (process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server = spawn(process.execPath, [...nodeArgs, resolve('dist/src/cli/main.js'), 'serve', '--port', '0', '--address', '127.0.0.1', '--data-dir', dir, '--ephemeral'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NAUTILUS_LOG_LEVEL: process.env.NAUTILUS_LOG_LEVEL ?? 'error' } });
  const deadline = Date.now() + TIMEOUT_S * 1000;
  try {
    await new Promise<void>((resolvePromise, reject) => {
      let out = '';
      server.stdout!.on('data', (c: Buffer) => (out += c) && out.includes('serving at') && resolvePromise());
      server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const pid = server.pid!;
    // Kubelets and watchers each have their own connection, as on a real cluster: one HTTP/2
    // session carrying the watches and every write would hit the server's per-session limits.
    const kubeconfig = join(dir, 'admin.kubeconfig');
    const client = await adminClient(kubeconfig);
    const podWatchClient = await adminClient(kubeconfig);
    const deploymentWatchClient = await adminClient(kubeconfig);
    const writers = await Promise.all(Array.from({ length: 8 }, () => adminClient(kubeconfig)));
    const created = await client.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    if (created.status !== 201) throw new Error(`namespace: ${created.status} ${created.body}`);
    const rssBefore = await rssMiB(pid);
    const cpuBefore = await cpuSeconds(pid);

    const started = performance.now();
    const kubelets = startKubelets(podWatchClient, writers);
    const allAvailable = waitForAllAvailable(deploymentWatchClient, deadline);
    const progress = setInterval(() => process.stderr.write(`${Math.round((performance.now() - started) / 1000)}s ${JSON.stringify(kubelets.progress())}\n`), 10_000);
    let createErrors = 0;
    await pool(
      Array.from({ length: DEPLOYMENTS }, (_, i) => i),
      IN_FLIGHT,
      async (i) => {
        const response = await writers[i % writers.length].request('POST', `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`, deployment(i));
        if (response.status !== 201) createErrors++;
      },
    );
    const createdMs = performance.now() - started;
    const finished = await allAvailable.finally(() => clearInterval(progress));
    const totalMs = finished - started;
    const cpuAfter = await cpuSeconds(pid);
    const rssAfter = await rssMiB(pid);
    kubelets.stop();

    const metrics = (await client.get('/metrics')).body.toString();
    const storedPods = Number(/^apiserver_storage_objects\{resource="pods"\} (\d+)/m.exec(metrics)?.[1] ?? NaN);
    const storedReplicaSets = Number(/^apiserver_storage_objects\{resource="replicasets.apps"\} (\d+)/m.exec(metrics)?.[1] ?? NaN);
    const storedEvents = Number(/^apiserver_storage_objects\{resource="events"\} (\d+)/m.exec(metrics)?.[1] ?? NaN);
    const storedBytes = [...metrics.matchAll(/^nautilus_storage_bytes\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    const heapUsed = Number(/^nautilus_heap_used_bytes (\d+)/m.exec(metrics)?.[1] ?? NaN);
    for (const c of [client, podWatchClient, deploymentWatchClient, ...writers]) c.close();

    await writeResult('deployments', {
      date: new Date().toISOString(),
      node: process.version,
      deployments: DEPLOYMENTS,
      replicasEach: REPLICAS,
      clientInFlight: IN_FLIGHT,
      note: 'separate server process on a shared 2-core VM: rough figures. The benchmark plays the kubelets (marks pods Ready via pods/status); there are no node agents or scheduler.',
      createDeploymentsMs: Math.round(createdMs),
      allAvailableMs: Math.round(totalMs),
      podsPerSecond: Math.round((DEPLOYMENTS * REPLICAS) / (totalMs / 1000)),
      serverCpuSeconds: Math.round((cpuAfter - cpuBefore) * 10) / 10,
      serverCpuCoresBusy: Math.round(((cpuAfter - cpuBefore) / (totalMs / 1000)) * 100) / 100,
      serverRssMiB: { before: rssBefore, after: rssAfter },
      serverHeapUsedMiBAfter: Math.round(heapUsed / 2 ** 20),
      storedObjectBytesMiB: Math.round(storedBytes / 2 ** 20),
      stored: { pods: storedPods, replicaSets: storedReplicaSets, events: storedEvents },
      podsMarkedReady: kubelets.marked,
      errors: { createDeployment: createErrors, markReady: kubelets.failures },
    });
  } finally {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
