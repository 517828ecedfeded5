/**
 * API aggregation (kube-aggregator, in process):
 * - every locally served group-version has a Local APIService (built-ins and custom resources
 *   alike, kept in step with the registry);
 * - an APIService backed by a Service takes the requests for its group-version — unless the
 *   group-version is served here, which always wins — and they are proxied to the Service over
 *   HTTPS (its caBundle, or insecureSkipTLSVerify) with the front-proxy identity headers
 *   (X-Remote-User, X-Remote-Group, X-Remote-Extra-*) and a front-proxy client certificate;
 * - its availability is checked, reported in the Available condition, and its discovery is merged
 *   into /apis and aggregated discovery.
 */
import { request, type RequestOptions } from 'node:https';
import { checkServerIdentity } from 'node:tls';
import { ApiError } from '../api/status.js';
import { compareVersions } from '../api/discovery.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import type { InformerFactory } from '../client/informer-factory.js';
import { API_SERVICES } from '../client/resource-types.js';
import type { Registry } from '../registry/registry.js';
import type { KindStrategy } from '../registry/strategy.js';
import { setCondition } from '../registry/custom-resource-definitions.js';
import { resolveService } from '../server/service-resolver.js';
import type { Exchange } from '../server/exchange.js';
import type { ApiSurface } from '../server/api-surface.js';
import { respondError } from '../server/responses.js';
import { log } from '../server/log.js';
import type { KeyAndCert } from '../auth/pki.js';

const AUTOMANAGED = 'kube-aggregator.kubernetes.io/automanaged';
const CHECK_EVERY_MS = 10_000;
const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Upstream's group priorities (higher first); groups not listed rank as custom resources do. */
const GROUP_PRIORITIES: Record<string, number> = {
  '': 18000, 'apiregistration.k8s.io': 17900, apps: 17800, 'events.k8s.io': 17750, 'authentication.k8s.io': 17700,
  'authorization.k8s.io': 17600, autoscaling: 17500, batch: 17400, 'certificates.k8s.io': 17300, 'networking.k8s.io': 17200,
  policy: 17100, 'rbac.authorization.k8s.io': 17000, 'storage.k8s.io': 16800, 'admissionregistration.k8s.io': 16700,
  'apiextensions.k8s.io': 16700, 'scheduling.k8s.io': 16600, 'coordination.k8s.io': 16500, 'node.k8s.io': 16300,
  'discovery.k8s.io': 16200, 'flowcontrol.apiserver.k8s.io': 16100,
};

export interface AggregatorOptions {
  registry: Registry;
  client: ApiClient;
  informers: InformerFactory;
  surface: ApiSurface;
  /** The client certificate the aggregator presents to API servers behind it. */
  frontProxy: KeyAndCert;
}

interface Backend {
  apiService: Obj;
  group: string;
  version: string;
}

export class Aggregator {
  private readonly apiServices;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly discovered = new Map<string, KindStrategy[]>();

  constructor(private readonly options: AggregatorOptions) {
    this.apiServices = options.informers.informer(API_SERVICES);
  }

