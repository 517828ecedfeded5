/**
 * A shared informer (client-go's SharedIndexInformer): one list + watch of one resource, a cache of
 * its objects with a namespace index, label indexes and named indexes, and event handlers for
 * every consumer. Level-triggered consumers read the cache through the `lister`; handlers only
 * tell them which keys to look at.
 *
 * Cached objects are shared by every consumer (and, in process, with the store itself): read
 * them, never change them — copy first, as with client-go's informer objects.
 *
 * Over the in-process client the cache is updated synchronously when a write is committed, so
 * a component's own write is in its cache by the time the write's promise resolves. Over HTTP
 * it lags by the watch's latency; code must be correct either way (level-triggered).
 */
import { matchesLabels, parseLabelSelector, type LabelSelector } from '../api/selectors.js';
import { log } from '../server/log.js';
import { objectKey, qualifiedResource, type ResourceType } from './resource-types.js';
import type { ApiClient, Obj, ObjectVersion, Watch } from './api-client.js';

export interface InformerOptions {
  /** Only this namespace (default: all). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ResourceEventHandlers {
  /** `initialList` is true for objects delivered by the first list (or a late handler's replay). */
  onAdd?(object: Obj, initialList: boolean): void;
  onUpdate?(oldObject: Obj, newObject: Obj): void;
  /** The object's last known state. */
  onDelete?(object: Obj): void;
}

/** Index values of an object (e.g. its owner's uid, its node name); none to leave it out. */
export type IndexFunction = (object: Obj) => readonly string[];

interface NamedIndex {
  fn: IndexFunction;
  byValue: Map<string, Set<string>>;
  /** While the index is being filled from the cache: fills the rest at once. */
  finish?: () => void;
}

export interface HandlerRegistration {
  remove(): void;
  /** Whether the handler was given every object cached when it was added (a late handler's replay is done). */
  readonly hasSynced: boolean;
}

const LIST_PAGE_SIZE = 500;
/**
 * Objects a full list feeds into the cache (and its handlers) before it lets the event loop turn:
 * the in-process list of 150,000 pods is one array, and feeding it in one go would stop the API
 * (and everything else in the process) for the seconds every handler takes over it.
 */
const FEED_BATCH = 500;
const MAX_RETRY_DELAY_MS = 30_000;

export class SharedInformer {
  private readonly items = new Map<string, ObjectVersion>();
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly indexes = new Map<string, NamedIndex>();
  /** label key → value → keys; built the first time a selector asks for that key. */
  private readonly labelIndexes = new Map<string, Map<string, Set<string>>>();
  private readonly listeners = new Set<Listener>();
  /** A replay that has given only its first batch so far: a handler added now joins it. */
  private openReplay?: Replay;
  private watch?: Watch;
  private resourceVersion = '';
  private started = false;
  private stopped = false;
  private synced = false;
  private syncPromise?: Promise<void>;
  private retryDelayMs = 100;
  private retryTimer?: NodeJS.Timeout;
  readonly lister: Lister;

