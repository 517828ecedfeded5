/**
 * The scale scenario (issue #13): load N nodes and M realistic pods over K namespaces into each
 * target, then measure kubectl-shaped requests at saturation (16 concurrent clients, each its own
 * HTTP/2 TLS connection, h2load for reads), writes, 1,000 watchers' event lag, memory by kind and
 * restart time. Several targets (two commits, or any kubeconfig) run one after the other in one
 * run, so their figures compare.
 *
 *   npm run bench -- load [--pods 150000] [--nodes 5000] [--namespaces 1000]
 *        [--server NAME=DIR ...] [--kubeconfig NAME=FILE ...] [--requests 20000] [--watchers 1000]
 *        [--virtual-nodes] [--out load] [--profile] [--trace-gc] [--server-log DIR]
 *
 * --virtual-nodes: the targets run `serve --virtual-nodes N` (simulated kubelets register the
 * nodes and run the pods) instead of the benchmark creating nodes and pod statuses itself.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { ClientPool, runConcurrently } from './lib/client.js';
import { h2load, requireH2load } from './lib/h2load.js';
import { latencyFigures, textTable, type LatencyFigures } from './lib/stats.js';
import { attachKubeconfig, splitNamed, startServer, type MemoryFigures, type Target } from './lib/target.js';
import * as objects from './lib/objects.js';
import { writeResult } from './common.js';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const JSON_ACCEPT = 'application/json';
const WATCH_NAMESPACE = 'bench-watch';
const WRITE_NAMESPACE = 'bench-writes';
const SENT_ANNOTATION = 'bench.nautilus.dev/sent';

interface Options {
  shape: objects.ClusterShape;
  requests: number;
  writes: number;
  watchers: number;
  watchRate: number;
  watchSeconds: number;
  walkers: number;
  concurrency: number;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      pods: { type: 'string', default: '150000' },
      nodes: { type: 'string', default: '5000' },
      namespaces: { type: 'string', default: '1000' },
      'pods-per-replicaset': { type: 'string', default: '30' },
      'virtual-nodes': { type: 'boolean', default: false },
      server: { type: 'string', multiple: true },
      kubeconfig: { type: 'string', multiple: true },
      token: { type: 'string', multiple: true },
      requests: { type: 'string', default: '20000' },
      writes: { type: 'string', default: '2000' },
      watchers: { type: 'string', default: '1000' },
      'watch-rate': { type: 'string', default: '10' },
      'watch-seconds': { type: 'string', default: '10' },
      walkers: { type: 'string', default: '4' },
      concurrency: { type: 'string', default: '16' },
      'server-arg': { type: 'string', multiple: true },
      profile: { type: 'boolean', default: false },
      'trace-gc': { type: 'boolean', default: false },
      'server-log': { type: 'string' },
      out: { type: 'string', default: 'load' },
    },
    strict: true,
  });
  requireH2load();
  const options: Options = {
    shape: { pods: Number(values.pods), nodes: Number(values.nodes), namespaces: Number(values.namespaces), podsPerReplicaSet: Number(values['pods-per-replicaset']), virtualNodes: values['virtual-nodes'] },
    requests: Number(values.requests),
    writes: Number(values.writes),
    watchers: Number(values.watchers),
    watchRate: Number(values['watch-rate']),
    watchSeconds: Number(values['watch-seconds']),
    walkers: Number(values.walkers),
    concurrency: Number(values.concurrency),
  };
  const servers = (values.server ?? (values.kubeconfig ? [] : ['current=.'])).map(splitNamed);
  const kubeconfigs = (values.kubeconfig ?? []).map(splitNamed);
  const tokens = new Map((values.token ?? []).map(splitNamed).map(({ name, value }) => [name, value]));
  const work = await mkdtemp(join(tmpdir(), 'nautilus-bench-load-'));
  if (values['server-log']) await mkdir(values['server-log'], { recursive: true });
  const results: Record<string, unknown> = {};
  try {
    for (const { name, value } of servers) {
      const nodeFlags = [...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve('bench/results/profiles', name)}`, '--heap-prof', `--heap-prof-dir=${resolve('bench/results/profiles', name)}`] : []), ...(values['trace-gc'] ? ['--trace-gc'] : [])];
      // The ReplicaSets own the pods (so the garbage collector keeps them) but do not manage them.
      const extraArgs = ['--controllers', '*,-replicaset-controller', '--memory-budget', '64Gi', ...(values['virtual-nodes'] ? ['--virtual-nodes', values.nodes!] : []), ...(values['server-arg'] ?? [])];
      const target = await startServer({ name, dir: value, dataDir: join(work, name), extraArgs, nodeFlags, logFile: values['server-log'] && resolve(values['server-log'], `${name}.log`) });
      results[name] = await measureTarget(target, options, value);
    }
    for (const { name, value } of kubeconfigs) {
      const target = await attachKubeconfig(name, value, tokens.get(name));
      results[name] = await measureTarget(target, options);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const names = Object.keys(results);
  process.stdout.write('\n' + summaryTable(names, results as Record<string, TargetResult>) + '\n');
  await writeResult(values.out!, { date: new Date().toISOString(), node: process.version, shape: options.shape, concurrency: options.concurrency, client: 'h2load for reads (one connection per client, one stream each); Node http2 for loading, writes and watches', targets: results });
}

interface TargetResult {
  source?: string;
  loadSeconds: Record<string, number>;
  memoryIdle?: MemoryFigures;
  memoryLoaded?: MemoryFigures;
  memoryAfterRun?: MemoryFigures;
  storedByKind: Record<string, { objects: number; bytes: number; bytesPerObject: number }>;
  residentBytesPerStoredPod?: number;
  latency: Record<string, LatencyFigures>;
  fullWalk?: { pages: number; perPage: LatencyFigures; walkMs: LatencyFigures };
  watch?: { watchers: number; updates: number; expected: number; delivered: number; lagMs: LatencyFigures };
  /** Until the process said it serves (every component started and synced). */
  restartMs?: number;
  /** Until the API answered a list again. */
  restartApiMs?: number;
  memoryAfterRestart?: MemoryFigures;
  /** Parses of stored versions (nautilus_storage_object_parses, where the target has it): after loading, after the run. */
  objectParses?: { loaded?: number; afterRun?: number };
}

