/**
 * The kubelet endpoints of a pool of virtual nodes, on one HTTPS listener (the API server dials a
 * node's InternalIP and daemonEndpoints port, as it would a real kubelet). Which node a connection
 * is for comes from its TLS server name (the API server sends the node's name); paths are the
 * kubelet's: /containerLogs, /exec and /attach (WebSocket v5/v4.channel.k8s.io, or SPDY/3.1 v4…v1),
 * /portForward (SPDY/3.1 portforward.k8s.io, to an in-agent echo service on any port), /podProxy (the
 * in-agent HTTP echo service behind pods/proxy and services/proxy), /pods, /stats/summary,
 * /metrics/resource, /healthz. Only client certificates of the cluster CA for the API server's
 * kubelet-client identity (or system:masters) are let in.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { WebSocketServer } from 'ws';
import type { ApiClient, Obj } from '../client/api-client.js';
import { log } from '../server/log.js';
import { BuiltinShell, ExecNotFound } from './exec-commands.js';
import { firstLineIndex, formatLine, lastLineIndex, logInstance, LogOptionsError, LOG_LINE_INTERVAL_MS, type LogOptions } from './logs.js';
import { projectContainer } from './projection.js';
import { PodOverlays } from './overlay.js';
import { SPDY_CHANNEL_PROTOCOLS, spdyStreams, streamOptions, WEBSOCKET_CHANNEL_PROTOCOLS, webSocketStreams, type ExecStreams } from './exec-streams.js';
import { PORT_FORWARD_PROTOCOL, servePortForward } from './port-forward.js';
import { acceptSpdyUpgrade, isSpdyUpgrade, writeRawHttpError } from '../server/streaming/spdy.js';
import { nodeUsage, podUsage } from './usage.js';

export const KUBELET_CLIENT_COMMON_NAME = 'kube-apiserver-kubelet-client';
const EXEC_START_DELAY_MS = 50;
/** How long a TTY exec waits for the client's first terminal size. */
const TERMINAL_SIZE_WAIT_MS = 2_000;

/** What the server needs of the agent. */
export interface KubeletBackend {
  hasNode(name: string): boolean;
  /** A pod bound to one of the pool's nodes (the informer's copy). */
  pod(namespace: string, name: string): Obj | undefined;
  podsOn(nodeName: string): Obj[];
  clientFor(nodeName: string): ApiClient;
}

export interface KubeletServerOptions {
  address: string;
  port?: number;
  keyPem: string;
  certPem: string;
  caPem: string;
  backend: KubeletBackend;
}

export interface KubeletServer {
  readonly port: number;
  /** Serves with another certificate from the next connection on (a bootstrapped one, once issued). */
  setServingCertificate(keyPem: string, certPem: string): void;
  close(): Promise<void>;
}

class RequestError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

function allowedClient(socket: TLSSocket): boolean {
  if (!socket.authorized) return false;
  const raw = socket.getPeerX509Certificate?.() as X509Certificate | undefined;
  if (!raw) return false;
  const subject = raw.subject;
  return subject.split('\n').some((line) => line === `CN=${KUBELET_CLIENT_COMMON_NAME}` || line === 'O=system:masters');
}

/** A terminal's output processing (onlcr): each LF leaves as CR LF. */
function onlcr(data: string | Buffer): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  if (!bytes.includes(0x0a)) return bytes;
  const parts: Buffer[] = [];
  let start = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, start)) {
    parts.push(bytes.subarray(start, at), CRLF);
    start = at + 1;
  }
  parts.push(bytes.subarray(start));
  return Buffer.concat(parts);
}
const CRLF = Buffer.from('\r\n');

function exitStatus(code: number, command: string[]): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

