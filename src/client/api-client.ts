/**
 * What a client can ask of an API server, whatever carries it: the in-process client calls the
 * registry directly (no serialization, same validation, admission and authorization), the HTTP
 * client speaks the REST API to any server. Informers, controllers, the scheduler and node
 * agents are written against this interface only.
 *
 * Failures are `ApiError`s (src/api/status.ts) with the code and reason the server answered.
 */
import type { KubeObject } from '../api/object.js';
import type { ResourceType } from './resource-types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = KubeObject & Record<string, any>;

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ObjectList {
  items: Obj[];
  resourceVersion: string;
  continue?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * One version of one object as a watch delivers it. `object` is shared with the server's own
 * cache: read it, never change it (copy first), as with client-go's informer objects.
 */
export interface ObjectVersion {
  readonly object: Obj;
  /** The resourceVersion as a number (every Nautilus revision is one). */
  readonly revision: number;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Deliver events after this resourceVersion. */
  resourceVersion: string;
}

export interface WatchHandlers {
  onEvent(type: WatchEventType, version: ObjectVersion): void;
  /** A bookmark: nothing changed up to this resourceVersion (lets a resumed watch start later). */
  onBookmark?(resourceVersion: string): void;
  /**
   * The watch ended on the server's side (not after stop()); `expired` when its resourceVersion
   * is gone from history (410): relist.
   */
  onClose(reason: { expired: boolean; error?: Error }): void;
}

export interface Watch {
  stop(): void;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /** Write only this subresource ("status"), or the main resource when absent. */
  subresource?: string;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export interface PatchOptions extends WriteOptions {
  /** Server-side apply only: take ownership of conflicting fields. */
  force?: boolean;
}

export interface DeleteOptions {
  dryRun?: boolean;
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** A served resource and the verbs it takes, as discovery lists it. */
export interface DiscoveredResource extends ResourceType {
  readonly verbs: readonly string[];
  /** Its subresources discovery lists (status, scale …). */
  readonly subresources?: readonly string[];
}

export interface ApiClient {
  /** Every resource the server serves now (custom resources included), one version per group. */
  discover(): Promise<DiscoveredResource[]>;
  get(type: ResourceType, namespace: string | undefined, name: string): Promise<Obj>;
  list(type: ResourceType, namespace: string | undefined, options?: ListOptions): Promise<ObjectList>;
  /**
   * A list as shared, read-only versions, for informers: the in-process client hands out the
   * stored versions themselves instead of copies. Clients without it are listed with `list`.
   */
  listVersions?(type: ResourceType, namespace: string | undefined, options?: ListOptions): { versions: ObjectVersion[]; resourceVersion: string };
  /** Streams changes; the first event comes after `resourceVersion`. */
  watch(type: ResourceType, namespace: string | undefined, options: WatchOptions, handlers: WatchHandlers): Watch;
  create(type: ResourceType, namespace: string | undefined, object: Obj, options?: WriteOptions): Promise<Obj>;
  update(type: ResourceType, namespace: string | undefined, name: string, object: Obj, options?: WriteOptions): Promise<Obj>;
  patch(type: ResourceType, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, options?: PatchOptions): Promise<Obj>;
  /**
   * Reads the latest version, lets `mutate` change a private copy, writes it back, and retries on
   * a conflict with a concurrent writer (upstream's GuaranteedUpdate / client-go RetryOnConflict).
   */
  mutate(type: ResourceType, namespace: string | undefined, name: string, mutate: (current: Obj) => Obj | Promise<Obj>, options?: WriteOptions): Promise<Obj>;
  /** Returns the object when it now waits for finalizers or graceful termination, else undefined. */
  delete(type: ResourceType, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<Obj | undefined>;
  /** The autoscaling/v1 Scale of a kind with a scale subresource (workloads, custom resources). */
  getScale(type: ResourceType, namespace: string | undefined, name: string): Promise<Obj>;
  /** Sets spec.replicas through the scale subresource; returns the new Scale. */
  updateScale(type: ResourceType, namespace: string | undefined, name: string, replicas: number, options?: WriteOptions): Promise<Obj>;
  /** POST to a subresource that takes its own kind (pods/binding, pods/eviction). */
  createSubresource(type: ResourceType, namespace: string | undefined, name: string, subresource: string, body: Obj, options?: WriteOptions): Promise<Obj>;
}