  async start(): Promise<void> {
    await this.apiServices.start();
    await this.registerLocal();
    this.options.registry.onChange(() => void this.registerLocal().catch((error) => log.error('local APIService registration failed', { error: (error as Error).message })));
    this.apiServices.addEventHandler({ onAdd: () => this.scheduleCheck(0), onUpdate: (old, now) => old.metadata.generation !== now.metadata.generation && this.scheduleCheck(0), onDelete: () => this.scheduleCheck(0) });
    this.scheduleCheck(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The APIService that takes requests for this group-version, if it is not served here. */
  backendFor(group: string, version: string): Backend | undefined {
    if (!group || this.servedLocally(group, version)) return undefined;
    const apiService = this.apiServices.lister.get(undefined, `${version}.${group}`);
    if (!apiService?.spec?.service) return undefined;
    return { apiService, group, version };
  }

  /** Proxies the request to the APIService's Service, as the authenticated user. */
  async proxy(ex: Exchange, backend: Backend): Promise<void> {
    const available = (backend.apiService.status?.conditions ?? []).find((c: Obj) => c.type === 'Available');
    if (available && available.status !== 'True') throw new ApiError(503, 'ServiceUnavailable', `the server is currently unable to handle the request`);
    const spec = backend.apiService.spec;
    const { url, serverName } = resolveService(this.options.registry, { namespace: spec.service.namespace, name: spec.service.name, port: spec.service.port ?? 443 });
    const body = ex.method === 'GET' || ex.method === 'HEAD' ? undefined : await ex.readBody(MAX_BODY_BYTES);
    const headers: Record<string, string | string[]> = {};
    for (const name of ['accept', 'content-type', 'user-agent', 'accept-encoding']) {
      const value = ex.header(name);
      if (value) headers[name] = value;
    }
    const user = ex.user;
    if (user) {
      headers['x-remote-user'] = user.name;
      headers['x-remote-group'] = user.groups;
      const extra = (user as { extra?: Record<string, string[]> }).extra ?? {};
      for (const [key, values] of Object.entries(extra)) headers[`x-remote-extra-${encodeURIComponent(key)}`] = values;
    }
    if (body) headers['content-length'] = String(body.length);
    const options: RequestOptions = {
      method: ex.method,
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || 443,
      path: ex.url,
      headers,
      cert: this.options.frontProxy.certPem,
      key: this.options.frontProxy.keyPem,
      ...this.tlsOptions(spec, serverName),
    };
    await new Promise<void>((resolve) => {
      const req = request(options, (res) => {
        const responseHeaders: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined || ['connection', 'transfer-encoding', 'keep-alive'].includes(name)) continue;
          responseHeaders[name] = value;
        }
        const stream = ex.stream(res.statusCode ?? 502, responseHeaders);
        res.on('data', (chunk: Buffer) => stream.write(chunk));
        res.on('end', () => {
          stream.end();
          resolve();
        });
        res.on('error', () => {
          stream.end();
          resolve();
        });
        ex.onClose(() => req.destroy());
      });
      req.on('error', (error) => {
        if (!ex.responded) respondError(ex, new ApiError(503, 'ServiceUnavailable', `error trying to reach service: ${error.message}`));
        resolve();
      });
      req.end(body);
    });
  }

  private tlsOptions(spec: Obj, serverName: string): Partial<RequestOptions> {
    if (spec.insecureSkipTLSVerify) return { rejectUnauthorized: false };
    return {
      ca: spec.caBundle ? Buffer.from(spec.caBundle, 'base64').toString('utf8') : undefined,
      servername: serverName,
      checkServerIdentity: (_host, cert) => checkServerIdentity(serverName, cert),
    };
  }

  private servedLocally(group: string, version: string): boolean {
    return this.options.registry.kinds.some((kind) => kind.group === group && kind.version === version);
  }

  /** Keeps one Local APIService per locally served group-version. */
  private async registerLocal(): Promise<void> {
    const { client, registry } = this.options;
    const wanted = new Map<string, Obj>();
    for (const kind of registry.kinds) {
      const name = kind.group ? `${kind.version}.${kind.group}` : kind.version;
      if (wanted.has(name)) continue;
      const custom = !(kind.group in GROUP_PRIORITIES) || registry.builtInKinds.every((b) => b.group !== kind.group);
      const versions = [...new Set(registry.kinds.filter((k) => k.group === kind.group).map((k) => k.version))].sort(compareVersions);
      wanted.set(name, {
        apiVersion: 'apiregistration.k8s.io/v1',
        kind: 'APIService',
        metadata: { name, labels: { [AUTOMANAGED]: custom ? 'true' : 'onstart' } },
        spec: { group: kind.group, version: kind.version, groupPriorityMinimum: custom ? 1000 : GROUP_PRIORITIES[kind.group], versionPriority: custom ? 100 : 15 + (versions.length - versions.indexOf(kind.version)) },
      } as Obj);
    }
    for (const [name, apiService] of wanted) {
      const existing = this.apiServices.lister.get(undefined, name);
      if (existing?.spec?.service) continue; // a user's APIService for a group served here: local still wins
      if (!existing) {
        try {
          await client.create(API_SERVICES, undefined, apiService);
        } catch (error) {
          if (!(error instanceof ApiError && error.code === 409)) throw error;
        }
      }
      const current = existing ?? this.apiServices.lister.get(undefined, name);
      const condition = (current?.status?.conditions ?? []).find((c: Obj) => c.type === 'Available');
      if (!condition || condition.status !== 'True' || condition.reason !== 'Local') {
        await this.writeAvailable(name, { status: 'True', reason: 'Local', message: 'Local APIServices are always available' });
      }
    }
    for (const apiService of this.apiServices.lister.list()) {
      if (apiService.metadata.labels?.[AUTOMANAGED] && !apiService.spec?.service && !wanted.has(apiService.metadata.name!)) {
        await client.delete(API_SERVICES, undefined, apiService.metadata.name!).catch(() => undefined);
      }
    }
  }

