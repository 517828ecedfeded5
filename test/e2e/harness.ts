/**
 * Starts the real `nautilus serve` as a child process on 127.0.0.1 (random port, temporary data
 * dir) and runs the real kubectl against the kubeconfig it writes.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';
export const KUBECTL_OLDEST = '/usr/lib/google-cloud-sdk/bin/kubectl.1.27';
export const KUBECTL_NEWEST = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
/** The compiled CLI beside this compiled test (dist/test/e2e → dist/src/cli). */
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestServer {
  url: string;
  dataDir: string;
  kubeconfig: string;
  process: ChildProcess;
  kubectl(args: string[], options?: { input?: string; binary?: string; timeoutMs?: number; env?: Record<string, string> }): Promise<KubectlResult>;
  /** Runs kubectl and fails with its stderr unless it exits 0. */
  ok(args: string[], options?: { input?: string; binary?: string }): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  /** Runs the server through this command (e.g. nsenter into a mount namespace), then node and its arguments. */
  launcher?: string[];
  /** Where this process sees the server's data dir, when the launcher puts it elsewhere. */
  visibleDataDir?: string;
}

export async function startServer(extraArgs: string[] = [], existingDataDir?: string, start: StartOptions = {}): Promise<TestServer> {
  const serverDataDir = existingDataDir ?? (await mkdtemp(join(tmpdir(), 'nautilus-e2e-')));
  const dataDir = start.visibleDataDir ?? serverDataDir;
  const [command, ...prefix] = [...(start.launcher ?? []), process.execPath];
  const child = spawn(command!, [...prefix, MAIN, 'serve', '--port', '0', '--address', '127.0.0.1', '--data-dir', serverDataDir, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolvePromise, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in 30s: ${stderr}`)), 30_000);
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = stdout.match(/serving at (https:\/\/\S+?);/);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
  });
  const kubeconfig = join(dataDir, 'admin.kubeconfig');

  const kubectl: TestServer['kubectl'] = (args, options = {}) =>
    new Promise((resolvePromise) => {
      const proc = execFile(
        options.binary ?? KUBECTL,
        args,
        { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dataDir, ...options.env }, timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderrText) => {
          const code = error ? (typeof (error as NodeJS.ErrnoException).code === 'number' ? ((error as unknown as { code: number }).code) : 1) : 0;
          resolvePromise({ code, stdout, stderr: stderrText });
        },
      );
      if (options.input !== undefined) proc.stdin!.end(options.input);
    });

  return {
    url,
    dataDir,
    kubeconfig,
    process: child,
    kubectl,
    async ok(args, options) {
      const result = await kubectl(args, options);
      if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
      return result.stdout;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill(signal);
        await exited;
      }
      if (!existingDataDir && signal !== 'SIGKILL') await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function writeTemp(dir: string, name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** Polls until `check` passes or the time is up (bounded, for eventually-consistent results). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

/** A raw HTTP/2 client authenticated with the kubeconfig's admin certificate. */
export async function rawClient(kubeconfigPath: string, options: { anonymous?: boolean } = {}) {
  const { connect } = await import('node:http2');
  const { readFile } = await import('node:fs/promises');
  const { parse } = await import('yaml');
  const config = parse(await readFile(kubeconfigPath, 'utf8'));
  const cluster = config.clusters[0].cluster;
  const user = config.users[0].user;
  const b64 = (s: string) => Buffer.from(s, 'base64');
  const credentials = options.anonymous ? {} : { cert: b64(user['client-certificate-data']), key: b64(user['client-key-data']) };
  const session = connect(cluster.server, { ca: b64(cluster['certificate-authority-data']), ...credentials });
  session.on('error', () => {});
  return {
    request(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
      return new Promise((resolvePromise, reject) => {
        // Node ends DELETE (and GET) streams at once unless told a body follows.
        const req = session.request({ ':method': method, ':path': path, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, body !== undefined ? { endStream: false } : undefined);
        const chunks: Buffer[] = [];
        let status = 0;
        let responseHeaders: Record<string, string | string[] | undefined> = {};
        req.on('response', (h) => {
          status = Number(h[':status']);
          responseHeaders = h as Record<string, string | string[] | undefined>;
        });
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolvePromise({ status, headers: responseHeaders, body: text, json: () => JSON.parse(text) });
        });
        req.on('error', reject);
        req.end(body);
      });
    },
    /** A GET whose body streams (a watch): `onLine` gets each newline-terminated line as it arrives. */
    stream(path: string, onLine: (line: string) => void): { done: Promise<number>; close(): void } {
      const req = session.request({ ':method': 'GET', ':path': path });
      let status = 0;
      let buffered = '';
      req.setEncoding('utf8');
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (chunk: string) => {
        buffered += chunk;
        for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim()) onLine(line);
        }
      });
      const done = new Promise<number>((resolvePromise) => {
        req.on('close', () => resolvePromise(status));
        req.on('error', () => resolvePromise(status));
      });
      return { done, close: () => req.close() };
    },
    close: () => session.close(),
  };
}
