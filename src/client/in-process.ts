/**
 * The in-process client: the same verbs as the REST API, served straight from the registry,
 * without HTTP or serialization on the way in. Every call is authorized under the client's
 * identity and goes through the kind's GenericStore, so validation, defaulting and admission
 * apply exactly as for a remote client.
 *
 * What comes back is the caller's own copy (parsed from the stored bytes, as a remote client
 * would get it); what goes in is copied first, so no caller can reach the store's objects. Watch
 * events and `listVersions` are the exception: they hand out the stored versions themselves, for
 * informers, which share them read-only.
 */
import { ApiError, errors } from '../api/status.js';
import { applyPatch } from '../api/patch/apply-patch.js';
import type { PatchSchema } from '../api/patch/schema.js';
import type { UserInfo } from '../auth/authenticate.js';
import { forbidden, type AuthorizationAttributes, type Authorizer } from '../auth/authorization.js';
import type { GenericStore } from '../registry/generic-store.js';
import { bindPod } from '../registry/pod-binding.js';
import { evictPod } from '../registry/pod-eviction.js';
import { applyScale, toScale } from '../registry/scale.js';
import type { Registry } from '../registry/registry.js';
import { buildSelection } from '../registry/selection.js';
import type { KindStrategy } from '../registry/strategy.js';
import { RevisionCompactedError, type StoredObject } from '../storage/store.js';
import type { ResourceType } from './resource-types.js';
import type { ApiClient, DeleteOptions, DiscoveredResource, ListOptions, Obj, ObjectList, ObjectVersion, PatchOptions, PatchType, Watch, WatchHandlers, WatchOptions, WriteOptions } from './api-client.js';

export interface InProcessClientOptions {
  registry: Registry;
  /** Who this client acts as: every call is authorized as this user. */
  user: UserInfo;
  /** The manager recorded in managedFields for writes that name none (e.g. "kube-controller-manager"). */
  fieldManager: string;
  authorizer?: Authorizer;
  /** Strategic merge patch needs each kind's patch strategies (from the OpenAPI document). */
  patchSchema?: (strategy: KindStrategy) => PatchSchema | undefined;
  /** Reads of kinds that are computed, not stored (metrics.k8s.io): the answer, by resource. */
  computed?: (type: ResourceType, namespace: string | undefined, name: string | undefined, options: ListOptions) => Obj | undefined;
}

type SubresourceWriter = (generic: GenericStore, namespace: string | undefined, name: string, body: Obj, options: { dryRun?: boolean; fieldManager?: string; user?: UserInfo }, registry: Registry) => Promise<Obj>;

const SUBRESOURCE_WRITERS: Record<string, SubresourceWriter> = {
  binding: async (pods, namespace, name, body, options) => {
    await bindPod(pods, namespace, name, body, options);
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  },
  eviction: async (_pods, namespace, name, body, options, registry) => {
    await evictPod(registry, namespace!, name, body, options);
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  },
};

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const PATCH_FORMATS = { json: 'json-patch', merge: 'merge-patch', strategic: 'strategic-merge-patch' } as const;

export class InProcessClient implements ApiClient {
  constructor(private readonly options: InProcessClientOptions) {}

  /** The same registry under another identity (each controller writes as itself). */
  as(user: UserInfo, fieldManager: string): InProcessClient {
    return new InProcessClient({ ...this.options, user, fieldManager });
  }

  get user(): UserInfo {
    return this.options.user;
  }

  async discover(): Promise<DiscoveredResource[]> {
    // One version per group-resource: the one that answers for it (a custom resource's storage version).
    const registry = this.options.registry;
    return registry.kinds.filter((kind) => registry.of(kind.group, kind.plural).strategy === kind).map((kind) => ({
      group: kind.group,
      version: kind.version,
      resource: kind.plural,
      kind: kind.kind,
      namespaced: kind.namespaced,
      verbs: kind.verbs ?? ALL_VERBS,
    }));
  }

