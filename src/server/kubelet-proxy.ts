/**
 * The API server's side of the kubelet paths: pods/log, pods/exec, pods/attach, pods/portforward,
 * pods/proxy, services/proxy and nodes/proxy. As upstream, the API server validates the request
 * against the stored pod, then reaches the node's kubelet at its InternalIP and
 * daemonEndpoints.kubeletEndpoint.Port over HTTPS with its kubelet-client certificate, and relays
 * the answer — streamed for logs, byte for byte after an HTTP upgrade for exec/attach/portforward
 * (so WebSocket and SPDY clients alike pass through; what the kubelet speaks decides), except a
 * port-forward WebSocket that tunnels SPDY (kubectl 1.31+), which `streaming/spdy-tunnel.ts`
 * unwraps for the kubelet's SPDY port-forward as upstream's TunnelingHandler does.
 *
 * The kubelet's serving certificate is checked against the cluster CA; the TLS server name is the
 * node's name (how one virtual-node agent tells its nodes apart on one listener). Pods on
 * Nautilus's virtual nodes are not reachable at their pod IPs, so pods/proxy and services/proxy
 * go to them through their agent's /podProxy endpoint; other pods are dialled at podIP:port.
 */
import { request as httpsRequest, Agent } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { errors, fieldErrors, ApiError, type FieldError } from '../api/status.js';
import type { KeyAndCert } from '../auth/pki.js';
import type { ExtraSubresource } from '../api/discovery.js';
import { VIRTUAL_NODE_ANNOTATION } from '../nodes/node-object.js';
import type { Registry } from '../registry/registry.js';
import type { GenericStore } from '../registry/generic-store.js';
import type { Obj } from '../registry/strategy.js';
import type { Exchange } from './exchange.js';
import type { RequestInfo } from './request-info.js';
import type { Subresource } from './subresources.js';
import { tunneledProtocols, tunnelSpdyOverWebSocket } from './streaming/spdy-tunnel.js';


const core = (parentPlural: string, name: string, kind: string, verbs: string[], namespaced = true): ExtraSubresource => ({ group: '', version: 'v1', parentPlural, name, kind: { group: '', version: 'v1', kind }, verbs, namespaced });
/** Discovery's entries for the kubelet paths, as upstream lists them. */
export const KUBELET_SUBRESOURCES: ExtraSubresource[] = [
  core('pods', 'log', 'Pod', ['get']),
  core('pods', 'exec', 'PodExecOptions', ['create', 'get']),
  core('pods', 'attach', 'PodAttachOptions', ['create', 'get']),
  core('pods', 'portforward', 'PodPortForwardOptions', ['create', 'get']),
  core('pods', 'proxy', 'PodProxyOptions', ['create', 'delete', 'get', 'patch', 'update']),
  core('services', 'proxy', 'ServiceProxyOptions', ['create', 'delete', 'get', 'patch', 'update']),
  core('nodes', 'proxy', 'NodeProxyOptions', ['create', 'delete', 'get', 'patch', 'update'], false),
];
const KUBELET_TIMEOUT_MS = 30_000;
/** Request headers not passed on to a kubelet or pod (hop-by-hop, and the client's credentials). */
const DROPPED_REQUEST_HEADERS = new Set(['authorization', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'te', 'trailer', 'proxy-authorization', 'http2-settings']);
const DROPPED_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'trailer']);

export interface KubeletTarget {
  host: string;
  port: number;
  servername: string;
}

/** Dials kubelets as the API server's kubelet client. */
export class KubeletConnector {
  private readonly agent: Agent;

