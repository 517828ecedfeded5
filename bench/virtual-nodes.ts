/**
 * Virtual nodes at scale: `serve --virtual-nodes N` with P pods bound round-robin, then a
 * separate `nautilus nodes` process. Reports the server's and the agent's RSS, the server's CPU
 * at steady state (heartbeats only), the time until all pods are Running, and GET/LIST p99 while
 * the heartbeats run — against a baseline server without nodes measured in the same run.
 *
 *   node dist/bench/virtual-nodes.js [--nodes 5000] [--pods 150000] [--agent-nodes 500] [--steady-seconds 30]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { adminClient, summarize, writeResult, type AdminClient, cpuSeconds, rssMiB } from './common.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const { values } = parseArgs({ options: { nodes: { type: 'string', default: '5000' }, pods: { type: 'string', default: '150000' }, 'agent-nodes': { type: 'string', default: '500' }, 'steady-seconds': { type: 'string', default: '30' }, name: { type: 'string', default: 'virtual-nodes' } } });
const NODES = Number(values.nodes);
const PODS = Number(values.pods);
const AGENT_NODES = Number(values['agent-nodes']);
const STEADY_MS = Number(values['steady-seconds']) * 1000;
const DEADLINE_MS = 30 * 60_000;
const started = Date.now();
const progress = (message: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${message}\n`);

async function startServe(args: string[]): Promise<{ child: ChildProcess; dir: string; kubeconfig: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-bench-vn-'));
  const child = spawn(process.execPath, ['--max-old-space-size=12288', MAIN, 'serve', '--port', '0', '--data-dir', dir, '--ephemeral', '--memory-budget', '16Gi', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' } });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      if (/serving at/.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return { child, dir, kubeconfig: join(dir, 'admin.kubeconfig') };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function count(client: AdminClient, path: string): Promise<number> {
  const response = await client.get(`${path}${path.includes('?') ? '&' : '?'}limit=1`);
  const body = JSON.parse(response.body.toString());
  return (body.items?.length ?? 0) + (body.metadata?.remainingItemCount ?? 0);
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<number> {
  const from = Date.now();
  while (!(await check())) {
    if (Date.now() - started > DEADLINE_MS) throw new Error(`${what}: deadline passed`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return (Date.now() - from) / 1000;
}

/** GET one pod and LIST 50 nodes, `n` times each, sequentially: request latency as a client sees it. */
async function apiLatency(client: AdminClient, n: number): Promise<{ get: ReturnType<typeof summarize>; list: ReturnType<typeof summarize> }> {
  const get: number[] = [];
  const list: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    await client.get('/api/v1/namespaces/default/pods/bench-0');
    get.push(performance.now() - t);
    t = performance.now();
    await client.get('/api/v1/nodes?limit=50');
    list.push(performance.now() - t);
  }
  return { get: summarize(get), list: summarize(list) };
}

