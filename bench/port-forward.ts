/**
 * `kubectl port-forward` to a virtual pod's echo service: round-trip latency of small messages and
 * echo throughput of a bulk transfer over one forwarded connection, for kubectl 1.32 (SPDY in a
 * WebSocket, unwrapped by the API server) and kubectl 1.29 (SPDY relayed as it is), against a
 * plain TCP echo server in the same run as the baseline.
 * Run: npm run build && node dist/bench/port-forward.js  (ROUNDS, MIB to change the load)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startControlPlane } from '../src/server/control-plane.js';
import { allKinds } from '../src/registry/catalog.js';
import { summarize, writeResult } from './common.js';

const ROUNDS = Number(process.env.ROUNDS ?? 500);
const MIB = Number(process.env.MIB ?? 32);
const CLIENTS: Array<[string, string]> = [
  ['kubectl-1.32-websocket-tunnel', '/usr/bin/kubectl'],
  ['kubectl-1.29-spdy', '/usr/lib/google-cloud-sdk/bin/kubectl.1.29'],
];

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Waits until `bytes` more bytes came back on the socket. */
function receive(socket: Socket, bytes: number): Promise<void> {
  return new Promise((resolve) => {
    let got = 0;
    const onData = (chunk: Buffer) => {
      got += chunk.length;
      if (got >= bytes) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
}

async function measure(port: number): Promise<{ latencyMs: ReturnType<typeof summarize>; mibPerSecond: number }> {
  const socket = await open(port);
  const message = Buffer.alloc(64, 'p');
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    const back = receive(socket, message.length);
    socket.write(message);
    await back;
    samples.push(performance.now() - started);
  }
  const chunk = Buffer.alloc(64 * 1024, 'b');
  const total = MIB * 1024 * 1024;
  const started = performance.now();
  const back = receive(socket, total);
  for (let sent = 0; sent < total; sent += chunk.length) if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
  await back;
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  return { latencyMs: summarize(samples), mibPerSecond: Number((MIB / seconds).toFixed(1)) };
}

function portForward(binary: string, kubeconfig: string, home: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(binary, ['port-forward', 'pod/echo', '0:8080'], { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('port-forward did not start')), 20_000);
    child.stdout!.on('data', (data) => {
      out += data;
      const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ port: Number(match[1]), child });
      }
    });
    child.once('exit', (code) => reject(new Error(`port-forward exited ${code}`)));
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-bench-pf-'));
  const controlPlane = await startControlPlane({ address: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), kinds: allKinds, ephemeral: true, virtualNodes: 1 });
  const echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const results: Record<string, unknown> = {};
  try {
    const kubeconfig = controlPlane.kubeconfigPath;
    await controlPlane.registry.of('', 'pods').create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'echo', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    for (let i = 0; i < 300; i++) {
      const pod = controlPlane.registry.of('', 'pods').tryGet('default', 'echo')?.object as { status?: { phase?: string } } | undefined;
      if (pod?.status?.phase === 'Running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    results['direct-tcp-baseline'] = await measure((echo.address() as { port: number }).port);
    for (const [name, binary] of CLIENTS) {
      const forward = await portForward(binary, kubeconfig, dir);
      try {
        results[name] = await measure(forward.port);
      } finally {
        forward.child.kill('SIGTERM');
      }
    }
  } finally {
    echo.close();
    await controlPlane.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const result = { rounds: ROUNDS, mib: MIB, results };
  console.log(JSON.stringify(result, null, 2));
  await writeResult('port-forward', result);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