  private async writeAvailable(name: string, condition: { status: string; reason: string; message: string }): Promise<void> {
    try {
      await this.options.client.mutate(API_SERVICES, undefined, name, (current) => {
        setCondition(current, { type: 'Available', ...condition });
        return current;
      }, { subresource: 'status' });
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
  }

  private scheduleCheck(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.checkRemote()
        .catch((error) => log.error('APIService availability check failed', { error: (error as Error).message }))
        .finally(() => this.scheduleCheck(CHECK_EVERY_MS));
    }, delayMs);
  }

  /** Checks every Service-backed APIService, records Available, and merges its discovery. */
  private async checkRemote(): Promise<void> {
    const seen = new Set<string>();
    for (const apiService of this.apiServices.lister.list()) {
      const spec = apiService.spec ?? {};
      if (!spec.service) continue;
      const name = apiService.metadata.name!;
      seen.add(name);
      if (this.servedLocally(spec.group, spec.version)) {
        this.discovered.delete(name);
        continue;
      }
      try {
        const list = await this.fetchDiscovery(apiService);
        this.discovered.set(name, list);
        await this.writeAvailableIfChanged(apiService, { status: 'True', reason: 'Passed', message: 'all checks passed' });
      } catch (error) {
        this.discovered.delete(name);
        const reason = error instanceof ApiError && error.code === 503 ? (/not found/.test(error.message) ? 'ServiceNotFound' : 'MissingEndpoints') : 'FailedDiscoveryCheck';
        await this.writeAvailableIfChanged(apiService, { status: 'False', reason, message: `failing or missing response from ${spec.service.namespace}/${spec.service.name}: ${(error as Error).message}` });
      }
    }
    for (const name of this.discovered.keys()) if (!seen.has(name)) this.discovered.delete(name);
    this.options.surface.setAggregated([...this.discovered.values()].flat());
  }

  private async writeAvailableIfChanged(apiService: Obj, condition: { status: string; reason: string; message: string }): Promise<void> {
    const current = (apiService.status?.conditions ?? []).find((c: Obj) => c.type === 'Available');
    if (current && current.status === condition.status && current.reason === condition.reason && current.message === condition.message) return;
    await this.writeAvailable(apiService.metadata.name!, condition);
  }

  /** GET /apis/<group>/<version> from the backend, as discovery's kinds. */
  private fetchDiscovery(apiService: Obj): Promise<KindStrategy[]> {
    const spec = apiService.spec;
    const { url, serverName } = resolveService(this.options.registry, { namespace: spec.service.namespace, name: spec.service.name, port: spec.service.port ?? 443 });
    return new Promise((resolve, reject) => {
      const req = request(
        {
          method: 'GET',
          host: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || 443,
          path: `/apis/${spec.group}/${spec.version}`,
          headers: { accept: 'application/json', 'x-remote-user': 'system:kube-aggregator', 'x-remote-group': 'system:masters' },
          cert: this.options.frontProxy.certPem,
          key: this.options.frontProxy.keyPem,
          timeout: 5000,
          ...this.tlsOptions(spec, serverName),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`bad status from discovery: ${res.statusCode}`));
            try {
              const list = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resources?: Array<Record<string, unknown>> };
              resolve((list.resources ?? []).filter((r) => !String(r.name).includes('/')).map((r) => ({
                group: spec.group,
                version: spec.version,
                kind: String(r.kind),
                plural: String(r.name),
                singular: String(r.singularName ?? ''),
                namespaced: r.namespaced === true,
                verbs: (r.verbs as string[]) ?? [],
                shortNames: r.shortNames as string[] | undefined,
                categories: r.categories as string[] | undefined,
                columns: [],
              })));
            } catch (error) {
              reject(error);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  }
}