async function createPods(client: AdminClient, total: number, nodes: number, prefix: string): Promise<number> {
  const from = Date.now();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${prefix}${i}`, namespace: 'default' }, spec: { nodeName: `virtual-node-${i % nodes}`, containers: [{ name: 'app', image: 'nginx' }] } };
      const response = await client.request('POST', '/api/v1/namespaces/default/pods', pod);
      if (response.status !== 201) throw new Error(`create pod: ${response.status} ${response.body}`);
      if (i % 10_000 === 0) progress(`created ${i} pods`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return (Date.now() - from) / 1000;
}

async function main(): Promise<void> {
  // Baseline: the same server without nodes, one pod to GET.
  const base = await startServe([]);
  const baseClient = await adminClient(base.kubeconfig);
  await baseClient.request('POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bench-0' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } });
  const baseline = { latency: await apiLatency(baseClient, 500), rssMiB: await rssMiB(base.child.pid!) };
  baseClient.close();
  await stopProcess(base.child);
  await rm(base.dir, { recursive: true, force: true });
  progress(`baseline: GET p99 ${baseline.latency.get.p99} ms`);

  const server = await startServe(['--virtual-nodes', String(NODES)]);
  const client = await adminClient(server.kubeconfig);
  const nodesReadySeconds = await waitFor('nodes registered', async () => (await count(client, '/api/v1/nodes')) >= NODES);
  progress(`${NODES} nodes registered in ${nodesReadySeconds}s`);
  const createSeconds = await createPods(client, PODS, NODES, 'bench-');
  progress(`${PODS} pods created in ${createSeconds}s`);
  // A selector's list carries no remainingItemCount: wait until no pod is left outside Running.
  const runningAfterCreateSeconds = await waitFor('pods running', async () => JSON.parse((await client.get('/api/v1/pods?fieldSelector=status.phase!%3DRunning&limit=1')).body.toString()).items.length === 0);
  const allRunningSeconds = createSeconds + runningAfterCreateSeconds;
  progress(`all running ${allRunningSeconds}s after the first create`);

  // Steady state: only heartbeats (leases every 10 s per node, status every 5 min).
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const cpuBefore = await cpuSeconds(server.child.pid!);
  const steadyFrom = Date.now();
  const latencyDuringHeartbeats = await apiLatency(client, 500);
  const remaining = STEADY_MS - (Date.now() - steadyFrom);
  if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
  const steadyCpuPercent = Math.round(((await cpuSeconds(server.child.pid!)) - cpuBefore) / ((Date.now() - steadyFrom) / 1000) * 1000) / 10;
  const serverRssMiB = await rssMiB(server.child.pid!);
  progress(`steady: cpu ${steadyCpuPercent}% rss ${serverRssMiB} MiB, GET p99 ${latencyDuringHeartbeats.get.p99} ms`);

  // A separate agent process with its own node identities.
  const agent = spawn(process.execPath, [MAIN, 'nodes', '--kubeconfig', server.kubeconfig, '--count', String(AGENT_NODES), '--name-prefix', 'agent-node-'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' } });
  const agentFrom = Date.now();
  await new Promise<void>((resolve, reject) => {
    let out = '';
    agent.stdout!.on('data', (chunk) => {
      out += chunk;
      if (/registered/.test(out)) resolve();
    });
    agent.once('exit', (code) => reject(new Error(`nautilus nodes exited ${code}`)));
  });
  const agentRegisterSeconds = (Date.now() - agentFrom) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 15_000));
  const agentRssMiB = await rssMiB(agent.pid!);
  const agentCpuBefore = await cpuSeconds(agent.pid!);
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const agentSteadyCpuPercent = Math.round(((await cpuSeconds(agent.pid!)) - agentCpuBefore) / 10 * 1000) / 10;
  progress(`agent: ${AGENT_NODES} nodes in ${agentRegisterSeconds}s, rss ${agentRssMiB} MiB`);
  await stopProcess(agent);

  const result = {
    when: new Date().toISOString(),
    machine: 'shared 2-core VM',
    nodes: NODES,
    pods: PODS,
    server: { nodesRegisteredSeconds: nodesReadySeconds, podCreateSeconds: createSeconds, allPodsRunningSeconds: allRunningSeconds, rssMiB: serverRssMiB, steadyCpuPercent, latencyDuringHeartbeatsMs: latencyDuringHeartbeats },
    separateAgent: { nodes: AGENT_NODES, registerSeconds: agentRegisterSeconds, rssMiB: agentRssMiB, steadyCpuPercent: agentSteadyCpuPercent },
    baseline: { description: 'same server, no nodes, 1 pod', rssMiB: baseline.rssMiB, latencyMs: baseline.latency },
    ratios: { getP99: Math.round((latencyDuringHeartbeats.get.p99 / baseline.latency.get.p99) * 100) / 100, listP99: Math.round((latencyDuringHeartbeats.list.p99 / baseline.latency.list.p99) * 100) / 100 },
  };
  console.log(JSON.stringify(result, null, 2));
  await writeResult(String(values.name), result);
  client.close();
  await stopProcess(server.child);
  await rm(server.dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