  async get(type: ResourceType, namespace: string | undefined, name: string): Promise<Obj> {
    const generic = this.authorized(type, 'get', namespace, name);
    const computed = this.options.computed?.(type, scope(generic, namespace), name, {});
    if (computed) return computed;
    return copyOf(generic.get(scope(generic, namespace), name));
  }

  async list(type: ResourceType, namespace: string | undefined, options: ListOptions = {}): Promise<ObjectList> {
    const computed = this.options.computed && this.authorized(type, 'list', namespace) && this.options.computed(type, namespace, undefined, options);
    if (computed) return { items: computed.items, resourceVersion: '' };
    const { versions, resourceVersion } = this.listVersions(type, namespace, options);
    return { items: versions.map((version) => copyOf(version as StoredObject)), resourceVersion };
  }

  /**
   * A list as the stored versions themselves (shared, read-only), read at the revision watchers
   * have seen, so a watch from the returned resourceVersion misses nothing and repeats nothing.
   */
  listVersions(type: ResourceType, namespace: string | undefined, options: ListOptions = {}): { versions: ObjectVersion[]; resourceVersion: string } {
    const generic = this.authorized(type, 'list', namespace);
    const { filter, index } = buildSelection(generic.strategy, options);
    const revision = generic.visibleRevision;
    // An index answers for the latest state only; it is usable when nothing is in flight.
    const result = generic.list(scope(generic, namespace), { atRevision: revision, filter, index: revision === generic.currentRevision ? index : undefined });
    return { versions: result.items as ObjectVersion[], resourceVersion: String(result.revision) };
  }

  watch(type: ResourceType, namespace: string | undefined, options: WatchOptions, handlers: WatchHandlers): Watch {
    const generic = this.authorized(type, 'watch', namespace);
    const { filter } = buildSelection(generic.strategy, options);
    const fromRevision = options.resourceVersion === '' ? generic.visibleRevision : Number(options.resourceVersion);
    let stopped = false;
    try {
      const watcher = generic.watch(scope(generic, namespace), { fromRevision, filter }, (event, eventType) => {
        if (!stopped) handlers.onEvent(eventType, event.current as ObjectVersion);
      });
      return {
        stop() {
          stopped = true;
          watcher.close();
        },
      };
    } catch (error) {
      if (!(error instanceof RevisionCompactedError)) throw error;
      queueMicrotask(() => handlers.onClose({ expired: true, error }));
      return { stop: () => {} };
    }
  }

  async create(type: ResourceType, namespace: string | undefined, object: Obj, options: WriteOptions = {}): Promise<Obj> {
    const generic = this.authorized(type, 'create', namespace);
    const copy = structuredClone(object);
    copy.metadata ??= {};
    if (generic.strategy.namespaced) copy.metadata.namespace ??= namespace;
    return copyOf(await generic.create(copy, this.writeOptions(options)));
  }

  async update(type: ResourceType, namespace: string | undefined, name: string, object: Obj, options: WriteOptions = {}): Promise<Obj> {
    const generic = this.authorized(type, 'update', namespace, name, options.subresource);
    return copyOf(await generic.update(scope(generic, namespace), name, structuredClone(object), this.writeOptions(options)));
  }

  async patch(type: ResourceType, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, options: PatchOptions = {}): Promise<Obj> {
    if (patchType === 'apply') throw errors.badRequest('server-side apply is not offered to in-process clients; use mutate or a merge patch');
    const generic = this.authorized(type, 'patch', namespace, name, options.subresource);
    const schema = this.options.patchSchema?.(generic.strategy);
    const stored = await generic.guaranteedUpdate(scope(generic, namespace), name, (current) => applyPatch(PATCH_FORMATS[patchType], current, patch, schema), this.writeOptions(options));
    return copyOf(stored);
  }

  async mutate(type: ResourceType, namespace: string | undefined, name: string, mutate: (current: Obj) => Obj | Promise<Obj>, options: WriteOptions = {}): Promise<Obj> {
    const generic = this.authorized(type, 'update', namespace, name, options.subresource);
    return copyOf(await generic.guaranteedUpdate(scope(generic, namespace), name, mutate, this.writeOptions(options)));
  }