  constructor(readonly registryRef: Registry, private readonly caPem: string, private readonly client: KeyAndCert) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 64, ca: caPem, cert: client.certPem, key: client.keyPem, checkServerIdentity: () => undefined });
  }

  /** Where node `name`'s kubelet listens (InternalIP first, as --kubelet-preferred-address-types defaults). */
  target(nodeName: string): KubeletTarget {
    const node = this.registryRef.of('', 'nodes').tryGet(undefined, nodeName)?.object as Obj | undefined;
    if (!node) throw errors.notFound({ group: '', resource: 'nodes' }, nodeName);
    const addresses: Array<{ type: string; address: string }> = node.status?.addresses ?? [];
    const address = ['InternalIP', 'Hostname', 'ExternalIP'].map((type) => addresses.find((a) => a.type === type)?.address).find(Boolean);
    const port = Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0);
    if (!address || !port) throw errors.badRequest(`node ${nodeName} has no kubelet endpoint`);
    return { host: address, port, servername: nodeName };
  }

  isVirtual(nodeName: string): boolean {
    const node = this.registryRef.of('', 'nodes').tryGet(undefined, nodeName)?.object as Obj | undefined;
    return node?.metadata.annotations?.[VIRTUAL_NODE_ANNOTATION] === 'true';
  }

  /** An HTTPS request to the kubelet; resolves with its response (any status). */
  request(target: KubeletTarget, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest({ host: target.host, port: target.port, servername: isIp(target.servername) ? undefined : target.servername, method, path, headers, agent: this.agent, timeout: KUBELET_TIMEOUT_MS }, resolve);
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (error) => reject(errors.internal(`error dialing backend: ${error.message}`)));
      req.end(body);
    });
  }

  /** Relays an upgrade request to the kubelet and then the bytes both ways, until either side closes. */
  /** A TLS connection to the kubelet as its client (`secureConnect` once usable). */
  dial(target: KubeletTarget): TLSSocket {
    // No Nagle: stream frames are small and interactive (with it, each echo waited ~40 ms for a delayed ACK).
    const socket = tlsConnect({ host: target.host, port: target.port, servername: isIp(target.servername) ? undefined : target.servername, ca: this.caPem, cert: this.client.certPem, key: this.client.keyPem, checkServerIdentity: () => undefined, ALPNProtocols: ['http/1.1'] });
    socket.setNoDelay(true);
    return socket;
  }

  /** Tunnels a WebSocket client's SPDY to the kubelet's SPDY upgrade at `path` (KEP-4006). */
  tunnel(ex: Exchange, target: KubeletTarget, path: string, protocols: string[]): void {
    const upgrade = ex.upgrade!;
    ex.upgraded = true;
    tunnelSpdyOverWebSocket({
      request: upgrade.request,
      socket: upgrade.socket,
      head: upgrade.head,
      protocols,
      upstream: this.dial(target),
      ready: 'secureConnect',
      path,
      host: `${target.host}:${target.port}`,
      onDialError: (error) => dialFailure(upgrade.socket, error),
    });
  }

  upgrade(ex: Exchange, target: KubeletTarget, path: string): void {
    const upgrade = ex.upgrade!;
    const upstream = this.dial(target);
    const client = upgrade.socket;
    ex.upgraded = true;
    upstream.once('secureConnect', () => {
      const lines = [`${ex.method} ${path} HTTP/1.1`, `Host: ${target.host}:${target.port}`, 'Connection: Upgrade'];
      for (const [name, value] of ex.headerLines()) {
        if (DROPPED_REQUEST_HEADERS.has(name) || name.startsWith('impersonate-')) continue;
        lines.push(`${name}: ${value}`);
      }
      lines.push(`Upgrade: ${ex.header('upgrade') ?? 'websocket'}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (upgrade.head.length > 0) upstream.write(upgrade.head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', (error) => {
      if (!client.destroyed && upstream.bytesRead === 0) dialFailure(client, error);
      else close();
    });
    upstream.on('close', close);
    client.on('close', close);
    client.on('error', close);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The 500 Status a client gets on its raw upgrade connection when the kubelet cannot be reached. */
function dialFailure(client: Duplex, error: Error): void {
  if (client.destroyed) return;
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `error dialing backend: ${error.message}`, reason: 'InternalError', code: 500 });
  client.end(`HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

function isIp(value: string): boolean {
  return /^[\d.]+$/.test(value) || value.includes(':');
}

function forwardedHeaders(ex: Exchange): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of ex.headerLines()) if (!DROPPED_REQUEST_HEADERS.has(name) && !name.startsWith('impersonate-') && !name.startsWith(':')) headers[name] = value;
  return headers;
}

/** Streams a kubelet's (or pod's) response to the client; a kubelet error becomes a Status. */
async function relay(ex: Exchange, response: IncomingMessage, asStatus: boolean): Promise<void> {
  const status = response.statusCode ?? 502;
  if (asStatus && status >= 400) {
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const message = Buffer.concat(chunks).toString('utf8').trim() || `the kubelet answered ${status}`;
    throw new ApiError(status, status === 404 ? 'NotFound' : status === 401 || status === 403 ? 'Forbidden' : status >= 500 ? 'InternalError' : 'BadRequest', message);
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(response.headers)) if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name)) headers[name] = value;
  const out = ex.stream(status, headers);
  ex.onClose(() => response.destroy());
  response.on('data', (chunk: Buffer) => {
    if (!out.write(chunk)) response.pause();
  });
  const drainTimer = setInterval(() => {
    if (response.isPaused() && out.bufferedBytes === 0) response.resume();
  }, 20);
  await new Promise<void>((resolve) => {
    response.once('end', resolve);
    response.once('close', resolve);
    response.once('error', resolve);
  });
  clearInterval(drainTimer);
  out.end();
}

