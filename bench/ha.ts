/**
 * HA benchmark: pod-create throughput and latency, and GET p99, with the etcd backend (3-member
 * etcd on loopback, 3 replicas) against the local sealed WAL, measured in the same run; and the
 * followers' lag under that create load (when a write shows in a follower's watch after it showed
 * in the leader's, and the lag gauge on /metrics).
 * Needs Debian's etcd-server and etcd-client. Run: npm run build && node dist/bench/ha.js
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:http2';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import { adminClient, summarize, writeResult, type AdminClient } from './common.js';
import { etcdMissing, startEtcdCluster } from '../test/e2e/etcd-cluster.js';

const WRITES = Number(process.env.WRITES ?? 5_000);
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 64);
const GETS = Number(process.env.GETS ?? 2_000);

interface Server {
  url: string;
  kubeconfig: string;
  process: ChildProcess;
}

async function serve(dataDir: string, args: string[]): Promise<Server> {
  const child = spawn(process.execPath, [resolve('dist/src/cli/main.js'), 'serve', '--port', '0', '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' } });
  const url = await new Promise<string>((ready, fail) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = out.match(/serving at (https:\/\/\S+?);/);
      if (match) ready(match[1]!);
    });
    child.once('exit', (code) => fail(new Error(`serve exited ${code}`)));
  });
  return { url, kubeconfig: join(dataDir, 'admin.kubeconfig'), process: child };
}

function createLoad(kubeconfig: string): Promise<{ writesPerSecond: number; latencyMs: ReturnType<typeof summarize> }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve('dist/bench/create-load.js'), kubeconfig, String(WRITES), String(IN_FLIGHT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.once('exit', (code) => (code === 0 ? done(JSON.parse(output)) : fail(new Error(`create-load exited ${code}`))));
  });
}

async function post(client: AdminClient, path: string, body: unknown): Promise<number> {
  return new Promise((done, fail) => {
    const req = client.session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json' });
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', () => undefined);
    req.on('end', () => done(status));
    req.on('error', fail);
    req.end(JSON.stringify(body));
  });
}

/** Sequential GETs of one pod: p50/p99 of the HTTP/2 round trip. */
async function getLatency(client: AdminClient, query = ''): Promise<ReturnType<typeof summarize>> {
  const samples: number[] = [];
  for (let i = 0; i < GETS; i++) {
    const t = performance.now();
    const answer = await client.get(`/api/v1/namespaces/bench/pods/pod-${i % 1000}${query}`);
    samples.push(performance.now() - t);
    if (answer.status !== 200) throw new Error(`GET answered ${answer.status}`);
  }
  return summarize(samples);
}

/** Watches bench pods on one server, noting when each name was first seen (this process's clock). */
async function watchTimes(server: Server, seen: Map<string, number>): Promise<() => void> {
  const config = parse(await readFile(server.kubeconfig, 'utf8'));
  const b64 = (s: string) => Buffer.from(s, 'base64');
  const session = connect(server.url, { ca: b64(config.clusters[0].cluster['certificate-authority-data']), cert: b64(config.users[0].user['client-certificate-data']), key: b64(config.users[0].user['client-key-data']) });
  session.on('error', () => undefined);
  const stream = session.request({ ':path': '/api/v1/namespaces/bench/pods?watch=1' });
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    const now = performance.now();
    buffered += chunk.toString();
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const name = /"name":"([^"]+)"/.exec(buffered.slice(0, newline))?.[1];
      if (name && !seen.has(name)) seen.set(name, now);
      buffered = buffered.slice(newline + 1);
    }
  });
  return () => session.destroy();
}

async function isLeader(client: AdminClient): Promise<boolean> {
  return /^nautilus_storage_is_leader 1/m.test((await client.get('/metrics')).body.toString());
}

async function main(): Promise<void> {
  const missing = etcdMissing();
  if (missing) throw new Error(missing);
  const base = await mkdtemp(join(tmpdir(), 'nautilus-bench-ha-'));
  const children: ChildProcess[] = [];
  const etcd = await startEtcdCluster(3);
  try {
    // Local WAL, alone on the machine.
    const local = await serve(join(base, 'local'), []);
    children.push(local.process);
    const localClient = await adminClient(local.kubeconfig);
    await post(localClient, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    const localCreate = await createLoad(local.kubeconfig);
    const localGet = await getLatency(localClient);
    localClient.close();
    local.process.kill('SIGKILL');

    // Three replicas on etcd.
    const args = ['--storage', 'etcd', '--etcd-endpoints', etcd.endpoints.join(',')];
    const dirs = [0, 1, 2].map((i) => join(base, `replica-${i}`));
    const replicas: Server[] = [await serve(dirs[0]!, args)];
    for (const dir of dirs.slice(1)) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await copyFile(join(dirs[0]!, 'data.key'), join(dir, 'data.key'));
      await cp(join(dirs[0]!, 'pki'), join(dir, 'pki'), { recursive: true });
    }
    replicas.push(...(await Promise.all(dirs.slice(1).map((dir) => serve(dir, args)))));
    children.push(...replicas.map((r) => r.process));
    const clients = await Promise.all(replicas.map((r) => adminClient(r.kubeconfig)));
    const leaderIndex = (await Promise.all(clients.map(isLeader))).indexOf(true);
    const followerIndex = [0, 1, 2].find((i) => i !== leaderIndex)!;
    const leader = replicas[leaderIndex]!;
    await post(clients[leaderIndex]!, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });

    const onLeader = new Map<string, number>();
    const onFollower = new Map<string, number>();
    const stopWatches = [await watchTimes(leader, onLeader), await watchTimes(replicas[followerIndex]!, onFollower)];
    const lagSamples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const metrics = (await clients[followerIndex]!.get('/metrics')).body.toString();
        const lag = Number(/^nautilus_storage_follower_lag_revisions (-?\d+)/m.exec(metrics)?.[1] ?? NaN);
        if (lag >= 0) lagSamples.push(lag);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const etcdCreate = await createLoad(leader.kubeconfig);
    sampling = false;
    await sampler;
    await new Promise((r) => setTimeout(r, 1000));
    stopWatches.forEach((stop) => stop());
    const visibleLag = [...onLeader].filter(([name]) => onFollower.has(name)).map(([name, t]) => Math.max(0, onFollower.get(name)! - t));

    const leaderGet = await getLatency(clients[leaderIndex]!);
    const followerGet = await getLatency(clients[followerIndex]!);
    const followerCachedGet = await getLatency(clients[followerIndex]!, '?resourceVersion=0');
    clients.forEach((client) => client.close());

    const result = {
      date: new Date().toISOString(),
      node: process.version,
      machine: 'shared 2-core VM; rough figures, compare within this run',
      writes: WRITES,
      inFlight: IN_FLIGHT,
      localWal: { create: localCreate, getMs: localGet },
      etcd: {
        members: 3,
        replicas: 3,
        createOnLeader: etcdCreate,
        createRatioToLocal: Math.round((etcdCreate.writesPerSecond / localCreate.writesPerSecond) * 100) / 100,
        getOnLeaderMs: leaderGet,
        getOnFollowerConsistentMs: followerGet,
        getOnFollowerResourceVersion0Ms: followerCachedGet,
        followerLag: {
          visibleAfterLeaderMs: summarize(visibleLag),
          writesSeenByBoth: visibleLag.length,
          lagRevisionsSampled: summarize(lagSamples),
        },
      },
    };
    await writeResult('ha', result);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await etcd.stop();
    await rm(base, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