  constructor(
    private readonly client: ApiClient,
    readonly type: ResourceType,
    private readonly options: InformerOptions = {},
  ) {
    this.lister = new Lister(this);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /**
   * Starts listing and watching (once); resolves when the first list is in the cache and every
   * handler registered so far has been given it (a late handler's replay is done), so a consumer
   * that builds its own state from events (the scheduler's cache, the garbage collector's graph)
   * has all of it when this resolves, as client-go's WaitForCacheSync on handler registrations.
   */
  start(): Promise<void> {
    return this.startListing().then(() => this.listenersCaughtUp());
  }

  private listenersCaughtUp(): Promise<void> | void {
    const replaying = [...this.listeners].filter((listener) => !listener.caughtUp);
    if (replaying.length > 0) return Promise.all(replaying.map((listener) => listener.whenCaughtUp)).then(() => this.listenersCaughtUp());
  }

  private startListing(): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.syncPromise = new Promise((resolve) => {
        const attempt = () => {
          if (this.stopped) return resolve();
          this.listAndWatch().then(resolve, (error) => {
            log.warn('informer list failed; retrying', { resource: qualifiedResource(this.type), error: String(error) });
            this.retryTimer = setTimeout(attempt, this.nextRetryDelay());
            this.retryTimer.unref();
          });
        };
        attempt();
      });
    }
    return this.syncPromise!;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.watch?.stop();
    this.watch = undefined;
  }

  /**
   * Registers handlers. Added after the first list, they are first given every cached object as
   * an add (client-go's behaviour), so a late consumer misses nothing; added while the first list
   * is being fed, they get what is cached so far the same way, and the rest as it comes. The
   * replay goes FEED_BATCH objects per turn of the event loop (the first batch at once); each
   * object comes once, as it is when its turn comes, and every change to it after (see Listener).
   * `hasSynced` tells when it has caught up.
   */
  addEventHandler(handlers: ResourceEventHandlers): HandlerRegistration {
    const listener = new Listener(handlers);
    this.listeners.add(listener);
    if (handlers.onAdd && this.items.size > 0) this.replayTo(listener);
    return {
      remove: () => void this.listeners.delete(listener),
      get hasSynced() {
        return listener.caughtUp;
      },
    };
  }

  /**
   * Gives `listener` the cache as adds of the initial list. Handlers added in the same turn of the
   * event loop (the controllers and the scheduler starting side by side) share one replay: each
   * object is read (parsed) once and given to all of them in turn. One that joins is first given
   * the batch the others were given already (those objects are still parsed), then goes on with them.
   */
  private replayTo(listener: Listener): void {
    listener.beginReplay(this.items.keys());
    const open = this.openReplay;
    if (open) {
      for (let i = 0; i < open.next; i++) this.replayKey(open.keys[i], [listener]);
      open.listeners.push(listener);
      return;
    }
    const replay = new Replay([...this.items.keys()], listener);
    this.openReplay = replay;
    const step = () => {
      if (this.openReplay === replay) this.openReplay = undefined;
      if (!this.deliverBatch(replay)) setImmediate(step);
    };
    if (this.deliverBatch(replay)) this.openReplay = undefined;
    else setImmediate(step);
  }

  /** Delivers up to FEED_BATCH more objects of `replay`; true when it is over. */
  private deliverBatch(replay: Replay): boolean {
    replay.listeners = replay.listeners.filter((listener) => {
      if (!this.stopped && this.listeners.has(listener)) return true;
      listener.endReplay();
      return false;
    });
    const { keys } = replay;
    for (let budget = FEED_BATCH; budget > 0 && replay.next < keys.length && replay.listeners.length > 0; ) {
      if (this.replayKey(keys[replay.next++], replay.listeners)) budget--;
    }
    if (replay.next < keys.length && replay.listeners.length > 0) return false;
    for (const listener of replay.listeners) {
      // Keys cached after the replay began but before the listener joined it (none, mostly).
      for (const key of listener.dueKeys()) this.replayKey(key, [listener]);
      listener.endReplay();
    }
    return true;
  }

  /** Gives the cached object at `key` to those of `listeners` it is still due to; whether it was given to any. */
  private replayKey(key: string, listeners: readonly Listener[]): boolean {
    const version = this.items.get(key);
    if (!version) return false;
    let given = false;
    for (const listener of listeners) if (listener.replayed(key, version)) given = true;
    return given;
  }

  /**
   * Adds a named index (idempotent by name), filled from the cache FEED_BATCH objects per turn of
   * the event loop; the first read of the index (`lister.byIndex`, `indexedValues`) finishes
   * what is left at once, so a reader never sees it partial. Changes meanwhile keep it right:
   * adding a key's values again is a no-op.
   */
  addIndexer(name: string, fn: IndexFunction): void {
    if (this.indexes.has(name)) return;
    const index: NamedIndex = { fn, byValue: new Map() };
    this.indexes.set(name, index);
    if (this.items.size === 0) return;
    const keys = [...this.items.keys()];
    let next = 0;
    /** Indexes up to `limit` more keys; true when every key is in. */
    const fill = (limit: number): boolean => {
      for (const end = Math.min(keys.length, next + limit); next < end; next++) {
        const version = this.items.get(keys[next]);
        if (version) addToIndex(index, keys[next], version.object);
      }
      if (next < keys.length) return false;
      index.finish = undefined;
      return true;
    };
    index.finish = () => void fill(keys.length);
    const step = () => {
      if (index.finish && !this.stopped && !fill(FEED_BATCH)) setImmediate(step);
    };
    if (!fill(FEED_BATCH)) setImmediate(step);
  }

  // --- reading, for the Lister ---

  version(key: string): ObjectVersion | undefined {
    return this.items.get(key);
  }

  allKeys(): IterableIterator<string> {
    return this.items.keys();
  }

  namespaceKeys(namespace: string): ReadonlySet<string> {
    return this.byNamespace.get(namespace) ?? EMPTY;
  }

  indexKeys(name: string, value: string): ReadonlySet<string> {
    return this.filledIndex(name).byValue.get(value) ?? EMPTY;
  }

  /** The values index `name` holds keys under. */
  indexedValues(name: string): IterableIterator<string> {
    return this.filledIndex(name).byValue.keys();
  }

  private filledIndex(name: string): NamedIndex {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`informer for ${qualifiedResource(this.type)} has no index ${JSON.stringify(name)}`);
    index.finish?.();
    return index;
  }

  labelKeys(labelKey: string, value: string): ReadonlySet<string> {
    let index = this.labelIndexes.get(labelKey);
    if (!index) {
      index = new Map();
      for (const [key, version] of this.items) addLabel(index, labelKey, key, version.object);
      this.labelIndexes.set(labelKey, index);
    }
    return index.get(value) ?? EMPTY;
  }

  get size(): number {
    return this.items.size;
  }

  // --- feeding ---

  private async listAndWatch(): Promise<void> {
    const { versions, resourceVersion } = await this.listAll();
    if (this.stopped) return;
    await this.replace(versions);
    if (this.stopped) return;
    this.resourceVersion = resourceVersion;
    this.startWatch();
    this.retryDelayMs = 100;
    this.synced = true;
  }

  private async listAll(): Promise<{ versions: ObjectVersion[]; resourceVersion: string }> {
    const { namespace, labelSelector, fieldSelector } = this.options;
    if (this.client.listVersions) return this.client.listVersions(this.type, namespace, { labelSelector, fieldSelector });
    const versions: ObjectVersion[] = [];
    let token: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.client.list(this.type, namespace, { labelSelector, fieldSelector, limit: LIST_PAGE_SIZE, continue: token });
      for (const object of page.items) versions.push({ object, revision: Number(object.metadata.resourceVersion ?? 0) });
      token = page.continue;
      resourceVersion = page.resourceVersion;
    } while (token);
    return { versions, resourceVersion };
  }

  private startWatch(): void {
    if (this.stopped) return;
    const { namespace, labelSelector, fieldSelector } = this.options;
    this.watch = this.client.watch(this.type, namespace, { labelSelector, fieldSelector, resourceVersion: this.resourceVersion }, {
      onEvent: (type, version) => {
        this.resourceVersion = String(version.revision);
        if (type === 'DELETED') this.remove(version.object);
        else this.upsert(version, false);
      },
      onBookmark: (resourceVersion) => {
        if (resourceVersion) this.resourceVersion = resourceVersion;
      },
      onClose: ({ expired, error }) => {
        this.watch = undefined;
        if (this.stopped) return;
        if (error && !expired) log.debug('informer watch closed', { resource: qualifiedResource(this.type), error: String(error) });
        // A watch that ends is renewed from where it stopped; one whose revision expired relists.
        const renew = expired ? () => this.relist() : () => this.startWatch();
        this.retryTimer = setTimeout(renew, error ? this.nextRetryDelay() : 0);
        this.retryTimer.unref();
      },
    });
  }

  private relist(): void {
    this.listAndWatch().catch((error) => {
      log.warn('informer relist failed; retrying', { resource: qualifiedResource(this.type), error: String(error) });
      this.retryTimer = setTimeout(() => this.relist(), this.nextRetryDelay());
      this.retryTimer.unref();
    });
  }

  private nextRetryDelay(): number {
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, MAX_RETRY_DELAY_MS);
    return delay;
  }

  /**
   * A full list: what is new is added, what changed updated, what is gone deleted. Fed in
   * batches with a turn of the event loop between them; the watch starts from the list's
   * revision afterwards, so nothing that changes meanwhile is missed.
   */
  private async replace(versions: ObjectVersion[]): Promise<void> {
    const initial = !this.synced;
    const seen = new Set<string>();
    for (let i = 0; i < versions.length; i++) {
      if (i > 0 && i % FEED_BATCH === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        if (this.stopped) return;
      }
      const version = versions[i];
      seen.add(keyOf(version.object));
      this.upsert(version, initial);
    }
    if (initial) return;
    for (const [key, version] of [...this.items]) if (!seen.has(key)) this.remove(version.object);
  }

  private upsert(version: ObjectVersion, initialList: boolean): void {
    const key = keyOf(version.object);
    const previous = this.items.get(key);
    if (previous && previous.revision === version.revision) return;
    if (previous) this.unindex(key, previous.object);
    this.items.set(key, version);
    this.index(key, version.object);
    if (previous) for (const listener of this.listeners) listener.update(key, previous.object, version.object);
    else for (const listener of this.listeners) listener.add(key, version.object, initialList);
  }

  private remove(object: Obj): void {
    const key = keyOf(object);
    const previous = this.items.get(key);
    if (!previous) return;
    this.items.delete(key);
    this.unindex(key, previous.object);
    for (const listener of this.listeners) listener.delete(key, object);
  }

  private index(key: string, object: Obj): void {
    const namespace = object.metadata.namespace;
    if (namespace) addTo(this.byNamespace, namespace, key);
    for (const index of this.indexes.values()) addToIndex(index, key, object);
    for (const [labelKey, index] of this.labelIndexes) addLabel(index, labelKey, key, object);
  }

  private unindex(key: string, object: Obj): void {
    const namespace = object.metadata.namespace;
    if (namespace) removeFrom(this.byNamespace, namespace, key);
    for (const index of this.indexes.values()) for (const value of indexValues(index, object)) removeFrom(index.byValue, value, key);
    for (const [labelKey, index] of this.labelIndexes) {
      const value = object.metadata.labels?.[labelKey];
      if (value !== undefined) removeFrom(index, value, key);
    }
  }
}

