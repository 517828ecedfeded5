/**
 * What a cluster admin sets up for kubelet TLS bootstrap, as kubeadm does: a bootstrap token
 * Secret, the bindings that let its bootstrappers send CSRs and get their node-client requests
 * auto-approved, and a bootstrap kubeconfig; and `nautilus nodes` started with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually, type TestServer } from './harness.js';
import assert from 'node:assert/strict';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const TOKEN_ID = 'abcdef';
export const TOKEN_SECRET = '0123456789abcdef';
const EXTRA_GROUP = 'system:bootstrappers:nautilus:default-node-token';

export async function createBootstrapToken(server: TestServer): Promise<void> {
  await server.ok(['create', 'secret', 'generic', `bootstrap-token-${TOKEN_ID}`, '-n', 'kube-system', '--type', 'bootstrap.kubernetes.io/token',
    `--from-literal=token-id=${TOKEN_ID}`, `--from-literal=token-secret=${TOKEN_SECRET}`, '--from-literal=usage-bootstrap-authentication=true',
    `--from-literal=auth-extra-groups=${EXTRA_GROUP}`]);
  // What kubeadm binds: bootstrappers may send CSRs, their node-client requests are auto-approved.
  await server.ok(['create', 'clusterrolebinding', 'kubeadm:kubelet-bootstrap', '--clusterrole=system:node-bootstrapper', `--group=${EXTRA_GROUP}`]);
  await server.ok(['create', 'clusterrolebinding', 'kubeadm:node-autoapprove-bootstrap', '--clusterrole=system:certificates.k8s.io:certificatesigningrequests:nodeclient', `--group=${EXTRA_GROUP}`]);
}

export async function writeBootstrapKubeconfig(server: TestServer, file: string, token: string): Promise<void> {
  const admin = JSON.parse(await server.ok(['config', 'view', '--raw', '-o', 'json']));
  const cluster = admin.clusters[0].cluster;
  const as = (args: string[]) => server.ok([...args, '--kubeconfig', file]);
  await as(['config', 'set-cluster', 'nautilus', `--server=${cluster.server}`]);
  await as(['config', 'set', 'clusters.nautilus.certificate-authority-data', cluster['certificate-authority-data']]);
  await as(['config', 'set-credentials', 'tls-bootstrap-token-user', `--token=${token}`]);
  await as(['config', 'set-context', 'tls-bootstrap', '--cluster=nautilus', '--user=tls-bootstrap-token-user']);
  await as(['config', 'use-context', 'tls-bootstrap']);
}

/** Starts `nautilus nodes --bootstrap-kubeconfig` and resolves once its nodes registered. */
export async function startBootstrappedNodes(bootstrapKubeconfig: string, count: number, prefix: string): Promise<{ agent: ChildProcess; output: () => string }> {
  const agent = spawn(process.execPath, [MAIN, 'nodes', '--bootstrap-kubeconfig', bootstrapKubeconfig, '--count', String(count), '--name-prefix', prefix], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' } });
  let output = '';
  agent.stdout!.on('data', (chunk) => (output += chunk));
  agent.stderr!.on('data', (chunk) => (output += chunk));
  await eventually(async () => assert.match(output, new RegExp(`${count} virtual node\\(s\\) registered`)), 60_000);
  return { agent, output: () => output };
}

export async function stopAgent(agent: ChildProcess | undefined): Promise<void> {
  if (!agent || agent.exitCode !== null) return;
  const exited = new Promise((resolve) => agent.once('exit', resolve));
  agent.kill('SIGTERM');
  await exited;
}
