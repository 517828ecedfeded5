/**
 * The revisioned in-memory store: one global revision counter (as etcd's mvcc), every object
 * stamped with the revision of its last write, compare-and-swap on resourceVersion, a bounded
 * event history per resource for watch resume and consistent paginated lists, and watch fan-out.
 *
 * It stores opaque Kubernetes objects; object semantics (uid, generation, finalizers …) live in
 * the generic registry above it. Durability is delegated to a DurableLog: a write is applied in
 * memory at once (so later writes CAS against it), but it is acknowledged and shown to watchers
 * only once the log says it is durable.
 */
import type { KubeObject } from '../api/object.js';
import { WriteUnavailableError, type DurableLog, type Mutation, type RecoveredState, type SnapshotEntries, type SnapshotEntry } from './durable-log.js';
import { SortedKeys, compareKeys, lowerBound } from './sorted-keys.js';
import { SecondaryIndex, type IndexQuery } from './secondary-index.js';
import { metadataSpanOf, metadataWithoutManagedFields, metadataWithoutManagedFieldsPieces, readManagedFields, serializeCompact, type MetadataSpan } from './compact-object.js';
import { jsonSlices, sharePieces, SharedJson, wholeJson, type ResidentJson } from './shared-pieces.js';
import type { ValueTransformer } from './encryption/transformer.js';

/** One version of one object, serialized once and shared by every reader. */
export interface StoredObject {
  readonly object: KubeObject;
  /** The serialized object, whole. */
  readonly json: Buffer;
  /** The same as views of the bytes kept (cheaper than `json` where pieces are shared). */
  jsonPieces(): readonly Buffer[];
  /** Bytes of `json`. */
  readonly byteLength: number;
  readonly revision: number;
  /** Read from storage under an encryption key that no longer writes (rotation: rewrite it). */
  readonly stale?: boolean;
}

/** A StoredObject that is not kept (conversions, dry runs, served-only objects): its JSON whole. */
export function unstoredObject(object: KubeObject, revision: number, json: Buffer = Buffer.from(JSON.stringify(object))): StoredObject {
  return { object, json, revision, byteLength: json.length, jsonPieces: () => [json] };
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: EventType;
  readonly revision: number;
  readonly resource: string;
  readonly key: string;
  /** The object after the event; for DELETED its last state (stamped with the deletion revision). */
  readonly current: StoredObject;
  readonly previous?: StoredObject;
}

export class StoreConflictError extends Error {
  constructor(readonly kind: 'exists' | 'notFound' | 'revisionMismatch', message: string) {
    super(message);
  }
}

export class RevisionCompactedError extends Error {
  constructor(readonly requested: number, readonly compacted: number) {
    super(`too old resource version: ${requested} (${compacted})`);
  }
}

export class RevisionTooLargeError extends Error {
  constructor(readonly requested: number, readonly current: number) {
    super(`Too large resource version: ${requested}, current: ${current}`);
  }
}

export interface ListQuery {
  /** Only keys starting with this prefix ("namespace/" for a namespaced list). */
  prefix?: string;
  /** Read at this exact revision (paginated lists, resourceVersionMatch=Exact); default: latest. */
  atRevision?: number;
  /** Resume strictly after this key. */
  afterKey?: string;
  limit?: number;
  /** Which versions to return; it reads what it needs (a selection reads the version's summary, not the object). */
  filter?: (stored: StoredObject) => boolean;
  /**
   * Narrows the scan to the objects an index maps `value` to. The filter must still hold the
   * full selector: the index only saves reading objects that cannot match.
   */
  index?: IndexQuery;
}

export interface ListResult {
  items: StoredObject[];
  revision: number;
  /** Key of the last item returned, when more items remain. */
  continueAfter?: string;
  /** Items not returned (only computed when there is no filter, as upstream). */
  remaining?: number;
}

export interface WatchOptions {
  prefix?: string;
  /** Deliver events strictly after this revision (0 = now, without history). */
  fromRevision: number;
  filter?: (stored: StoredObject) => boolean;
}