/**
 * One registered set of handlers. While it is being given a replay of the cache, an event for an
 * object it was given already (or one the replay does not hold) goes to it at once; one for an
 * object still to come is left out, as the replay gives that object as it is by then (a delete
 * takes it out of the replay). So each object comes once, before any change to it, in order.
 */
class Listener {
  /** Keys the replay still owes it; undefined once caught up. */
  private remaining?: Set<string>;
  private caughtUpNow?: () => void;
  /** Resolves when the replay is delivered (or dropped); only while `caughtUp` is false. */
  whenCaughtUp: Promise<void> = Promise.resolve();

  constructor(private readonly handlers: ResourceEventHandlers) {}

  get caughtUp(): boolean {
    return this.remaining === undefined;
  }

  add(key: string, object: Obj, initialList: boolean): void {
    if (this.handlers.onAdd && !this.remaining?.has(key)) guard(() => this.handlers.onAdd!(object, initialList));
  }

  update(key: string, oldObject: Obj, newObject: Obj): void {
    if (this.handlers.onUpdate && !this.remaining?.has(key)) guard(() => this.handlers.onUpdate!(oldObject, newObject));
  }

  delete(key: string, object: Obj): void {
    // A deleted object still due is no longer in the cache: the replay leaves it out.
    if (this.remaining?.delete(key)) return;
    if (this.handlers.onDelete) guard(() => this.handlers.onDelete!(object));
  }

