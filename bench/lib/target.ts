/**
 * The server a scenario measures: either a Nautilus build started here from a checkout
 * (`--server NAME=DIR`, DIR holding dist/), so that two commits run in one benchmark, or any
 * running server named by a kubeconfig (`--kubeconfig NAME=FILE`) with a bearer token for h2load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile, rm, stat } from 'node:fs/promises';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';

export interface MemoryFigures {
  rss: number;
  heapUsed?: number;
  heapTotal?: number;
  external?: number;
  arrayBuffers?: number;
}

export interface Target {
  name: string;
  url: string;
  kubeconfigPath: string;
  token: string;
  /** The server process, when this benchmark started it. */
  pid?: number;
  memory(): Promise<MemoryFigures | undefined>;
  /**
   * Stops and starts the server on the same data directory (and port): milliseconds until the
   * API answers a list again, and until the process says it is serving (every in-process
   * component — controllers, scheduler — started and synced).
   */
  restart?(): Promise<RestartFigures>;
  stop(): Promise<void>;
}

export interface RestartFigures {
  apiMs: number;
  componentsMs: number;
}

export interface ServerSpec {
  name: string;
  /** A checkout with a built dist/. */
  dir: string;
  dataDir: string;
  extraArgs: string[];
  /** Node flags such as --cpu-prof. */
  nodeFlags: string[];
  /** Where the server's own output (its log, --trace-gc lines) is appended; dropped when absent. */
  logFile?: string;
}

/** A `NAME=VALUE` option (`--server base=../main`); a bare VALUE names itself. */
export function splitNamed(entry: string): { name: string; value: string } {
  const at = entry.indexOf('=');
  return at > 0 ? { name: entry.slice(0, at), value: entry.slice(at + 1) } : { name: entry, value: entry };
}

const probeModule = new URL('./memory-probe.js', import.meta.url).href;

export async function startServer(spec: ServerSpec): Promise<Target> {
  const main = join(resolve(spec.dir), 'dist/src/cli/main.js');
  await stat(main).catch(() => {
    throw new Error(`${spec.name}: ${main} does not exist; run npm run build in ${spec.dir}`);
  });
  const token = 'bench-' + Math.random().toString(36).slice(2);
  const tokenFile = join(spec.dataDir + '-tokens.csv');
  await writeFile(tokenFile, `${token},bench-admin,bench-admin,system:masters\n`);
  const probeFile = spec.dataDir + '-memory.json';
  let child: ChildProcess | undefined;
  let url = '';

  const launch = async (port = 0): Promise<number> => {
    const started = performance.now();
    const args = [
      '--expose-gc',
      '--import',
      probeModule,
      ...spec.nodeFlags,
      main,
      'serve',
      '--address',
      '127.0.0.1',
      '--port',
      String(port),
      '--data-dir',
      spec.dataDir,
      '--token-auth-file',
      tokenFile,
      ...spec.extraArgs,
    ];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NAUTILUS_BENCH_PROBE: probeFile, NAUTILUS_LOG_LEVEL: process.env.NAUTILUS_LOG_LEVEL ?? 'error' } });
    child = proc;
    if (spec.logFile) {
      const file = createWriteStream(spec.logFile, { flags: 'a' });
      proc.stdout!.pipe(file, { end: false });
      proc.stderr!.pipe(file, { end: false });
      proc.once('exit', () => file.end());
    }
    let stderr = '';
    proc.stderr!.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    url = await new Promise<string>((resolveUrl, reject) => {
      let out = '';
      proc.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const match = out.match(/serving at (https:\/\/\S+?);/);
        if (match) resolveUrl(match[1]);
      });
      proc.once('exit', (code) => reject(new Error(`${spec.name}: server exited (${code}) before serving: ${stderr}`)));
    });
    return performance.now() - started;
  };

  const stop = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  const kubeconfigPath = join(spec.dataDir, 'admin.kubeconfig');
  const target: Target = {
    name: spec.name,
    get url() {
      return url;
    },
    kubeconfigPath,
    token,
    get pid() {
      return child?.pid;
    },
    async memory() {
      if (!child?.pid) return undefined;
      await rm(probeFile, { force: true });
      child.kill('SIGUSR2');
      for (let i = 0; i < 300; i++) {
        const text = await readFile(probeFile, 'utf8').catch(() => undefined);
        if (text) return JSON.parse(text) as MemoryFigures;
        await new Promise((r) => setTimeout(r, 50));
      }
      return { rss: await rssOf(child.pid) };
    },
    async restart() {
      const port = Number(new URL(url).port);
      await stop();
      const started = performance.now();
      let answered: number | undefined;
      let launched = false;
      const polling = (async () => {
        while (answered === undefined) {
          if ((await statusOf(`https://127.0.0.1:${port}/api/v1/namespaces/default/pods?limit=1`, token)) === 200) answered = performance.now() - started;
          else if (launched) break;
          else await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const componentsMs = await launch(port);
      launched = true;
      await polling;
      return { apiMs: answered ?? componentsMs, componentsMs };
    },
    stop,
  };
  return target;
}

/** A server this benchmark did not start: memory only from its /metrics, no restart. */
export async function attachKubeconfig(name: string, kubeconfigPath: string, tokenOverride?: string): Promise<Target> {
  const config = parse(await readFile(kubeconfigPath, 'utf8'));
  const url: string = config.clusters[0].cluster.server;
  const token: string | undefined = tokenOverride ?? config.users[0].user.token;
  if (!token) throw new Error(`${name}: h2load needs a bearer token; the kubeconfig ${kubeconfigPath} has none (pass --token NAME=TOKEN)`);
  return {
    name,
    url,
    kubeconfigPath,
    token,
    async memory() {
      return undefined;
    },
    async stop() {},
  };
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) * 1024;
}

/** The status code of a GET (0 when the connection fails): whether the API answers yet. */
function statusOf(url: string, token: string): Promise<number> {
  return new Promise((resolveStatus) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolveStatus(res.statusCode ?? 0));
    });
    req.on('error', () => resolveStatus(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