export interface Watcher {
  /** Called in revision order; the event type is already adjusted to the filter. */
  onEvent: (event: StoreEvent, type: EventType) => void;
  close(): void;
}

export interface StoreOptions {
  durableLog?: DurableLog;
  /** Events kept per resource for watch resume and consistent continue tokens. */
  historyLimit?: number;
  /**
   * Bytes of superseded versions (and deleted objects' last states) the history of one resource
   * may keep alive; older events are dropped first (a watch from there gets 410 Gone). At least
   * MIN_HISTORY_EVENTS events are always kept.
   */
  historyBytes?: number;
  /** Called once when the durable log fails: memory is then ahead of the disk. */
  onDurabilityLost?: (error: Error) => void;
  /** Encryption at rest (--encryption-provider-config): applied to every value the durable log sees. */
  valueTransformer?: ValueTransformer;
}

interface Subscription {
  prefix: string;
  filter?: (stored: StoredObject) => boolean;
  lastRevision: number;
  onEvent: (event: StoreEvent, type: EventType) => void;
}

/** Events a resource's history keeps whatever their size. */
const MIN_HISTORY_EVENTS = 1_000;

/** What an event keeps alive that no live object shares: the version it replaced or deleted. */
function retainedBytes(event: StoreEvent): number {
  return (event.previous?.byteLength ?? 0) + (event.type === 'DELETED' ? event.current.byteLength : 0);
}

class ResourceTable {
  readonly items = new Map<string, StoredObject>();
  keys = new SortedKeys();
  /** Ring of recent events, oldest first. */
  history: StoreEvent[] = [];
  historyStart = 0;
  /** Events at or below this revision are no longer in history. */
  compactedRevision = 0;
  readonly subscriptions = new Set<Subscription>();
  /** Serialized bytes of the live objects: what the memory budget counts. */
  bytes = 0;
  /** Bytes of superseded versions the history keeps (see retainedBytes). */
  historyBytes = 0;

  constructor(readonly name: string) {}

  private readonly indexes = new Map<string, SecondaryIndex>();
  /** Made for each new live version while its object is at hand (the registry's summary). */
  summarize?: (stored: StoredObject) => void;

  setItem(key: string, stored: StoredObject): void {
    const previous = this.items.get(key);
    if (previous) retire(previous);
    revive(stored);
    if (this.summarize) {
      try {
        this.summarize(stored);
      } catch {
        // Made again (and failing as it did) when a list or Table first reads it.
      }
    }
    if (!previous) this.keys.add(key);
    this.bytes += stored.byteLength - (previous?.byteLength ?? 0);
    this.items.set(key, stored);
    for (const index of this.indexes.values()) {
      if (previous) index.remove(key, previous);
      index.add(key, stored);
    }
  }

  deleteItem(key: string): void {
    const previous = this.items.get(key);
    if (!previous) return;
    retire(previous);
    this.bytes -= previous.byteLength;
    this.items.delete(key);
    this.keys.delete(key);
    for (const index of this.indexes.values()) index.remove(key, previous);
  }

  /** The index `name`, built from the live objects the first time it is asked for. */
  index(name: string, extract: IndexQuery['extract']): SecondaryIndex {
    let index = this.indexes.get(name);
    if (!index) {
      index = new SecondaryIndex(extract);
      for (const [key, stored] of this.items) index.add(key, stored);
      this.indexes.set(name, index);
    }
    return index;
  }

  recordEvent(event: StoreEvent, limit: number, byteLimit: number): void {
    this.history.push(event);
    this.historyBytes += retainedBytes(event);
    while (this.history.length - this.historyStart > limit || (this.historyBytes > byteLimit && this.history.length - this.historyStart > MIN_HISTORY_EVENTS)) {
      const oldest = this.history[this.historyStart];
      this.compactedRevision = oldest.revision;
      this.historyBytes -= retainedBytes(oldest);
      this.historyStart++;
    }
    if (this.historyStart > 4096 && this.historyStart * 2 > this.history.length) {
      // Dropped events are released (the array slots still referenced them).
      this.history = this.history.slice(this.historyStart);
      this.historyStart = 0;
    }
  }