  /** A replay of the cached `keys` begins. */
  beginReplay(keys: Iterable<string>): void {
    this.remaining = new Set(keys);
    this.whenCaughtUp = new Promise((resolve) => (this.caughtUpNow = resolve));
  }

  /** Gives the replay's object at `key` as an add of the initial list, if still due; whether it did. */
  replayed(key: string, version: ObjectVersion): boolean {
    if (!this.remaining?.delete(key)) return false;
    guard(() => this.handlers.onAdd!(version.object, true));
    return true;
  }

  /** Keys still due (a copy). */
  dueKeys(): string[] {
    return [...(this.remaining ?? [])];
  }

  /** The replay is delivered (or dropped). */
  endReplay(): void {
    this.remaining = undefined;
    this.caughtUpNow?.();
    this.caughtUpNow = undefined;
  }
}

/** One pass over the cache for the listeners that joined it. */
class Replay {
  listeners: Listener[];
  /** Keys[0, next) have been given. */
  next = 0;

  constructor(
    readonly keys: readonly string[],
    first: Listener,
  ) {
    this.listeners = [first];
  }
}

/** Reads an informer's cache: by key, by namespace and label selector, by named index. */
export class Lister {
  constructor(private readonly informer: SharedInformer) {}

  get(namespace: string | undefined, name: string): Obj | undefined {
    return this.informer.version(objectKey(namespace, name))?.object;
  }