async function measureTarget(target: Target, options: Options, source?: string): Promise<TargetResult> {
  const log = (message: string) => process.stderr.write(`[${target.name}] ${message}\n`);
  const result: TargetResult = { source, loadSeconds: {}, storedByKind: {}, latency: {} };
  const pool = await ClientPool.open(target.url, target.token, options.concurrency);
  try {
    result.memoryIdle = await target.memory();
    const loaded = await load(pool, options, result, log);
    result.memoryLoaded = await target.memory();
    result.storedByKind = await storedByKind(pool);
    result.objectParses = { loaded: await objectParses(pool) };
    if (result.memoryLoaded && result.memoryIdle) {
      result.residentBytesPerStoredPod = Math.round((result.memoryLoaded.rss - result.memoryIdle.rss) / options.shape.pods);
    }
    log(`loaded; rss ${mib(result.memoryLoaded?.rss)} MiB, heap ${mib(result.memoryLoaded?.heapUsed)} MiB`);
    await measureReads(target, options, loaded, result, log);
    result.fullWalk = await fullWalk(pool, options, log);
    await measureWrites(pool, options, loaded, result, log);
    result.watch = await watchLag(pool, options, log);
    result.memoryAfterRun = await target.memory();
    result.objectParses.afterRun = await objectParses(pool);
  } finally {
    pool.close();
  }
  if (target.restart) {
    log('restarting from the data directory');
    const restart = await target.restart();
    result.restartMs = Math.round(restart.componentsMs);
    result.restartApiMs = Math.round(restart.apiMs);
    // Serving is not the end of recovery if reads are still slow: one list proves the data is back.
    const again = await ClientPool.open(target.url, target.token, 1);
    const res = await again.expect('GET', `/api/v1/namespaces/${objects.namespaceName(0)}/pods`, undefined, { accept: JSON_ACCEPT });
    again.close();
    if (JSON.parse(res.body.toString()).items.length === 0) throw new Error(`${target.name}: no pods after restart`);
    result.memoryAfterRestart = await target.memory();
    log(`restart: API answering after ${result.restartApiMs} ms, every component started after ${result.restartMs} ms`);
  }
  await target.stop();
  return result;
}