// --- validation shared by the pod paths (upstream's pod strategy *Location functions) ---

function podOf(generic: GenericStore, namespace: string | undefined, name: string): Obj {
  return generic.get(namespace, name).object as Obj;
}

function containerNames(pod: Obj): string[] {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c: Obj) => c.name);
}

/** The container a request names, or the pod's only one. */
function containerFor(pod: Obj, requested: string | null): string {
  const name = pod.metadata.name;
  if (requested) {
    if (!containerNames(pod).includes(requested)) throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const containers: Obj[] = pod.spec?.containers ?? [];
  if (containers.length === 1) return containers[0].name;
  throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`);
}

function nodeOf(pod: Obj): string {
  const node = pod.spec?.nodeName;
  if (!node) throw errors.badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
  return node;
}

const LOG_QUERY = ['follow', 'previous', 'timestamps', 'tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes', 'insecureSkipTLSVerifyBackend'];

function validateLogQuery(query: URLSearchParams, name: string): void {
  const causes: FieldError[] = [];
  const integer = (key: string, minimum: number) => {
    const raw = query.get(key);
    if (raw === null) return;
    if (!/^-?\d+$/.test(raw)) throw errors.badRequest(`Invalid value for ${key}: ${JSON.stringify(raw)}`);
    if (Number(raw) < minimum) causes.push(fieldErrors.invalid(key, Number(raw), `must be ${minimum === 0 ? 'greater than or equal to 0' : 'greater than 0'}`));
  };
  integer('tailLines', 0);
  integer('sinceSeconds', 1);
  integer('limitBytes', 1);
  const sinceTime = query.get('sinceTime');
  if (sinceTime !== null && Number.isNaN(Date.parse(sinceTime))) throw errors.badRequest(`Invalid value for sinceTime: ${JSON.stringify(sinceTime)}`);
  if (sinceTime !== null && query.get('sinceSeconds') !== null) causes.push(fieldErrors.forbidden('sinceSeconds', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  if (causes.length > 0) throw errors.invalid('PodLogOptions', '', name, causes);
}

function kubeletFor(context: { kubelet?: KubeletConnector } | undefined): KubeletConnector {
  if (!context?.kubelet) throw errors.pathNotFound();
  return context.kubelet;
}

const isPodKind = (strategy: { kind: string; group: string }) => strategy.kind === 'Pod' && strategy.group === '';

export const podLogSubresource: Subresource = {
  supports: isPodKind,
  async handle(ex, info, query, generic, namespace, context) {
    if (info.verb !== 'get') throw errors.methodNotAllowed(ex.method, info.path);
    const kubelet = kubeletFor(context);
    const pod = podOf(generic, namespace, info.name!);
    validateLogQuery(query, info.name!);
    const container = containerFor(pod, query.get('container'));
    const target = kubelet.target(nodeOf(pod));
    const forwarded = new URLSearchParams();
    for (const key of LOG_QUERY) if (query.get(key) !== null && key !== 'insecureSkipTLSVerifyBackend') forwarded.set(key, query.get(key)!);
    const path = `/containerLogs/${enc(namespace!)}/${enc(info.name!)}/${enc(container)}${forwarded.size > 0 ? `?${forwarded}` : ''}`;
    await relay(ex, await kubelet.request(target, 'GET', path, {}), true);
  },
};

function streamSubresource(kind: 'exec' | 'attach'): Subresource {
  return {
    supports: isPodKind,
    handle(ex, info, query, generic, namespace, context) {
      if (info.verb !== 'get' && info.verb !== 'create') throw errors.methodNotAllowed(ex.method, info.path);
      const kubelet = kubeletFor(context);
      const pod = podOf(generic, namespace, info.name!);
      const container = containerFor(pod, query.get('container'));
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') throw errors.badRequest(`cannot ${kind === 'exec' ? 'exec into' : 'attach to'} a container in a completed pod; current phase is ${phase}`);
      if (kind === 'exec' && query.getAll('command').length === 0) throw errors.badRequest('you must specify at least 1 command');
      if (!ex.upgrade) throw errors.badRequest('Upgrade request required');
      const target = kubelet.target(nodeOf(pod));
      const forwarded = new URLSearchParams();
      for (const key of ['stdin', 'stdout', 'stderr', 'tty']) if (query.get(key) !== null) forwarded.set(key, query.get(key)!);
      for (const command of query.getAll('command')) forwarded.append('command', command);
      kubelet.upgrade(ex, target, `/${kind}/${enc(namespace!)}/${enc(info.name!)}/${enc(container)}?${forwarded}`);
    },
  };
}

export const podExecSubresource = streamSubresource('exec');
export const podAttachSubresource = streamSubresource('attach');

export const podPortForwardSubresource: Subresource = {
  supports: isPodKind,
  handle(ex, info, query, generic, namespace, context) {
    if (info.verb !== 'get' && info.verb !== 'create') throw errors.methodNotAllowed(ex.method, info.path);
    const kubelet = kubeletFor(context);
    const pod = podOf(generic, namespace, info.name!);
    if (pod.status?.phase !== 'Running') throw errors.badRequest(`unable to forward port because pod is not running. Current status=${pod.status?.phase ?? 'Pending'}`);
    if (!ex.upgrade) throw errors.badRequest('Upgrade request required');
    const ports = query.getAll('ports');
    const target = kubelet.target(nodeOf(pod));
    const path = `/portForward/${enc(namespace!)}/${enc(info.name!)}${ports.length > 0 ? `?${ports.map((p) => `ports=${enc(p)}`).join('&')}` : ''}`;
    // kubectl 1.31+: SPDY inside a WebSocket, unwrapped here for the kubelet's SPDY; older: SPDY relayed as it is.
    const tunneled = (ex.header('upgrade') ?? '').toLowerCase() === 'websocket' ? tunneledProtocols(ex.upgrade.request) : [];
    if (tunneled.length > 0) kubelet.tunnel(ex, target, path, tunneled);
    else kubelet.upgrade(ex, target, path);
  },
};

/** "name", "name:port" or "scheme:name:port", as the proxy subresources take them. */
function splitProxyName(raw: string): { scheme?: string; name: string; port?: string } {
  const parts = raw.split(':');
  if (parts.length === 3) return { scheme: parts[0], name: parts[1], port: parts[2] };
  if (parts.length === 2) return { name: parts[0], port: parts[1] };
  return { name: raw };
}

function proxyPath(info: RequestInfo, query: URLSearchParams): string {
  const rest = info.rest.map(enc).join('/');
  const search = query.toString();
  return `/${rest}${search ? `?${search}` : ''}`;
}

async function proxyToPod(ex: Exchange, kubelet: KubeletConnector, pod: Obj, port: string, path: string, scheme?: string): Promise<void> {
  const body = ex.method === 'GET' || ex.method === 'HEAD' ? undefined : await ex.readBody(3 * 1024 * 1024);
  const node = nodeOf(pod);
  if (kubelet.isVirtual(node)) {
    const target = kubelet.target(node);
    return relay(ex, await kubelet.request(target, ex.method, `/podProxy/${enc(pod.metadata.namespace!)}/${enc(pod.metadata.name!)}/${enc(port)}${path}`, forwardedHeaders(ex), body), false);
  }
  const podIp = pod.status?.podIP;
  if (!podIp) throw errors.badRequest(`address not allowed`);
  const send = scheme === 'https' ? httpsRequest : httpRequest;
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = send({ host: podIp, port: Number(port), method: ex.method, path, headers: forwardedHeaders(ex), timeout: KUBELET_TIMEOUT_MS, rejectUnauthorized: false }, resolve);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => reject(new ApiError(503, 'ServiceUnavailable', `error trying to reach service: ${error.message}`)));
    req.end(body);
  });
  return relay(ex, response, false);
}

/** The pod's port a proxy request names: a number, a container port's name, or the first declared. */
function podPort(pod: Obj, requested: string | undefined): string {
  if (requested && /^\d+$/.test(requested)) return requested;
  const ports: Obj[] = (pod.spec?.containers ?? []).flatMap((c: Obj) => c.ports ?? []);
  if (requested) {
    const named = ports.find((p) => p.name === requested);
    if (!named) throw errors.badRequest(`no such port ${requested} on pod ${pod.metadata.name}`);
    return String(named.containerPort);
  }
  return String(ports[0]?.containerPort ?? 80);
}

export const podProxySubresource: Subresource = {
  supports: isPodKind,
  async handle(ex, info, query, generic, namespace, context) {
    const kubelet = kubeletFor(context);
    const { scheme, name, port } = splitProxyName(info.name!);
    const pod = podOf(generic, namespace, name);
    await proxyToPod(ex, kubelet, pod, podPort(pod, port), proxyPath(info, query), scheme);
  },
};

export const serviceProxySubresource: Subresource = {
  supports: (strategy) => strategy.kind === 'Service' && strategy.group === '',
  async handle(ex, info, query, generic, namespace, context) {
    const kubelet = kubeletFor(context);
    const registry = kubelet.registryRef;
    const { scheme, name, port } = splitProxyName(info.name!);
    const service = generic.get(namespace, name).object as Obj;
    const servicePorts: Obj[] = service.spec?.ports ?? [];
    const servicePort = port ? servicePorts.find((p) => p.name === port || String(p.port) === port) : servicePorts[0];
    if (port && !servicePort) throw new ApiError(503, 'ServiceUnavailable', `no service port ${JSON.stringify(port)} found for service "${name}"`);
    const endpoints = registry.of('', 'endpoints').tryGet(namespace, name)?.object as Obj | undefined;
    for (const subset of (endpoints?.subsets ?? []) as Obj[]) {
      const endpointPort = ((subset.ports ?? []) as Obj[]).find((p) => !servicePort?.name || p.name === servicePort.name) ?? subset.ports?.[0];
      for (const address of (subset.addresses ?? []) as Obj[]) {
        const ref = address.targetRef;
        if (ref?.kind !== 'Pod') continue;
        const pod = registry.of('', 'pods').tryGet(ref.namespace ?? namespace, ref.name)?.object as Obj | undefined;
        if (!pod?.spec?.nodeName) continue;
        return proxyToPod(ex, kubelet, pod, String(endpointPort?.port ?? servicePort?.targetPort ?? servicePort?.port ?? 80), proxyPath(info, query), scheme);
      }
    }
    throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${name}"`);
  },
};

export const nodeProxySubresource: Subresource = {
  supports: (strategy) => strategy.kind === 'Node' && strategy.group === '',
  async handle(ex, info, query, _generic, _namespace, context) {
    const kubelet = kubeletFor(context);
    const { name } = splitProxyName(info.name!);
    const target = kubelet.target(name);
    const body = ex.method === 'GET' || ex.method === 'HEAD' ? undefined : await ex.readBody(3 * 1024 * 1024);
    await relay(ex, await kubelet.request(target, ex.method, proxyPath(info, query), forwardedHeaders(ex), body), false);
  },
};

function enc(value: string): string {
  return encodeURIComponent(value);
}

