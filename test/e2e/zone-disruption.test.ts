/**
 * Zone-aware eviction seen with the real kubectl: when the only node goes silent, every zone is
 * fully disrupted, so node lifecycle marks it Unknown and NoSchedule but does not taint it
 * NoExecute (nothing is evicted: upstream suspects the control plane's own connectivity). Once
 * another node is Ready, the silent one is tainted NoExecute at the normal rate.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, eventually, type TestServer } from './harness.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

let server: TestServer;
const agents: ChildProcess[] = [];
before(async () => {
  server = await startServer(['--ephemeral', '--node-monitor-grace-period', '20s']);
});
after(async () => {
  for (const agent of agents) if (agent.exitCode === null) agent.kill('SIGKILL');
  await server?.stop();
});

function startAgent(prefix: string): ChildProcess {
  const agent = spawn(process.execPath, [MAIN, 'nodes', '--kubeconfig', server.kubeconfig, '--count', '1', '--name-prefix', prefix], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' } });
  agents.push(agent);
  return agent;
}

const taints = async (node: string): Promise<string[]> =>
  (JSON.parse(await server.ok(['get', 'node', node, '-o', 'json'])).spec.taints ?? []).map((t: { key: string; effect: string }) => `${t.key}:${t.effect}`).sort();

test('the only node going silent is not tainted NoExecute; with a Ready node beside it, it is', async () => {
  const lone = startAgent('lone-');
  await eventually(async () => assert.match(await server.ok(['get', 'node', 'lone-0', '--no-headers']), /\bReady\b/), 30_000);
  lone.kill('SIGKILL');
  await server.ok(['wait', '--for=condition=Ready=Unknown', 'node/lone-0', '--timeout=90s']);
  await eventually(async () => assert.deepEqual(await taints('lone-0'), ['node.kubernetes.io/unreachable:NoSchedule']), 20_000);

  startAgent('other-');
  await eventually(async () => assert.match(await server.ok(['get', 'node', 'other-0', '--no-headers']), /\bReady\b/), 30_000);
  await eventually(async () => assert.deepEqual(await taints('lone-0'), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']), 30_000);
  assert.deepEqual(await taints('other-0'), []);
});
