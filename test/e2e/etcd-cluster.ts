/**
 * A real etcd cluster for tests: N members on 127.0.0.1 (random free ports, temporary data
 * directories), from Debian's etcd-server package (.ci/run installs it). Tests that need it skip,
 * saying why, where the binary is missing.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ETCD = process.env.ETCD ?? '/usr/bin/etcd';
export const ETCDCTL = process.env.ETCDCTL ?? '/usr/bin/etcdctl';

/** Why etcd tests cannot run here, or undefined when they can. */
export function etcdMissing(): string | undefined {
  if (!existsSync(ETCD)) return `etcd is not installed (${ETCD}); install Debian's etcd-server package (apt-get install -y etcd-server), as .ci/run does`;
  if (!existsSync(ETCDCTL)) return `etcdctl is not installed (${ETCDCTL}); install Debian's etcd-client package (apt-get install -y etcd-client), as .ci/run does`;
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface EtcdCluster {
  endpoints: string[];
  dir: string;
  /** etcdctl against the cluster; resolves with stdout as bytes. */
  etcdctl(args: string[]): Promise<Buffer>;
  stop(): Promise<void>;
}

/** Client TLS: etcd serves `cert`/`key` and requires client certificates signed by `ca`. */
export interface EtcdTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** What etcdctl (and the tests' clients) present. */
  clientCertFile: string;
  clientKeyFile: string;
}

export async function startEtcdCluster(members = 3, extraArgs: string[] = [], tls?: EtcdTls): Promise<EtcdCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-etcd-'));
  const ports = await Promise.all(Array.from({ length: members * 2 }, () => freePort()));
  const peers = Array.from({ length: members }, (_, i) => `m${i}=http://127.0.0.1:${ports[2 * i + 1]}`).join(',');
  const endpoints = Array.from({ length: members }, (_, i) => `${tls ? 'https' : 'http'}://127.0.0.1:${ports[2 * i]}`);
  const tlsArgs = tls ? ['--cert-file', tls.certFile, '--key-file', tls.keyFile, '--trusted-ca-file', tls.caFile, '--client-cert-auth'] : [];
  const etcdctlTls = tls ? ['--cacert', tls.caFile, '--cert', tls.clientCertFile, '--key', tls.clientKeyFile] : [];
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  for (let i = 0; i < members; i++) {
    const child = spawn(ETCD, [
      '--name', `m${i}`,
      '--data-dir', join(dir, `m${i}`),
      '--listen-client-urls', endpoints[i]!,
      '--advertise-client-urls', endpoints[i]!,
      '--listen-peer-urls', `http://127.0.0.1:${ports[2 * i + 1]}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${ports[2 * i + 1]}`,
      '--initial-cluster', peers,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', `nautilus-test-${process.pid}`,
      '--logger', 'zap',
      '--log-level', 'error',
      ...tlsArgs,
      ...extraArgs,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    logs[i] = '';
    child.stderr!.on('data', (chunk: Buffer) => (logs[i] = (logs[i] + chunk.toString()).slice(-4000)));
    children.push(child);
  }
  const etcdctl = (args: string[]): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      execFile(ETCDCTL, ['--endpoints', endpoints.join(','), ...etcdctlTls, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: 20_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`etcdctl ${args.join(' ')}: ${error.message} ${stderr.toString()}`));
        else resolve(stdout);
      });
    });
  const stop = async () => {
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    })));
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await etcdctl(['put', '/nautilus-test/probe', 'ok']);
      break;
    } catch (error) {
      if (Date.now() > deadline || children.some((child) => child.exitCode !== null)) {
        await stop();
        throw new Error(`etcd did not start: ${(error as Error).message}\n${logs.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  await etcdctl(['del', '/nautilus-test/probe']);
  return { endpoints, dir, etcdctl, stop };
}