  async delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<Obj | undefined> {
    const generic = this.authorized(type, 'delete', namespace, name);
    const result = await generic.delete(scope(generic, namespace), name, { ...options, user: this.options.user });
    return result.deleted ? undefined : copyOf(result.stored);
  }

  async getScale(type: ResourceType, namespace: string | undefined, name: string): Promise<Obj> {
    const generic = this.authorized(type, 'get', namespace, name, 'scale');
    if (!generic.strategy.scale) throw errors.pathNotFound();
    return toScale(generic.strategy, copyOf(generic.get(scope(generic, namespace), name)));
  }

  async updateScale(type: ResourceType, namespace: string | undefined, name: string, replicas: number, options: WriteOptions = {}): Promise<Obj> {
    const generic = this.authorized(type, 'update', namespace, name, 'scale');
    if (!generic.strategy.scale) throw errors.pathNotFound();
    const stored = await generic.guaranteedUpdate(scope(generic, namespace), name, (current) => applyScale(generic.strategy, current, replicas, name), this.writeOptions({ ...options, subresource: undefined }));
    return toScale(generic.strategy, copyOf(stored));
  }

  async createSubresource(type: ResourceType, namespace: string | undefined, name: string, subresource: string, body: Obj, options: WriteOptions = {}): Promise<Obj> {
    const generic = this.authorized(type, 'create', namespace, name, subresource);
    const writer = SUBRESOURCE_WRITERS[subresource];
    if (!writer || ((subresource === 'binding' || subresource === 'eviction') && generic.strategy.kind !== 'Pod')) throw errors.pathNotFound();
    return writer(generic, scope(generic, namespace), name, structuredClone(body), this.writeOptions(options), this.options.registry);
  }

  private writeOptions(options: WriteOptions): { dryRun?: boolean; fieldManager: string; subresource?: 'status' | 'finalize'; admissionSubresource?: string; user: UserInfo } {
    const subresource = options.subresource;
    const base = { dryRun: options.dryRun, fieldManager: options.fieldManager ?? this.options.fieldManager, user: this.options.user };
    // CSR approval is a write of status.conditions that admission knows as /approval (as REST's).
    if (subresource === 'approval') return { ...base, subresource: 'status', admissionSubresource: 'approval' };
    if (subresource !== undefined && subresource !== 'status' && subresource !== 'finalize') throw errors.pathNotFound();
    return { ...base, subresource };
  }

  /** The kind's store, once the client's user may do `verb` on it. */
  private authorized(type: ResourceType, verb: string, namespace: string | undefined, name?: string, subresource?: string): GenericStore {
    const generic = this.options.registry.resource(type.group, type.version, type.resource);
    if (!generic) throw errors.pathNotFound();
    if (subresource === 'status' && !generic.strategy.statusSubresource) throw errors.pathNotFound();
    if (subresource === 'finalize' && generic.strategy.kind !== 'Namespace') throw errors.pathNotFound();
    if (subresource === 'approval' && generic.strategy.kind !== 'CertificateSigningRequest') throw errors.pathNotFound();
    const authorizer = this.options.authorizer;
    if (authorizer) {
      const attributes: AuthorizationAttributes = {
        user: this.options.user,
        verb,
        isResourceRequest: true,
        group: type.group,
        version: type.version,
        resource: type.resource,
        subresource,
        namespace: generic.strategy.namespaced ? namespace : undefined,
        name,
      };
      const decision = authorizer.authorize(attributes);
      if (!decision.allowed) throw forbidden(attributes, decision.reason);
    }
    return generic;
  }
}

function scope(generic: GenericStore, namespace: string | undefined): string | undefined {
  return generic.strategy.namespaced ? namespace : undefined;
}

function copyOf(stored: StoredObject): Obj {
  try {
    return JSON.parse(stored.json.toString('utf8')) as Obj;
  } catch (error) {
    throw new ApiError(500, 'InternalError', `stored object is not JSON: ${(error as Error).message}`);
  }
}