  /** Whether the cache holds the object (without reading it: stored versions parse on demand). */
  has(namespace: string | undefined, name: string): boolean {
    return this.informer.version(objectKey(namespace, name)) !== undefined;
  }

  /** Objects in `namespace` (all when undefined) matching `selector` (a parsed or textual label selector). */
  list(namespace?: string, selector?: LabelSelector | string): Obj[] {
    const requirements = typeof selector === 'string' ? parseLabelSelector(selector) : (selector ?? []);
    const keys = this.candidateKeys(namespace, requirements);
    const result: Obj[] = [];
    for (const key of keys) {
      const object = this.informer.version(key)?.object;
      if (!object) continue;
      if (namespace !== undefined && object.metadata.namespace !== namespace) continue;
      if (requirements.length > 0 && !matchesLabels(requirements, object.metadata.labels)) continue;
      result.push(object);
    }
    return result;
  }

  /** Objects whose index `name` contains `value`. */
  byIndex(name: string, value: string): Obj[] {
    const result: Obj[] = [];
    for (const key of this.informer.indexKeys(name, value)) {
      const object = this.informer.version(key)?.object;
      if (object) result.push(object);
    }
    return result;
  }

  get size(): number {
    return this.informer.size;
  }

  /** The smallest key set that can hold every match: a label value's keys or the namespace's. */
  private candidateKeys(namespace: string | undefined, requirements: LabelSelector): Iterable<string> {
    const equality = requirements.find((r): r is Extract<typeof r, { op: 'in' }> => r.op === 'in' && r.values.length === 1);
    const byLabel = equality ? this.informer.labelKeys(equality.key, equality.values[0]) : undefined;
    const byNamespace = namespace !== undefined ? this.informer.namespaceKeys(namespace) : undefined;
    if (byLabel && (!byNamespace || byLabel.size <= byNamespace.size)) return byLabel;
    return byNamespace ?? this.informer.allKeys();
  }
}

function keyOf(object: Obj): string {
  return objectKey(object.metadata.namespace, object.metadata.name ?? '');
}

function guard(call: () => void): void {
  try {
    call();
  } catch (error) {
    log.error('informer event handler failed', { error: error instanceof Error ? error.stack : String(error) });
  }
}

function indexValues(index: NamedIndex, object: Obj): readonly string[] {
  try {
    return index.fn(object);
  } catch {
    return [];
  }
}

function addToIndex(index: NamedIndex, key: string, object: Obj): void {
  for (const value of indexValues(index, object)) addTo(index.byValue, value, key);
}

function addLabel(index: Map<string, Set<string>>, labelKey: string, key: string, object: Obj): void {
  const value = object.metadata.labels?.[labelKey];
  if (value !== undefined) addTo(index, value, key);
}

function addTo(map: Map<string, Set<string>>, value: string, key: string): void {
  let keys = map.get(value);
  if (!keys) map.set(value, (keys = new Set()));
  keys.add(key);
}

function removeFrom(map: Map<string, Set<string>>, value: string, key: string): void {
  const keys = map.get(value);
  if (!keys) return;
  keys.delete(key);
  if (keys.size === 0) map.delete(value);
}

const EMPTY: ReadonlySet<string> = new Set();
