/**
 * The HTTP client: the REST API of any Kubernetes API server (Nautilus or not), over HTTPS
 * keep-alive, authenticated as a kubeconfig says (client certificate or bearer token). What a
 * separate process (e.g. `nautilus nodes`) uses to join a running server, as a kubelet would.
 */
import { Agent, request, type RequestOptions } from 'node:https';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError, type StatusDetails } from '../api/status.js';
import { apiVersionOfType, type ResourceType } from './resource-types.js';
import type { ApiClient, DeleteOptions, DiscoveredResource, ListOptions, Obj, ObjectList, PatchOptions, PatchType, Watch, WatchHandlers, WatchOptions, WriteOptions } from './api-client.js';

export interface HttpClientOptions {
  server: string;
  caPem?: string;
  certPem?: string;
  keyPem?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
  userAgent?: string;
  /** Server-side lifetime of each watch before it is renewed from its last resourceVersion. */
  watchTimeoutSeconds?: number;
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

const MAX_CONFLICT_RETRIES = 5;

function newAgent(options: HttpClientOptions): Agent {
  return new Agent({ keepAlive: true, ca: options.caPem, cert: options.certPem, key: options.keyPem, rejectUnauthorized: !options.insecureSkipTlsVerify });
}

export class HttpClient implements ApiClient {
  private agent: Agent;
  private readonly base: URL;

  constructor(private options: HttpClientOptions) {
    this.base = new URL(options.server);
    this.agent = newAgent(options);
  }

  /**
   * Authenticates with a new client certificate from now on. As the kubelet does when it rotates
   * its certificate, every open connection is closed (watches included; informers re-establish
   * them), so no request goes on under the old identity.
   */
  setClientCertificate(certPem: string, keyPem: string): void {
    const old = this.agent;
    this.options = { ...this.options, certPem, keyPem };
    this.agent = newAgent(this.options);
    old.destroy();
  }

  /** Reads a kubeconfig file: its current context's server, CA and credentials. */
  static fromKubeconfig(path: string, overrides: Partial<HttpClientOptions> = {}, context?: string): HttpClient {
    return new HttpClient({ ...kubeconfigCredentials(path, context), ...overrides });
  }

  close(): void {
    this.agent.destroy();
  }

  async discover(): Promise<DiscoveredResource[]> {
    interface ResourceList {
      groupVersion: string;
      resources: Array<{ name: string; kind: string; namespaced: boolean; verbs: string[] }>;
    }
    const lists: ResourceList[] = [(await this.call('GET', '/api/v1')) as ResourceList];
    const groups = (await this.call('GET', '/apis')) as { groups?: Array<{ preferredVersion?: { groupVersion: string } }> };
    for (const group of groups.groups ?? []) {
      if (group.preferredVersion) lists.push((await this.call('GET', `/apis/${group.preferredVersion.groupVersion}`)) as ResourceList);
    }
    return lists.flatMap((list) => {
      const [group, version] = list.groupVersion.includes('/') ? list.groupVersion.split('/') : ['', list.groupVersion];
      return list.resources
        .filter((resource) => !resource.name.includes('/'))
        .map((resource) => {
          const subresources = list.resources.filter((r) => r.name.startsWith(`${resource.name}/`)).map((r) => r.name.slice(resource.name.length + 1));
          return { group, version, resource: resource.name, kind: resource.kind, namespaced: resource.namespaced, verbs: resource.verbs, subresources };
        });
    });
  }

  async get(type: ResourceType, namespace: string | undefined, name: string): Promise<Obj> {
    return (await this.call('GET', objectPath(type, namespace, name))) as Obj;
  }

  async list(type: ResourceType, namespace: string | undefined, options: ListOptions = {}): Promise<ObjectList> {
    const query = new URLSearchParams();
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    if (options.limit) query.set('limit', String(options.limit));
    if (options.continue) query.set('continue', options.continue);
    const list = (await this.call('GET', collectionPath(type, namespace), undefined, query)) as { items?: Obj[]; metadata?: { resourceVersion?: string; continue?: string } };
    const items = (list.items ?? []).map((item) => ({ apiVersion: apiVersionOfType(type), kind: type.kind, ...item }));
    return { items, resourceVersion: list.metadata?.resourceVersion ?? '', continue: list.metadata?.continue || undefined };
  }

