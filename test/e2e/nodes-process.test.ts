/**
 * `nautilus nodes` in a process of its own joins a running server as kubelets do: its nodes
 * register and go Ready under their own certificates, run the pods bound to them, and the API
 * server reaches their kubelet endpoints for logs and exec.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, eventually, type TestServer } from './harness.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

let server: TestServer;
let agent: ChildProcess;
before(async () => {
  server = await startServer(['--ephemeral', '--virtual-nodes', '1']);
});
after(async () => {
  if (agent && agent.exitCode === null) {
    const exited = new Promise((r) => agent.once('exit', r));
    agent.kill('SIGTERM');
    await exited;
  }
  await server?.stop();
});

test('a separate nautilus nodes process joins with node identities; its pods run, log and exec', async () => {
  agent = spawn(process.execPath, [MAIN, 'nodes', '--kubeconfig', server.kubeconfig, '--count', '2', '--name-prefix', 'remote-'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' } });
  let output = '';
  agent.stdout!.on('data', (chunk) => (output += chunk));
  agent.stderr!.on('data', (chunk) => (output += chunk));
  await eventually(async () => assert.match(output, /2 virtual node\(s\) registered/), 30_000);
  await server.ok(['wait', '--for=condition=Ready', 'node/remote-0', 'node/remote-1', '--timeout=30s']);
  const nodes = JSON.parse(await server.ok(['get', 'nodes', '-o', 'json'])).items as Array<{ metadata: { name: string }; spec: { podCIDR: string } }>;
  assert.equal(nodes.length, 3);
  assert.equal(new Set(nodes.map((n) => n.spec.podCIDR)).size, 3, 'the joining nodes took pod CIDRs nobody holds');
  const lease = JSON.parse(await server.ok(['get', 'lease', 'remote-1', '-n', 'kube-node-lease', '-o', 'json']));
  assert.equal(lease.spec.holderIdentity, 'remote-1');
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'far' }, spec: { nodeName: 'remote-1', containers: [{ name: 'app', image: 'nginx' }] } };
  await server.ok(['create', '-f', '-'], { input: JSON.stringify(pod) });
  await server.ok(['wait', '--for=condition=Ready', 'pod/far', '--timeout=30s']);
  const running = JSON.parse(await server.ok(['get', 'pod', 'far', '-o', 'json', '--show-managed-fields']));
  assert.ok(running.status.podIP.startsWith(nodes.find((n) => n.metadata.name === 'remote-1')!.spec.podCIDR.replace(/0\/24$/, '')));
  assert.ok(running.metadata.managedFields.some((entry: { manager: string; subresource?: string }) => entry.manager === 'kubelet' && entry.subresource === 'status'));
  assert.equal(await server.ok(['exec', 'far', '--', 'hostname']), 'far\n');
  await eventually(async () => assert.match(await server.ok(['logs', 'far', '--tail=1']), /^app\[0\] line \d+: default\/far /), 10_000);
});