  /** Takes back the newest event (a rewound write). */
  unrecordEvent(event: StoreEvent): void {
    if (this.history.at(-1) !== event || this.history.length === this.historyStart) return;
    this.history.pop();
    this.historyBytes -= retainedBytes(event);
  }

  /** Events with revision in (after, upTo], oldest first. */
  eventsBetween(after: number, upTo: number): StoreEvent[] {
    const events: StoreEvent[] = [];
    let lo = this.historyStart;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.history[mid].revision <= after) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.history.length && this.history[i].revision <= upTo; i++) events.push(this.history[i]);
    return events;
  }
}

export class Store {
  private currentRevision = 0;
  /** Highest revision known durable and already shown to watchers. */
  private notifiedRevision = 0;
  private readonly tables = new Map<string, ResourceTable>();
  private readonly pending: StoreEvent[] = [];
  private readonly historyLimit: number;
  private readonly historyBytes: number;
  private readonly durableLog?: DurableLog;
  private readonly onDurabilityLost?: (error: Error) => void;
  private readonly transformer?: ValueTransformer;
  /** Values recovery read under an encryption key that no longer writes (see control-plane). */
  staleValuesRecovered = 0;
  private failed?: Error;
  /**
   * The oldest revision whose state is known: the recovered snapshot's. A resource first touched
   * later has been empty since then (every write records an event), so its history starts here.
   */
  private baseRevision = 0;

  constructor(options: StoreOptions = {}) {
    this.durableLog = options.durableLog;
    this.onDurabilityLost = options.onDurabilityLost;
    this.transformer = options.valueTransformer;
    this.historyLimit = options.historyLimit ?? 50_000;
    this.historyBytes = options.historyBytes ?? 64 * 2 ** 20;
  }

  get revision(): number {
    return this.currentRevision;
  }

  /** Loads what the durable log recovered; history starts at the snapshot's revision. */
  restore(state: RecoveredState): void {
    for (const entry of state.entries) {
      const table = this.table(entry.resource);
      const stored = this.fromStorage(entry.resource, entry.key, entry.value, entry.revision);
      table.items.set(entry.key, stored);
      table.bytes += stored.byteLength;
    }
    for (const table of this.tables.values()) {
      table.keys = SortedKeys.from(table.items.keys());
      table.compactedRevision = state.snapshotRevision;
    }
    this.currentRevision = state.snapshotRevision;
    this.baseRevision = state.snapshotRevision;
    for (const mutation of state.mutations) this.applyMutation(mutation);
    for (const table of this.tables.values()) if (table.history.length === 0) table.compactedRevision = this.currentRevision;
    this.notifiedRevision = this.currentRevision;
  }

  /**
   * Applies writes another replica (the leader) committed to the replicated log, in revision
   * order: readers and watchers see each at once, with the leader's revision, exactly as there.
   */
  applyCommitted(mutations: readonly Mutation[]): void {
    if (this.pending.length > 0) throw new Error('store: replicated writes cannot interleave with writes of this replica');
    for (const mutation of mutations) {
      if (!(mutation.revision > this.currentRevision)) throw new Error(`store: replicated revision ${mutation.revision} does not follow revision ${this.currentRevision}`);
      this.pending.push(this.applyMutation(mutation));
    }
    if (mutations.length > 0) this.notifyUpTo(this.currentRevision);
  }

  private applyMutation(mutation: Mutation): StoreEvent {
    const table = this.table(mutation.resource);
    const previous = table.items.get(mutation.key);
    const current = this.fromStorage(mutation.resource, mutation.key, mutation.value, mutation.revision);
    if (mutation.type === 'put') table.setItem(mutation.key, current);
    else {
      table.deleteItem(mutation.key);
      retire(current);
    }
    const type: EventType = mutation.type === 'delete' ? 'DELETED' : previous ? 'MODIFIED' : 'ADDED';
    const event: StoreEvent = { type, revision: mutation.revision, resource: mutation.resource, key: mutation.key, current, previous };
    table.recordEvent(event, this.historyLimit, this.historyBytes);
    this.currentRevision = mutation.revision;
    return event;
  }