interface Loaded {
  podPaths: string[];
  owners: Map<string, { name: string; uid: string }>;
}

async function load(pool: ClientPool, options: Options, result: TargetResult, log: (m: string) => void): Promise<Loaded> {
  const { shape, concurrency } = options;
  const parallel = concurrency * 8;
  let started = performance.now();
  const namespaces = [...Array.from({ length: shape.namespaces }, (_, n) => objects.namespaceName(n)), WATCH_NAMESPACE, WRITE_NAMESPACE];
  await runConcurrently(namespaces.length, parallel, async (i) => {
    await pool.expect('POST', '/api/v1/namespaces', objects.namespace(namespaces[i]));
  });
  result.loadSeconds.namespaces = seconds(started);

  started = performance.now();
  const owners = new Map<string, { name: string; uid: string }>();
  const perNamespace = objects.replicaSetsPerNamespace(shape);
  const replicaSetsToMake: { namespace: string; index: number; app: string }[] = [];
  for (let n = 0; n < shape.namespaces; n++) for (let r = 0; r < perNamespace; r++) replicaSetsToMake.push({ namespace: objects.namespaceName(n), index: r, app: objects.appName(r * 7 + n) });
  for (const namespace of [WATCH_NAMESPACE, WRITE_NAMESPACE]) replicaSetsToMake.push({ namespace, index: 0, app: objects.appName(0) });
  await runConcurrently(replicaSetsToMake.length, parallel, async (i) => {
    const { namespace, index, app } = replicaSetsToMake[i];
    const res = await pool.expect('POST', `/apis/apps/v1/namespaces/${namespace}/replicasets?fieldManager=kube-controller-manager`, objects.replicaSet(namespace, index, app, shape.podsPerReplicaSet));
    const created = JSON.parse(res.body.toString());
    owners.set(`${namespace}/${index}`, { name: created.metadata.name, uid: created.metadata.uid });
  });
  result.loadSeconds.replicaSets = seconds(started);

  started = performance.now();
  if (shape.virtualNodes) {
    // The server's simulated kubelets register their nodes (and later run the pods).
    const deadline = performance.now() + 300_000;
    for (;;) {
      const count = JSON.parse((await pool.expect('GET', '/api/v1/nodes', undefined, { accept: JSON_ACCEPT })).body.toString()).items.length;
      if (count >= shape.nodes) break;
      if (performance.now() > deadline) throw new Error(`only ${count} of ${shape.nodes} virtual nodes registered`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } else {
    await runConcurrently(shape.nodes, parallel, async (i) => {
      await pool.expect('POST', '/api/v1/nodes?fieldManager=kubelet', objects.node(shape, i));
    });
  }
  result.loadSeconds.nodes = seconds(started);

  started = performance.now();
  const podPaths: string[] = new Array(shape.pods);
  let done = 0;
  await runConcurrently(shape.pods, parallel, async (i) => {
    const place = objects.podPlace(shape, i);
    await createRunningPod(pool, shape, place, owners.get(`${place.namespace}/${place.replicaSet}`)!, i);
    podPaths[i] = `/api/v1/namespaces/${place.namespace}/pods/${place.name}`;
    if (++done % 10_000 === 0) log(`${done} pods (${Math.round(done / seconds(started))}/s)`);
  });
  // The watched namespace: pods the watch scenario updates.
  for (let i = 0; i < 50; i++) {
    const place = { ...objects.podPlace(shape, i), namespace: WATCH_NAMESPACE, replicaSet: 0, name: `watched-${i}` };
    await createRunningPod(pool, shape, place, owners.get(`${WATCH_NAMESPACE}/0`)!, i);
  }
  result.loadSeconds.pods = seconds(started);
  result.loadSeconds.podsPerSecond = Math.round(shape.pods / result.loadSeconds.pods);
  return { podPaths, owners };
}

/** Created as a ReplicaSet would, then marked Running as a kubelet would (unless the server's virtual kubelets do). */
async function createRunningPod(pool: ClientPool, shape: objects.ClusterShape, place: ReturnType<typeof objects.podPlace>, owner: { name: string; uid: string }, i: number): Promise<void> {
  const base = `/api/v1/namespaces/${place.namespace}/pods`;
  for (let attempt = 0; ; attempt++) {
    const res = await pool.request('POST', `${base}?fieldManager=kube-controller-manager`, objects.pod(place, owner));
    if (res.status === 201) break;
    // A new namespace has no default ServiceAccount until its controller made one: admission
    // refuses pods meanwhile, and a ReplicaSet controller would retry, as this does.
    if (res.status !== 403 || !res.body.toString().includes('serviceaccount') || attempt >= 100) throw new Error(`create pod ${place.namespace}/${place.name} answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (shape.virtualNodes) return;
  await pool.expect('PATCH', `${base}/${place.name}/status?fieldManager=kubelet`, objects.runningPodStatus(i), { 'content-type': 'application/merge-patch+json' });
}

async function storedByKind(pool: ClientPool): Promise<TargetResult['storedByKind']> {
  const res = await pool.request('GET', '/metrics');
  const text = res.body.toString();
  const byKind: TargetResult['storedByKind'] = {};
  for (const match of text.matchAll(/^apiserver_storage_objects\{resource="([^"]+)"\} (\d+)/gm)) {
    const objectsCount = Number(match[2]);
    if (objectsCount === 0) continue;
    const bytes = Number(text.match(new RegExp(`^nautilus_storage_bytes\\{resource="${match[1].replace(/\./g, '\\.')}"\\} (\\d+)`, 'm'))?.[1] ?? NaN);
    byKind[match[1]] = { objects: objectsCount, bytes, bytesPerObject: Math.round(bytes / objectsCount) };
  }
  return byKind;
}

async function objectParses(pool: ClientPool): Promise<number | undefined> {
  const text = (await pool.request('GET', '/metrics')).body.toString();
  const match = text.match(/^nautilus_storage_object_parses (\d+)/m);
  return match ? Number(match[1]) : undefined;
}

function sample<T>(items: T[], count: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(items[Math.floor((i * 7919) % items.length)]);
  return out;
}

async function measureReads(target: Target, options: Options, loaded: Loaded, result: TargetResult, log: (m: string) => void): Promise<void> {
  const { shape, requests, concurrency } = options;
  const scaled = (n: number) => Math.max(concurrency * 4, Math.round(n));
  const runs: [string, Parameters<typeof h2load>[2]][] = [
    ['get pod', { paths: sample(loaded.podPaths, 2000), requests: scaled(requests), headers: { accept: JSON_ACCEPT } }],
    ['get node', { paths: sample(Array.from({ length: shape.nodes }, (_, i) => `/api/v1/nodes/${objects.nodeName(shape, i)}`), 2000), requests: scaled(requests), headers: { accept: JSON_ACCEPT } }],
    ['namespace pods as Table', { paths: Array.from({ length: Math.min(200, shape.namespaces) }, (_, n) => `/api/v1/namespaces/${objects.namespaceName((n * 7) % shape.namespaces)}/pods?limit=500`), requests: scaled(requests / 10), headers: { accept: TABLE } }],
    ['all pods Table limit=500, first page', { paths: ['/api/v1/pods?limit=500'], requests: scaled(requests / 40), headers: { accept: TABLE } }],
    ['label-selected pods Table (all namespaces)', { paths: Array.from({ length: 20 }, (_, k) => `/api/v1/pods?labelSelector=app%3D${objects.appName(k * 5)}&limit=500`), requests: scaled(requests / 40), headers: { accept: TABLE } }],
    ['node pods (spec.nodeName), JSON', { paths: Array.from({ length: 50 }, (_, k) => `/api/v1/pods?fieldSelector=spec.nodeName%3D${objects.nodeName(shape, k * 13)}`), requests: scaled(requests / 10), headers: { accept: JSON_ACCEPT } }],
  ];
  for (const [name, run] of runs) {
    result.latency[name] = await h2load(target.url, target.token, { ...run, clients: concurrency });
    log(`${name}: ${JSON.stringify(result.latency[name])}`);
  }
  // Throughput with more streams per connection than a kubectl would use.
  result.latency['get pod throughput (8 conns x 16 streams)'] = await h2load(target.url, target.token, { paths: sample(loaded.podPaths, 2000), requests: scaled(requests * 2), clients: 8, streams: 16, headers: { accept: JSON_ACCEPT } });
  log(`get throughput: ${result.latency['get pod throughput (8 conns x 16 streams)'].perSecond}/s`);
}

async function fullWalk(pool: ClientPool, options: Options, log: (m: string) => void): Promise<TargetResult['fullWalk']> {
  const pageMs: number[] = [];
  const walkMs: number[] = [];
  await runConcurrently(options.walkers, options.walkers, async (_i, worker) => {
    const walkStart = performance.now();
    let token = '';
    do {
      const t = performance.now();
      const res = await pool.request('GET', `/api/v1/pods?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`, undefined, { accept: TABLE }, worker);
      pageMs.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`walk answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
      token = JSON.parse(res.body.toString()).metadata.continue ?? '';
    } while (token);
    walkMs.push(performance.now() - walkStart);
  });
  const figures = latencyFigures(pageMs);
  log(`full walk by ${options.walkers} walkers, per page: ${JSON.stringify(figures)}`);
  return { pages: pageMs.length, perPage: figures, walkMs: latencyFigures(walkMs) };
}

async function measureWrites(pool: ClientPool, options: Options, loaded: Loaded, result: TargetResult, log: (m: string) => void): Promise<void> {
  const owner = loaded.owners.get(`${WRITE_NAMESPACE}/0`)!;
  const base = `/api/v1/namespaces/${WRITE_NAMESPACE}/pods`;
  const count = options.writes;
  const created: { name: string; object: Record<string, any> }[] = new Array(count);
  const timed = async (label: string, task: (i: number, worker: number) => Promise<void>) => {
    const samples: number[] = [];
    const started = performance.now();
    await runConcurrently(count, options.concurrency, async (i, worker) => {
      const t = performance.now();
      await task(i, worker);
      samples.push(performance.now() - t);
    });
    result.latency[label] = latencyFigures(samples, seconds(started));
    log(`${label}: ${JSON.stringify(result.latency[label])}`);
  };
  const check = (res: { status: number; body: Buffer }, what: string) => {
    if (res.status >= 300) throw new Error(`${what} answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
    return res;
  };
  await timed('create pod', async (i, worker) => {
    const place = { ...objects.podPlace(options.shape, i), namespace: WRITE_NAMESPACE, replicaSet: 0, name: `written-${i}` };
    const res = check(await pool.request('POST', `${base}?fieldManager=kube-controller-manager`, objects.pod(place, owner), {}, worker), 'create');
    created[i] = { name: place.name, object: JSON.parse(res.body.toString()) };
  });
  await timed('update pod (PUT)', async (i, worker) => {
    const object = created[i].object;
    object.metadata.labels = { ...object.metadata.labels, revision: 'two' };
    check(await pool.request('PUT', `${base}/${created[i].name}?fieldManager=kubectl-edit`, object, {}, worker), 'update');
  });
  await timed('patch pod (strategic merge)', async (i, worker) => {
    check(await pool.request('PATCH', `${base}/${created[i].name}?fieldManager=kubectl-annotate`, { metadata: { annotations: { 'bench/patched': String(i) } } }, { 'content-type': 'application/strategic-merge-patch+json' }, worker), 'patch');
  });
  await timed('delete pod', async (i, worker) => {
    check(await pool.request('DELETE', `${base}/${created[i].name}`, undefined, {}, worker), 'delete');
  });
}

async function watchLag(pool: ClientPool, options: Options, log: (m: string) => void): Promise<TargetResult['watch']> {
  const list = await pool.expect('GET', `/api/v1/namespaces/${WATCH_NAMESPACE}/pods`, undefined, { accept: JSON_ACCEPT });
  const resourceVersion = JSON.parse(list.body.toString()).metadata.resourceVersion;
  const lags: number[] = [];
  const marker = `"${SENT_ANNOTATION}":"`;
  let delivered = 0;
  const streams = Array.from({ length: options.watchers }, (_, w) =>
    pool.stream(
      `/api/v1/namespaces/${WATCH_NAMESPACE}/pods?watch=1&resourceVersion=${resourceVersion}&allowWatchBookmarks=true`,
      (line) => {
        const at = line.indexOf(marker);
        if (at < 0) return;
        const sent = Number(line.slice(at + marker.length, line.indexOf('"', at + marker.length)));
        lags.push(performance.now() - sent);
        delivered++;
      },
      w,
    ),
  );
  // Let every watch be registered before the first update.
  await new Promise((r) => setTimeout(r, 2000));
  const updates = Math.round(options.watchRate * options.watchSeconds);
  const interval = 1000 / options.watchRate;
  const started = performance.now();
  for (let u = 0; u < updates; u++) {
    const due = started + u * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const body = { metadata: { annotations: { [SENT_ANNOTATION]: String(performance.now()) } } };
    await pool.expect('PATCH', `/api/v1/namespaces/${WATCH_NAMESPACE}/pods/watched-${u % 50}`, body, { 'content-type': 'application/merge-patch+json' });
  }
  const expected = updates * options.watchers;
  const deadline = performance.now() + 15_000;
  while (delivered < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const s of streams) s.close();
  const lagMs = latencyFigures(lags);
  log(`watch lag with ${options.watchers} watchers: ${JSON.stringify(lagMs)}, ${delivered}/${expected} delivered`);
  return { watchers: options.watchers, updates, expected, delivered, lagMs };
}

const seconds = (since: number) => Math.round((performance.now() - since) / 10) / 100;
const mib = (bytes: number | undefined) => (bytes === undefined ? '?' : Math.round(bytes / 2 ** 20));

function summaryTable(names: string[], results: Record<string, TargetResult>): string {
  const rows: (string | number)[][] = [['measure', ...names.flatMap((n) => [`${n} p50`, `${n} p99`, `${n} p999`])]];
  const latencyNames = [...new Set(names.flatMap((n) => Object.keys(results[n].latency)))];
  const cells = (f: LatencyFigures | undefined): (string | number)[] => (f ? [f.p50, f.p99, f.p999] : ['', '', '']);
  for (const label of latencyNames) rows.push([`${label} (ms)`, ...names.flatMap((n) => cells(results[n].latency[label]))]);
  rows.push(['full walk, per page (ms)', ...names.flatMap((n) => cells(results[n].fullWalk?.perPage))]);
  rows.push(['watch lag (ms)', ...names.flatMap((n) => cells(results[n].watch?.lagMs))]);
  const single = (label: string, value: (r: TargetResult) => string | number | undefined) => rows.push([label, ...names.flatMap((n): (string | number)[] => [value(results[n]) ?? '', '', ''])]);
  single('get pod throughput (req/s)', (r) => r.latency['get pod throughput (8 conns x 16 streams)']?.perSecond);
  single('get pod, 16 clients (req/s)', (r) => r.latency['get pod']?.perSecond);
  single('create pod (req/s)', (r) => r.latency['create pod']?.perSecond);
  single('pods loaded (create + status, pods/s)', (r) => r.loadSeconds.podsPerSecond);
  single('RSS loaded (MiB)', (r) => mib(r.memoryLoaded?.rss));
  single('heap used loaded (MiB)', (r) => mib(r.memoryLoaded?.heapUsed));
  single('RSS after run (MiB)', (r) => mib(r.memoryAfterRun?.rss));
  single('resident bytes per pod', (r) => r.residentBytesPerStoredPod);
  single('stored bytes per pod', (r) => r.storedByKind.pods?.bytesPerObject);
  single('stored bytes per node', (r) => r.storedByKind.nodes?.bytesPerObject);
  single('objects parsed: loading / whole run', (r) => (r.objectParses?.loaded === undefined ? undefined : `${r.objectParses.loaded} / ${r.objectParses.afterRun}`));
  single('restart until the API answers (ms)', (r) => r.restartApiMs);
  single('restart until every component runs (ms)', (r) => r.restartMs);
  single('RSS after restart (MiB)', (r) => mib(r.memoryAfterRestart?.rss));
  single('watch events delivered / expected', (r) => (r.watch ? `${r.watch.delivered}/${r.watch.expected}` : undefined));
  return textTable(rows);
}