export async function startKubeletServer(options: KubeletServerOptions): Promise<KubeletServer> {
  const { backend } = options;
  const server: Server = createServer({ key: options.keyPem, cert: options.certPem, ca: options.caPem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const overlays = new PodOverlays((ref) => backend.pod(ref.namespace, ref.name)?.metadata.uid === ref.uid);
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => WEBSOCKET_CHANNEL_PROTOCOLS.find((p) => protocols.has(p)) ?? false });

  const nodeOf = (socket: TLSSocket): string | undefined => {
    const name = (socket as TLSSocket & { servername?: string | false }).servername;
    return typeof name === 'string' && backend.hasNode(name) ? name : undefined;
  };

  /** The pod a path names, bound to the connection's node (when it named one). */
  const podFor = (socket: TLSSocket, namespace: string, name: string): Obj => {
    const pod = backend.pod(namespace, name);
    const node = nodeOf(socket);
    if (!pod || (node && pod.spec?.nodeName !== node)) throw new RequestError(404, `pod ${namespace}/${name} not found`);
    return pod;
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      try {
        if (!allowedClient(req.socket as TLSSocket)) throw new RequestError(401, 'Unauthorized');
        await route(req, res);
      } catch (error) {
        const code = error instanceof RequestError ? error.code : error instanceof LogOptionsError ? 400 : 500;
        if (!(error instanceof RequestError) && !(error instanceof LogOptionsError)) log.warn('kubelet endpoint failed', { url: req.url, error: String(error) });
        if (!res.headersSent) res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${(error as Error).message}\n`);
      }
    })();
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const fail = (code: number, message: string) => writeRawHttpError(socket, code, message);
    socket.on('error', () => socket.destroy());
    socket.setNoDelay(true);
    try {
      if (!allowedClient(socket as TLSSocket)) return fail(401, 'Unauthorized');
      const url = new URL(req.url ?? '/', 'https://kubelet');
      const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      const [kind, namespace, podName, containerName] = parts;
      const spdy = isSpdyUpgrade(req);
      if (kind === 'portForward' && namespace && podName) {
        // Port-forward is SPDY only at the kubelet; the API server tunnels WebSocket clients to it.
        const pod = podFor(socket as TLSSocket, namespace, podName);
        if (!spdy) return fail(400, 'unable to upgrade: missing upgrade headers in request');
        const accepted = acceptSpdyUpgrade(req, socket, head, [PORT_FORWARD_PROTOCOL]);
        if (accepted) servePortForward(accepted.session, { namespace, name: podName, uid: pod.metadata.uid ?? '' });
        return;
      }
      if ((kind !== 'exec' && kind !== 'attach') || !namespace || !podName) return fail(404, `no handler for ${url.pathname}`);
      const pod = podFor(socket as TLSSocket, namespace, podName);
      const containers: Obj[] = pod.spec?.containers ?? [];
      const container = containers.find((c) => c.name === (containerName ?? containers[0]?.name));
      if (!container) return fail(404, `container ${containerName} not found in pod ${podName}`);
      const state = (pod.status?.containerStatuses ?? []).find((s: Obj) => s.name === container.name)?.state;
      if (!state?.running) return fail(400, `container ${container.name} is not running`);
      const options = streamOptions(url.searchParams);
      const run = (streams: ExecStreams) =>
        (kind === 'exec' ? runExec(streams, url.searchParams, pod, container) : runAttach(streams, url.searchParams, pod, container)).catch((error) => {
          log.warn('kubelet stream failed', { error: String(error) });
          streams.close();
        });
      if (spdy) {
        if (!options.stdin && !options.stdout && !options.stderr) return fail(400, 'you must specify at least 1 of stdin, stdout, stderr');
        const accepted = acceptSpdyUpgrade(req, socket, head, SPDY_CHANNEL_PROTOCOLS);
        if (!accepted) return;
        void spdyStreams(accepted.session, accepted.protocol, options).then((streams) => streams && run(streams));
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => void run(webSocketStreams(ws, options.stdin)));
    } catch (error) {
      fail(error instanceof RequestError ? error.code : 500, (error as Error).message);
    }
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const socket = req.socket as TLSSocket;
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    switch (parts[0]) {
      case 'healthz':
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end('ok');
      case 'containerLogs':
        return serveLogs(req, res, podFor(socket, parts[1], parts[2]), parts[3], url.searchParams);
      case 'podProxy':
        return servePodProxy(req, res, podFor(socket, parts[1], parts[2]), parts[3], `/${parts.slice(4).join('/')}${url.search}`);
      case 'pods': {
        const node = requireNode(socket);
        return json({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: backend.podsOn(node) });
      }
      case 'stats':
        if (parts[1] === 'summary') return json(statsSummary(requireNode(socket)));
        break;
      case 'metrics':
        if (parts[1] === 'resource') {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
          return void res.end(resourceMetrics(requireNode(socket)));
        }
        break;
    }
    throw new RequestError(404, `no handler for ${url.pathname}`);
  }

  function requireNode(socket: TLSSocket): string {
    const node = nodeOf(socket);
    if (!node) throw new RequestError(404, 'unknown node: connect with the node name as TLS server name');
    return node;
  }

  function serveLogs(req: IncomingMessage, res: ServerResponse, pod: Obj, containerName: string | undefined, query: URLSearchParams): void {
    const container = containerName ?? pod.spec?.containers?.[0]?.name;
    const known = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some((c: Obj) => c.name === container);
    if (!known) throw new RequestError(400, `container ${container} is not valid for pod ${pod.metadata.name}`);
    const flag = (name: string) => query.get(name) === 'true' || query.get(name) === '1';
    const number = (name: string) => {
      const raw = query.get(name);
      return raw === null ? undefined : Number(raw);
    };
    const sinceTime = query.get('sinceTime');
    const options: LogOptions = {
      container,
      follow: flag('follow'),
      previous: flag('previous'),
      timestamps: flag('timestamps'),
      tailLines: number('tailLines'),
      sinceSeconds: number('sinceSeconds'),
      sinceTime: sinceTime ? Date.parse(sinceTime) : undefined,
      limitBytes: number('limitBytes'),
    };
    const instance = logInstance(pod, container, options.previous);
    const now = Date.now();
    const last = lastLineIndex(instance, now);
    const first = firstLineIndex(instance, last, options, now);
    res.writeHead(200, { 'content-type': 'text/plain' });
    let budget = options.limitBytes ?? Infinity;
    const write = (line: string): boolean => {
      if (budget <= 0) return false;
      const bytes = Buffer.from(line);
      const chunk = bytes.length > budget ? bytes.subarray(0, budget) : bytes;
      budget -= chunk.length;
      res.write(chunk);
      return budget > 0;
    };
    let index = first;
    for (; index <= last; index++) if (!write(formatLine(pod, container, instance, index, options.timestamps))) return void res.end();
    if (!options.follow || instance.finishedMs !== undefined) return void res.end();
    // Follow: one line per interval, at the instant it is written, until the client goes or the container ends.
    const timer = setInterval(() => {
      const current = backend.pod(pod.metadata.namespace!, pod.metadata.name!);
      const stillRunning = current !== undefined && current.metadata.uid === pod.metadata.uid && !current.metadata.deletionTimestamp && logInstanceOrUndefined(current, container)?.startedMs === instance.startedMs;
      const upTo = lastLineIndex(instance, Date.now());
      for (; index <= upTo; index++) {
        if (!write(formatLine(pod, container, instance, index, options.timestamps))) return finish();
      }
      if (!stillRunning) finish();
    }, LOG_LINE_INTERVAL_MS / 4);
    const finish = () => {
      clearInterval(timer);
      res.end();
    };
    req.socket.once('close', () => clearInterval(timer));
  }

  /**
   * A container runtime takes a while to start an exec'd process; kubectl (client-go's WebSocket
   * executor) reads frames as soon as the upgrade completes but registers its stream readers just
   * after, and drops frames that arrive in between ("Unknown stream id"). Output written in the very
   * instant of the upgrade could land there on a loaded machine, so the built-in command starts after
   * a short, runtime-like delay.
   */
  const runtimeStart = () => new Promise<void>((resolve) => setTimeout(resolve, EXEC_START_DELAY_MS));

  async function runExec(streams: ExecStreams, query: URLSearchParams, pod: Obj, container: Obj): Promise<void> {
    const command = query.getAll('command');
    const { tty, stdin: wantsStdin } = streamOptions(query);
    const projection = await projectContainer(pod, container, backend.clientFor(pod.spec.nodeName));
    await runtimeStart();
    // A terminal gets its size before the process starts (kubectl sends it as soon as it is connected).
    if (tty) await streams.terminal.sized(TERMINAL_SIZE_WAIT_MS);
    const { files, writable } = overlays.open({ namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid ?? '' }, projection.files);
    const shell = new BuiltinShell(
      { hostname: projection.env.HOSTNAME, env: projection.env, files, writable },
      tty
        ? // One terminal: stderr joins stdout and the line discipline writes each newline as CR LF (onlcr).
          { stdout: (data) => streams.stdout(onlcr(data)), stderr: (data) => streams.stdout(onlcr(data)), stdin: wantsStdin ? streams.stdin : undefined, aborted: streams.aborted, terminal: () => streams.terminal.current }
        : { stdout: (data) => streams.stdout(data), stderr: (data) => streams.stderr(data), stdin: wantsStdin ? streams.stdin : undefined, aborted: streams.aborted },
    );
    let code: number;
    if (command.length === 0) {
      streams.stderr('command is required\n');
      code = 126;
    } else {
      try {
        code = await shell.exec(command);
      } catch (error) {
        if (!(error instanceof ExecNotFound)) throw error;
        streams.status({ metadata: {}, status: 'Failure', message: `OCI runtime exec failed: exec failed: unable to start container process: exec: "${command[0]}": executable file not found in $PATH: unknown`, reason: 'InternalError', details: { causes: [{ message: 'executable file not found' }] } });
        return streams.close();
      }
    }
    streams.status(exitStatus(code, command));
    streams.close();
  }

  async function runAttach(streams: ExecStreams, query: URLSearchParams, pod: Obj, container: Obj): Promise<void> {
    const wantsStdin = streamOptions(query).stdin;
    // The main process's output from now on; what it reads is echoed back.
    let instance;
    try {
      instance = logInstance(pod, container.name, false);
    } catch {
      return streams.close();
    }
    let index = lastLineIndex(instance, Date.now()) + 1;
    const timer = setInterval(() => {
      const upTo = lastLineIndex(instance!, Date.now());
      for (; index <= upTo; index++) streams.stdout(formatLine(pod, container.name, instance!, index, false));
    }, LOG_LINE_INTERVAL_MS / 4);
    if (wantsStdin) void (async () => {
      for await (const chunk of streams.stdin) streams.stdout(chunk);
    })();
    await streams.aborted;
    clearInterval(timer);
    streams.close();
  }

  function servePodProxy(req: IncomingMessage, res: ServerResponse, pod: Obj, port: string | undefined, path: string): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.length < 64 && chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const text = `Hello from ${pod.metadata.namespace}/${pod.metadata.name} on ${pod.spec?.nodeName} (port ${port ?? '80'})\n${req.method} ${path}\n${body ? `body: ${body}\n` : ''}`;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-served-by': `${pod.metadata.name}` });
      res.end(text);
    });
  }

  function statsSummary(node: string): Record<string, unknown> {
    const now = Date.now();
    const time = new Date(now).toISOString();
    const pods = backend.podsOn(node);
    const usage = nodeUsage(pods, now);
    return {
      node: { nodeName: node, startTime: time, cpu: { time, usageNanoCores: usage.cpu * 1_000_000 }, memory: { time, workingSetBytes: usage.memory } },
      pods: pods.map((pod) => ({
        podRef: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
        containers: podUsage(pod, now).map(({ name, usage: u }) => ({ name, cpu: { time, usageNanoCores: u.cpu * 1_000_000 }, memory: { time, workingSetBytes: u.memory } })),
      })),
    };
  }

  function resourceMetrics(node: string): string {
    const now = Date.now();
    const pods = backend.podsOn(node);
    const usage = nodeUsage(pods, now);
    const lines = [
      '# TYPE nautilus_node_cpu_usage_millicores gauge',
      `nautilus_node_cpu_usage_millicores ${usage.cpu} ${now}`,
      '# TYPE node_memory_working_set_bytes gauge',
      `node_memory_working_set_bytes ${usage.memory} ${now}`,
      '# TYPE container_memory_working_set_bytes gauge',
    ];
    for (const pod of pods) for (const { name, usage: u } of podUsage(pod, now)) lines.push(`container_memory_working_set_bytes{container="${name}",namespace="${pod.metadata.namespace}",pod="${pod.metadata.name}"} ${u.memory} ${now}`);
    return `${lines.join('\n')}\n`;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.address, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    setServingCertificate: (keyPem, certPem) => server.setSecureContext({ key: keyPem, cert: certPem, ca: options.caPem, minVersion: 'TLSv1.2' }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function logInstanceOrUndefined(pod: Obj, container: string) {
  try {
    return logInstance(pod, container, false);
  } catch {
    return undefined;
  }
}