  get(resource: string, key: string): StoredObject | undefined {
    return this.tables.get(resource)?.items.get(key);
  }

  /**
   * Has `summarize` run on every version written from now on, while its parsed object is at
   * hand (so a first list, selection or Table parses nothing). Recovered versions are summarized
   * when first read.
   */
  summarizeWith(resource: string, summarize: (stored: StoredObject) => void): void {
    this.table(resource).summarize = summarize;
  }

  count(resource: string): number {
    return this.tables.get(resource)?.items.size ?? 0;
  }

  /** Why the durable log refuses writes, once it failed (health checks); undefined while healthy. */
  get durabilityFailure(): Error | undefined {
    return this.failed;
  }

  /** Serialized bytes of one resource's live objects, or of all of them. */
  bytes(resource?: string): number {
    if (resource !== undefined) return this.tables.get(resource)?.bytes ?? 0;
    let total = 0;
    for (const table of this.tables.values()) total += table.bytes;
    return total;
  }

  /** Creates an object that must not exist yet. */
  async create(resource: string, key: string, object: KubeObject): Promise<StoredObject> {
    const table = this.table(resource);
    if (table.items.has(key)) throw new StoreConflictError('exists', `${key} already exists`);
    return this.commit(table, key, object, undefined);
  }

  /**
   * Replaces an existing object. With expectedRevision set, the write happens only if the
   * object's current revision equals it (compare-and-swap).
   */
  async update(resource: string, key: string, object: KubeObject, expectedRevision?: number): Promise<StoredObject> {
    const table = this.table(resource);
    const previous = table.items.get(key);
    if (!previous) throw new StoreConflictError('notFound', `${key} not found`);
    if (expectedRevision !== undefined && previous.revision !== expectedRevision) {
      throw new StoreConflictError('revisionMismatch', 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return this.commit(table, key, object, previous);
  }

  async delete(resource: string, key: string, expectedRevision?: number): Promise<StoredObject> {
    const table = this.table(resource);
    const previous = table.items.get(key);
    if (!previous) throw new StoreConflictError('notFound', `${key} not found`);
    if (expectedRevision !== undefined && previous.revision !== expectedRevision) {
      throw new StoreConflictError('revisionMismatch', 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return this.commit(table, key, undefined, previous);
  }

  list(resource: string, query: ListQuery = {}): ListResult {
    const table = this.table(resource);
    const revision = query.atRevision ?? this.currentRevision;
    if (revision > this.currentRevision) throw new RevisionTooLargeError(revision, this.currentRevision);
    const stateAt = this.stateAtRevision(table, revision);
    // An index reflects the latest state only; lists at a past revision scan.
    const keys = stateAt
      ? mergeKeys(table.keys.keys(), stateAt)
      : query.index
        ? [...table.index(query.index.name, query.index.extract).keys(query.index.value)].sort(compareKeys)
        : table.keys.keys();
    const prefix = query.prefix ?? '';
    let index = lowerBound(keys, query.afterKey !== undefined && query.afterKey >= prefix ? query.afterKey + '\0' : prefix);
    const limit = query.limit && query.limit > 0 ? query.limit : Infinity;
    const items: StoredObject[] = [];
    for (; index < keys.length; index++) {
      const key = keys[index];
      if (!key.startsWith(prefix)) break;
      const stored = stateAt?.has(key) ? stateAt.get(key) : table.items.get(key);
      if (!stored || (query.filter && !query.filter(stored))) continue;
      if (items.length === limit) {
        // Every key before `index` has been examined, so the next page starts after it.
        const result: ListResult = { items, revision, continueAfter: keys[index - 1] };
        if (!query.filter && !query.index && !stateAt) result.remaining = countWithPrefix(keys, index, prefix);
        return result;
      }
      items.push(stored);
    }
    return { items, revision };
  }

  /**
   * Watches a resource. Events after `fromRevision` still in history are replayed first; a
   * revision older than the history throws RevisionCompactedError (HTTP 410).
   */
  watch(resource: string, options: WatchOptions, onEvent: (event: StoreEvent, type: EventType) => void): Watcher {
    const table = this.table(resource);
    const from = options.fromRevision;
    if (from > 0 && from < table.compactedRevision) throw new RevisionCompactedError(from, table.compactedRevision);
    const subscription: Subscription = { prefix: options.prefix ?? '', filter: options.filter, lastRevision: from, onEvent };
    if (from > 0) {
      for (const event of table.eventsBetween(from, this.notifiedRevision)) deliver(subscription, event);
    }
    subscription.lastRevision = Math.max(subscription.lastRevision, this.notifiedRevision);
    table.subscriptions.add(subscription);
    return { onEvent, close: () => table.subscriptions.delete(subscription) };
  }

  /** The revision watchers have seen: what a new watch with no resourceVersion starts from. */
  get visibleRevision(): number {
    return this.notifiedRevision;
  }

  compactedRevision(resource: string): number {
    return this.table(resource).compactedRevision;
  }

  /**
   * A consistent view of every live object, captured synchronously (for snapshots). `'visible'`
   * leaves out the writes not yet durable (they may still be undone): the state at the revision
   * watchers have seen, which every acknowledged write up to it is part of (for backups).
   */
  snapshotEntries(at: 'current' | 'visible' = 'current'): { revision: number; entries: SnapshotEntries } {
    // Newest first, so the state before the oldest pending write of a key is what remains.
    const before = new Map<string, Map<string, StoredObject | undefined>>();
    if (at === 'visible') {
      for (let i = this.pending.length - 1; i >= 0; i--) {
        const event = this.pending[i];
        let keys = before.get(event.resource);
        if (!keys) before.set(event.resource, (keys = new Map()));
        keys.set(event.key, event.type === 'ADDED' ? undefined : event.previous);
      }
    }
    const entries = new CapturedEntries((resource, key, json) => this.toStorage(resource, key, json));
    for (const table of this.tables.values()) {
      const undone = before.get(table.name);
      entries.startResource(table.name);
      table.items.forEach((stored, key) => {
        if (!undone?.has(key)) entries.add(key, stored);
      });
      undone?.forEach((stored, key) => {
        if (stored) entries.add(key, stored);
      });
    }
    return { revision: at === 'visible' ? this.notifiedRevision : this.currentRevision, entries };
  }

  resources(): string[] {
    return [...this.tables.keys()];
  }

  private toStorage(resource: string, key: string, json: Buffer): Uint8Array {
    return this.transformer ? this.transformer.toStorage(resource, key, json) : json;
  }

  private fromStorage(resource: string, key: string, value: Uint8Array, revision: number): StoredObject {
    if (!this.transformer) return storedFromBytes(value, revision);
    const plain = this.transformer.fromStorage(resource, key, value);
    const stored = storedFromBytes(plain.value, revision);
    if (plain.stale) {
      (stored as StoredVersion).stale = true;
      this.staleValuesRecovered++;
    }
    return stored;
  }

  private table(resource: string): ResourceTable {
    let table = this.tables.get(resource);
    if (!table) {
      table = new ResourceTable(resource);
      // A resource seen for the first time has had no events since the recovered snapshot: it can
      // be watched from there (also on a replica resuming a watch another replica started).
      table.compactedRevision = this.baseRevision;
      this.tables.set(resource, table);
    }
    return table;
  }

  private async commit(table: ResourceTable, key: string, object: KubeObject | undefined, previous: StoredObject | undefined): Promise<StoredObject> {
    if (this.failed) throw this.failed;
    this.durableLog?.checkWritable?.();
    const revision = ++this.currentRevision;
    let current: StoredObject;
    let type: EventType;
    // The bytes as serialized, for the log: the version may keep them with pieces shared.
    let json: Buffer;
    if (object) {
      object.metadata.resourceVersion = String(revision);
      const serialized = serializeCompact(object);
      json = serialized.json;
      current = new StoredVersion(json, revision, object, serialized.span);
      type = previous ? 'MODIFIED' : 'ADDED';
      table.setItem(key, current);
    } else {
      // The DELETED event carries the object's last state at the deletion revision, as upstream.
      const last: KubeObject = { ...previous!.object, metadata: { ...previous!.object.metadata, resourceVersion: String(revision) } };
      json = Buffer.from(JSON.stringify(last));
      current = new StoredVersion(json, revision, last);
      retire(current);
      type = 'DELETED';
      table.deleteItem(key);
    }
    const event: StoreEvent = { type, revision, resource: table.name, key, current, previous };
    table.recordEvent(event, this.historyLimit, this.historyBytes);
    this.pending.push(event);
    if (this.durableLog) {
      const mutation: Mutation = { revision, type: object ? 'put' : 'delete', resource: table.name, key, value: this.toStorage(table.name, key, json) };
      try {
        await this.durableLog.append(mutation);
      } catch (error) {
        if (error instanceof WriteUnavailableError) {
          // Not acknowledged, nor anything after it: forget it all; the log says what is kept.
          this.rewindTo(this.durableLog.durableRevision ?? this.notifiedRevision);
          throw error;
        }
        // Memory is now ahead of the disk; nothing more may be acknowledged.
        if (!this.failed) {
          this.failed = new Error(`durable log failed, refusing further writes: ${(error as Error).message}`);
          this.onDurabilityLost?.(this.failed);
        }
        throw this.failed;
      }
    }
    this.notifyUpTo(revision);
    return current;
  }

  /**
   * Undoes every write after `revision`, newest first: none of them is durable and none has been
   * shown to a watcher (they wait in `pending`), so it is as if they never happened.
   */
  rewindTo(revision: number): void {
    while (this.pending.length > 0 && this.pending.at(-1)!.revision > revision) {
      const event = this.pending.pop()!;
      const table = this.tables.get(event.resource)!;
      if (event.previous) table.setItem(event.key, event.previous);
      else table.deleteItem(event.key);
      table.unrecordEvent(event);
    }
    if (revision < this.currentRevision) this.currentRevision = Math.max(revision, this.notifiedRevision);
  }

  private notifyUpTo(revision: number): void {
    if (revision <= this.notifiedRevision) return;
    let count = 0;
    while (count < this.pending.length && this.pending[count].revision <= revision) count++;
    const ready = this.pending.splice(0, count);
    this.notifiedRevision = revision;
    for (const event of ready) {
      const table = this.tables.get(event.resource)!;
      for (const subscription of table.subscriptions) deliver(subscription, event);
    }
  }

  /**
   * The objects whose state at `revision` differs from now: key → state then (undefined if
   * absent then). Undefined when nothing differs.
   */
  private stateAtRevision(table: ResourceTable, revision: number): Map<string, StoredObject | undefined> | undefined {
    if (revision >= this.currentRevision) return undefined;
    if (revision < table.compactedRevision) throw new RevisionCompactedError(revision, table.compactedRevision);
    const later = table.eventsBetween(revision, Infinity);
    if (later.length === 0) return undefined;
    const state = new Map<string, StoredObject | undefined>();
    for (let i = later.length - 1; i >= 0; i--) {
      const event = later[i];
      state.set(event.key, event.type === 'ADDED' ? undefined : event.previous);
    }
    return state;
  }
}

function deliver(subscription: Subscription, event: StoreEvent): void {
  if (event.revision <= subscription.lastRevision) return;
  subscription.lastRevision = event.revision;
  if (!event.key.startsWith(subscription.prefix)) return;
  const filter = subscription.filter;
  if (!filter) {
    subscription.onEvent(event, event.type);
    return;
  }
  // An object that moves into or out of a selector is seen as added or deleted, as upstream.
  const matchesNow = filter(event.current);
  const matchedBefore = event.previous ? filter(event.previous) : false;
  if (event.type === 'ADDED') {
    if (matchesNow) subscription.onEvent(event, 'ADDED');
  } else if (event.type === 'DELETED') {
    if (matchedBefore || matchesNow) subscription.onEvent(event, 'DELETED');
  } else if (matchesNow && matchedBefore) subscription.onEvent(event, 'MODIFIED');
  else if (matchesNow) subscription.onEvent(event, 'ADDED');
  else if (matchedBefore) subscription.onEvent(event, 'DELETED');
}

/**
 * Parsed objects kept strongly, most recently used last, whoever they belong to: a reader that
 * comes back to the same few objects (a controller's reconcile, the write after a read, the
 * watchers of a write) finds them parsed, while the store as a whole keeps bytes. Bounded by the
 * bytes of the versions they were parsed from.
 */
class ParsedObjects {
  private readonly held = new Map<StoredVersion, KubeObject>();
  private bytes = 0;
  /** Parses of a version's bytes (for the benchmarks: how often a collected object is read again). */
  parses = 0;

  constructor(public byteLimit: number) {}

  hold(version: StoredVersion, object: KubeObject): void {
    const had = this.held.get(version);
    if (had !== undefined) this.held.delete(version);
    else this.bytes += version.byteLength;
    this.held.set(version, object);
    while (this.bytes > this.byteLimit && this.held.size > 1) {
      const [oldest] = this.held.keys();
      this.held.delete(oldest);
      this.bytes -= oldest.byteLength;
    }
  }

  clear(): void {
    this.held.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.held.size;
  }
}

/** 8 MiB of JSON: a few thousand pods' parsed objects. */
export const parsedObjects = new ParsedObjects(8 * 2 ** 20);

/** Parsed objects → the version they are the parsed form of (while they live). */
const versionOfParsed = new WeakMap<object, StoredVersion>();

/**
 * The stored version `object` is the parsed form of, if it is one: a long-lived holder (the
 * scheduler's cache) keeps that instead of the object, and reads `.object` when it needs it.
 */
export function storedVersionOf(object: object): StoredVersion | undefined {
  return versionOfParsed.get(object);
}

/**
 * One version of one object as the store keeps it: its serialized bytes, which every reader
 * shares (GET answers them as they are), a summary of what lists, selectors and Tables read
 * (made by the registry, see `summary`), and its parsed form only behind a weak reference plus
 * the small `parsedObjects` cache: reading `.object` parses the bytes again when the parsed form
 * was collected. A retired version (replaced or deleted) keeps the same; it is no longer counted
 * live. Either parsed form reads its managedFields from the bytes (compact-object.ts). Readers
 * see the same object however often it is parsed: the bytes are that object's JSON.
 */
export class StoredVersion implements StoredObject {
  #weak?: WeakRef<KubeObject>;
  #retired = false;
  /** The bytes as kept: whole, or with pieces shared with other versions (shared-pieces.ts). */
  readonly #resident: ResidentJson;
  #span?: MetadataSpan;
  #summaryOf?: object;
  #summary?: unknown;
  stale?: boolean;

  constructor(
    json: Buffer,
    readonly revision: number,
    object?: KubeObject,
    span?: MetadataSpan,
  ) {
    this.#resident = sharePieces(json);
    if (object) {
      this.#span = span ?? metadataSpanOf(json);
      if (this.#span) readManagedFields(object, this.#resident, this.#span);
      this.#weak = new WeakRef(object);
      versionOfParsed.set(object, this);
      parsedObjects.hold(this, object);
    }
  }

  /** The serialized object, whole (a transient copy when pieces of it are shared: prefer jsonPieces). */
  get json(): Buffer {
    return wholeJson(this.#resident);
  }

  /** The serialized object as views of the bytes kept, in order, for responses assembled from pieces. */
  jsonPieces(): readonly Buffer[] {
    return this.#resident instanceof SharedJson ? jsonSlices(this.#resident, 0, this.#resident.length) : [this.#resident];
  }

  /** Bytes of the serialized object (shared pieces counted in full). */
  get byteLength(): number {
    return this.#resident.length;
  }

  /** The object's metadata JSON without managedFields (what partial metadata and Tables show), from the bytes. */
  metadataWithoutManagedFields(): string | undefined {
    if (!this.#span) void this.object;
    return this.#span && metadataWithoutManagedFields(this.#resident, this.#span);
  }

  /** The same as views of the bytes, for responses assembled from pieces. */
  metadataWithoutManagedFieldsPieces(): Buffer[] | undefined {
    if (!this.#span) void this.object;
    return this.#span && metadataWithoutManagedFieldsPieces(this.#resident, this.#span);
  }

  get object(): KubeObject {
    const held = this.#weak?.deref();
    if (held) return held;
    parsedObjects.parses++;
    const json = this.json;
    const parsed = JSON.parse(json.toString('utf8')) as KubeObject;
    this.#span ??= metadataSpanOf(json);
    if (this.#span) readManagedFields(parsed, this.#resident, this.#span);
    this.#weak = new WeakRef(parsed);
    versionOfParsed.set(parsed, this);
    parsedObjects.hold(this, parsed);
    return parsed;
  }

  /**
   * What `make` says of this version's object, made once per maker and kept (one maker at a
   * time: the registry's for this kind). A summary must be a function of the object alone.
   */
  summary<T>(maker: object, make: (object: KubeObject) => T): T {
    if (this.#summaryOf === maker) return this.#summary as T;
    const summary = make(this.object);
    this.#summaryOf = maker;
    this.#summary = summary;
    return summary;
  }

  get retired(): boolean {
    return this.#retired;
  }

  /** No longer the live version (it stays readable from its bytes). */
  retire(): void {
    this.#retired = true;
  }

  /** Live again (a rewound write restored it). */
  revive(): void {
    this.#retired = false;
  }
}

function retire(stored: StoredObject): void {
  if (stored instanceof StoredVersion) stored.retire();
}

function revive(stored: StoredObject): void {
  if (stored instanceof StoredVersion) stored.revive();
}

function storedFromBytes(value: Uint8Array, revision: number): StoredObject {
  const json = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return new StoredVersion(json, revision);
}

/** Current keys plus keys that existed at the past revision only, in order. */
function mergeKeys(current: readonly string[], stateAt: Map<string, StoredObject | undefined>): string[] {
  const extra = [...stateAt.keys()].filter((key) => stateAt.get(key) !== undefined).sort(compareKeys);
  const merged: string[] = [];
  let i = 0;
  let j = 0;
  while (i < current.length || j < extra.length) {
    if (j >= extra.length || (i < current.length && current[i] < extra[j])) merged.push(current[i++]);
    else if (i < current.length && current[i] === extra[j]) {
      merged.push(current[i++]);
      j++;
    } else merged.push(extra[j++]);
  }
  return merged;
}

function countWithPrefix(keys: readonly string[], from: number, prefix: string): number {
  if (!prefix) return keys.length - from;
  const end = lowerBound(keys, prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1));
  return Math.max(0, end - from);
}

/**
 * The live objects of a snapshot as the store captured them: a key and a version per object, in
 * two flat arrays, so the capture allocates no object per entry (an object with a getter closure
 * each was 88 MiB and ~140 ms of blocked event loop at 150,000 objects; this is ~3 MiB and
 * ~12 ms, `npm run bench -- snapshot-capture`). An entry and its value, the stored form of the
 * version's bytes, are made as the writer reaches it; versions never change, so the view stays
 * consistent while writes go on.
 */
class CapturedEntries implements SnapshotEntries {
  private readonly keys: string[] = [];
  private readonly versions: StoredObject[] = [];
  /** Each resource with the index of its first entry, in order. */
  private readonly resources: { name: string; start: number }[] = [];

  constructor(private readonly toStorage: (resource: string, key: string, json: Buffer) => Uint8Array) {}

  get length(): number {
    return this.keys.length;
  }

  startResource(name: string): void {
    this.resources.push({ name, start: this.keys.length });
  }

  add(key: string, stored: StoredObject): void {
    this.keys.push(key);
    this.versions.push(stored);
  }

  *[Symbol.iterator](): Iterator<SnapshotEntry> {
    for (let r = 0; r < this.resources.length; r++) {
      const resource = this.resources[r].name;
      const end = r + 1 < this.resources.length ? this.resources[r + 1].start : this.keys.length;
      for (let i = this.resources[r].start; i < end; i++) {
        const key = this.keys[i];
        const stored = this.versions[i];
        yield { resource, key, revision: stored.revision, value: this.toStorage(resource, key, stored.json) };
      }
    }
  }
}