  watch(type: ResourceType, namespace: string | undefined, options: WatchOptions, handlers: WatchHandlers): Watch {
    const query = new URLSearchParams({ watch: '1', allowWatchBookmarks: 'true', resourceVersion: options.resourceVersion });
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    query.set('timeoutSeconds', String(this.options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300)));
    let stopped = false;
    let closed = false;
    const close = (reason: { expired: boolean; error?: Error }) => {
      if (stopped || closed) return;
      closed = true;
      handlers.onClose(reason);
    };
    const req = request(this.requestOptions('GET', collectionPath(type, namespace), query), (res) => {
      if (res.statusCode !== 200) {
        void readAll(res).then((body) => close({ expired: res.statusCode === 410, error: toApiError(res.statusCode ?? 0, body) }));
        return;
      }
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          if (line.trim() === '' || stopped) continue;
          const event = JSON.parse(line) as { type: string; object: Obj };
          if (event.type === 'BOOKMARK') handlers.onBookmark?.(event.object.metadata?.resourceVersion ?? '');
          else if (event.type === 'ERROR') {
            const status = event.object as unknown as { code?: number; message?: string; reason?: string };
            close({ expired: status.code === 410, error: new ApiError(status.code ?? 500, status.reason ?? 'InternalError', status.message ?? 'watch failed') });
            res.destroy();
            return;
          } else {
            const object = { apiVersion: apiVersionOfType(type), kind: type.kind, ...event.object };
            handlers.onEvent(event.type as 'ADDED' | 'MODIFIED' | 'DELETED', { object, revision: Number(object.metadata.resourceVersion ?? 0) });
          }
        }
      });
      res.on('end', () => close({ expired: false }));
      res.on('error', (error) => close({ expired: false, error }));
      res.on('close', () => close({ expired: false }));
    });
    req.on('error', (error) => close({ expired: false, error }));
    req.end();
    return {
      stop() {
        stopped = true;
        req.destroy();
      },
    };
  }

  async create(type: ResourceType, namespace: string | undefined, object: Obj, options: WriteOptions = {}): Promise<Obj> {
    const body = { apiVersion: apiVersionOfType(type), kind: type.kind, ...object };
    return (await this.call('POST', collectionPath(type, namespace ?? object.metadata?.namespace), body, writeQuery(options))) as Obj;
  }

  async update(type: ResourceType, namespace: string | undefined, name: string, object: Obj, options: WriteOptions = {}): Promise<Obj> {
    const body = { apiVersion: apiVersionOfType(type), kind: type.kind, ...object };
    return (await this.call('PUT', objectPath(type, namespace, name, options.subresource), body, writeQuery(options))) as Obj;
  }

  async patch(type: ResourceType, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, options: PatchOptions = {}): Promise<Obj> {
    const query = writeQuery(options);
    if (options.force) query.set('force', 'true');
    return (await this.call('PATCH', objectPath(type, namespace, name, options.subresource), patch, query, PATCH_CONTENT_TYPES[patchType])) as Obj;
  }

  async mutate(type: ResourceType, namespace: string | undefined, name: string, mutate: (current: Obj) => Obj | Promise<Obj>, options: WriteOptions = {}): Promise<Obj> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(type, namespace, name);
      const next = await mutate(current);
      try {
        return await this.update(type, namespace, name, next, options);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 409 && error.reason === 'Conflict') || attempt >= MAX_CONFLICT_RETRIES) throw error;
      }
    }
  }

  async delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<Obj | undefined> {
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', ...options, dryRun: options.dryRun ? ['All'] : undefined };
    const answer = (await this.call('DELETE', objectPath(type, namespace, name), body)) as Obj;
    return answer.kind === 'Status' ? undefined : answer;
  }

  async getScale(type: ResourceType, namespace: string | undefined, name: string): Promise<Obj> {
    return (await this.call('GET', objectPath(type, namespace, name, 'scale'))) as Obj;
  }

  async updateScale(type: ResourceType, namespace: string | undefined, name: string, replicas: number, options: WriteOptions = {}): Promise<Obj> {
    return (await this.call('PATCH', objectPath(type, namespace, name, 'scale'), { spec: { replicas } }, writeQuery(options), PATCH_CONTENT_TYPES.merge)) as Obj;
  }

  async createSubresource(type: ResourceType, namespace: string | undefined, name: string, subresource: string, body: Obj, options: WriteOptions = {}): Promise<Obj> {
    return (await this.call('POST', objectPath(type, namespace, name, subresource), body, writeQuery(options))) as Obj;
  }

  private requestOptions(method: string, path: string, query?: URLSearchParams, body?: { contentType: string; length: number }): RequestOptions {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.options.userAgent ?? 'nautilus-client' };
    // An explicit length: Node sends a DELETE body unframed otherwise.
    if (body) Object.assign(headers, { 'content-type': body.contentType, 'content-length': String(body.length) });
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const search = query && [...query.keys()].length > 0 ? `?${query}` : '';
    return { method, host: this.base.hostname.replace(/^\[|\]$/g, ''), port: this.base.port || 443, path: `${this.base.pathname.replace(/\/$/, '')}${path}${search}`, headers, agent: this.agent };
  }

  private call(method: string, path: string, body?: unknown, query?: URLSearchParams, contentType = 'application/json'): Promise<unknown> {
    return new Promise((resolvePromise, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(this.requestOptions(method, path, query, payload && { contentType, length: payload.length }), (res) => {
        readAll(res).then((text) => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) return reject(toApiError(status, text));
          try {
            resolvePromise(text ? JSON.parse(text) : {});
          } catch (error) {
            reject(error);
          }
        }, reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }
}

function basePath(type: ResourceType): string {
  return type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
}

function collectionPath(type: ResourceType, namespace: string | undefined): string {
  const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${basePath(type)}${ns}/${type.resource}`;
}

function objectPath(type: ResourceType, namespace: string | undefined, name: string, subresource?: string): string {
  return `${collectionPath(type, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}

function writeQuery(options: WriteOptions): URLSearchParams {
  const query = new URLSearchParams();
  if (options.dryRun) query.set('dryRun', 'All');
  if (options.fieldManager) query.set('fieldManager', options.fieldManager);
  return query;
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolvePromise(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/** The server's Status as an ApiError (or a plain one when the body is not a Status). */
function toApiError(code: number, body: string): ApiError {
  try {
    const status = JSON.parse(body) as { kind?: string; reason?: string; message?: string; details?: StatusDetails };
    if (status.kind === 'Status') return new ApiError(code, status.reason ?? '', status.message ?? '', status.details);
  } catch {
    // not JSON: fall through
  }
  return new ApiError(code, code === 401 ? 'Unauthorized' : 'InternalError', body.slice(0, 500) || `HTTP ${code}`);
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
  clusters?: Array<{ name: string; cluster: Record<string, string | boolean> }>;
  users?: Array<{ name: string; user: Record<string, string> }>;
}

/** The current (or the named) context's server and credentials; file references are relative to the kubeconfig. */
export function kubeconfigCredentials(path: string, contextOverride?: string): HttpClientOptions {
  const config = parseYaml(readFileSync(path, 'utf8')) as KubeconfigFile;
  const contextName = contextOverride ?? config['current-context'] ?? config.contexts?.[0]?.name;
  const context = config.contexts?.find((c) => c.name === contextName)?.context;
  if (contextOverride && !context) throw new Error(`${path}: no context named ${JSON.stringify(contextOverride)}`);
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster ?? config.clusters?.[0]?.cluster;
  const user = config.users?.find((u) => u.name === context?.user)?.user ?? config.users?.[0]?.user ?? {};
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`${path}: no cluster server in the current context`);
  const dir = dirname(resolve(path));
  const read = (data: unknown, file: unknown): string | undefined => {
    if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
    if (typeof file === 'string') return readFileSync(resolve(dir, file), 'utf8');
    return undefined;
  };
  return {
    server: cluster.server,
    caPem: read(cluster['certificate-authority-data'], cluster['certificate-authority']),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    certPem: read(user['client-certificate-data'], user['client-certificate']),
    keyPem: read(user['client-key-data'], user['client-key']),
    token: user.token ?? (user.tokenFile ? readFileSync(resolve(dir, user.tokenFile), 'utf8').trim() : undefined),
  };
}
