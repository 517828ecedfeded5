/**
 * The one generic registry store (after k8s.io/apiserver genericregistry.Store): object
 * semantics common to every kind — names and generateName, uid, creationTimestamp, generation,
 * status subresource isolation, preconditions, finalizers and deletionTimestamp — on top of
 * the revisioned Store. Kinds differ only by their strategy.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, errors, fieldErrors, type FieldError } from '../api/status.js';
import { deepCopy, jsonEqual, nowRfc3339, withoutMember, type KubeObject } from '../api/object.js';
import { StorageFullError, WriteUnavailableError } from '../storage/durable-log.js';
import { RevisionCompactedError, RevisionTooLargeError, StoreConflictError, type EventType, type ListQuery, type ListResult, type Store, type StoreEvent, type StoredObject, type Watcher, unstoredObject } from '../storage/store.js';
import { apiVersionOf, resourceId, type KindStrategy, type Obj } from './strategy.js';
import { summaryOf } from './summary.js';
import { dns1123LabelErrors, dns1123SubdomainErrors, validateObjectMeta } from './common/validation.js';
import type { AdmissionAttributes, AdmissionChain, AdmissionOperation } from '../admission/admission.js';
import type { UserInfo } from '../auth/authenticate.js';

export interface WriteOptions {
  dryRun?: boolean;
  /**
   * Only the status (or namespace finalize) subresource; the main resource when absent.
   * 'binding' writes the main resource and its status together (pods/binding).
   */
  subresource?: 'status' | 'finalize' | 'binding';
  /** Who writes (recorded in metadata.managedFields); in-process writers default to "nautilus". */
  fieldManager?: string;
  /** Server-side apply has already computed metadata.managedFields. */
  managedFieldsComputed?: boolean;
  /** Who writes, for admission (undefined: the server itself). */
  user?: UserInfo;
  /** Collects warnings admission has for the client. */
  warnings?: string[];
  /** The subresource admission is told of, where it differs from the one written (CSR /approval is a status write). */
  admissionSubresource?: string;
}

export interface DeleteOptions {
  dryRun?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  /** Orphan, Background or Foreground: what becomes of the object's dependents. */
  propagationPolicy?: string;
  /** The deprecated spelling of propagationPolicy Orphan (true) or Background (false). */
  orphanDependents?: boolean;
  /** Who deletes, for admission (undefined: the server itself). */
  user?: UserInfo;
  /** Collects warnings admission has for the client. */
  warnings?: string[];
}

export interface DeleteResult {
  /** The object is gone (false: it now waits for finalizers). */
  deleted: boolean;
  stored: StoredObject;
}

export interface ManagedFieldsUpdate {
  object: Obj;
  old: Obj | undefined;
  strategy: KindStrategy;
  manager: string;
  subresource?: string;
}

export interface GenericStoreHooks {
  /**
   * Drops what upstream's typed decoding and encoding drop (optional fields holding an empty
   * value, Go's omitempty): run on what a writer sent, so defaulting sees an empty value as
   * unset as Go's defaulters do, and again on what is stored, after defaults and admission.
   */
  typedRoundTrip?: (strategy: KindStrategy, object: Obj) => void;
  /** Refuses a write the server cannot take (e.g. over its memory budget); throws an ApiError. */
  admitWrite?: (strategy: KindStrategy) => void;
  /** Records who changed which fields in metadata.managedFields. */
  recordManagedFields?: (update: ManagedFieldsUpdate) => void;
  /** Mutating and validating admission plugins, run on every create, update and delete. */
  admission?: AdmissionChain;
  /**
   * Checks of the writer the registry itself makes before admission, on create and update
   * (upstream's policy-based RBAC storage: no privilege escalation). Throws an ApiError.
   */
  writePolicy?: (attributes: AdmissionAttributes) => void;
}

const IN_PROCESS_MANAGER = 'nautilus';

const GENERATE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_GENERATE_ATTEMPTS = 5;

export class GenericStore {
  readonly resource: string;
  readonly ref: { group: string; resource: string; kind: string };
  /** Set when objects are stored at another version than this store serves (custom resources). */
  private readonly conversion?: VersionConversion;

  constructor(
    readonly strategy: KindStrategy,
    private readonly store: Store,
    private readonly hooks: GenericStoreHooks = {},
  ) {
    this.resource = resourceId(strategy);
    this.ref = { group: strategy.group, resource: strategy.plural, kind: strategy.kind };
    if (strategy.storageVersion && strategy.storageVersion !== strategy.version) {
      this.conversion = new VersionConversion(apiVersionOf(strategy), apiVersionOf({ group: strategy.group, version: strategy.storageVersion }), strategy.convert);
    } else store.summarizeWith(this.resource, (stored) => void summaryOf(stored, strategy));
  }

  /** A stored version as this store serves it. */
  private served(stored: StoredObject): StoredObject;
  private served(stored: StoredObject | undefined): StoredObject | undefined;
  private served(stored: StoredObject | undefined): StoredObject | undefined {
    return stored && this.conversion ? this.conversion.served(stored) : stored;
  }

  /** The object as it is written to storage. */
  private toStorage(object: Obj): Obj {
    return this.conversion ? this.conversion.toStorage(object) : object;
  }

  key(namespace: string | undefined, name: string): string {
    return this.strategy.namespaced ? `${namespace}/${name}` : name;
  }

  get(namespace: string | undefined, name: string): StoredObject {
    const stored = this.store.get(this.resource, this.key(namespace, name));
    if (!stored) throw errors.notFound(this.ref, name);
    return this.served(stored);
  }

  tryGet(namespace: string | undefined, name: string): StoredObject | undefined {
    return this.served(this.store.get(this.resource, this.key(namespace, name)));
  }

  list(namespace: string | undefined, query: Omit<ListQuery, 'prefix'>): ListResult {
    try {
      const result = this.store.list(this.resource, { ...query, prefix: this.strategy.namespaced && namespace ? `${namespace}/` : undefined });
      return this.conversion ? { ...result, items: result.items.map((item) => this.served(item)) } : result;
    } catch (error) {
      throw storageError(error);
    }
  }

  /** Watches this kind; see Store.watch. */
  watch(namespace: string | undefined, options: { fromRevision: number; filter?: (stored: StoredObject) => boolean }, onEvent: (event: StoreEvent, type: EventType) => void): Watcher {
    // A RevisionCompactedError passes through: watches report it in-stream, not as a status code.
    const prefix = this.strategy.namespaced && namespace ? `${namespace}/` : undefined;
    const conversion = this.conversion;
    if (!conversion) return this.store.watch(this.resource, { ...options, prefix }, onEvent);
    return this.store.watch(this.resource, { ...options, prefix }, (event, type) => onEvent({ ...event, current: conversion.served(event.current), previous: event.previous && conversion.served(event.previous) }, type));
  }

  /** The newest revision watchers have been shown. */
  get visibleRevision(): number {
    return this.store.visibleRevision;
  }

  /** The newest revision written (what a list without resourceVersion reads at). */
  get currentRevision(): number {
    return this.store.revision;
  }

  async create(object: Obj, options: WriteOptions = {}): Promise<StoredObject> {
    const strategy = this.strategy;
    this.checkTypeMeta(object);
    if (object.metadata.resourceVersion) throw errors.badRequest('resourceVersion should not be set on objects to be created');
    const meta = object.metadata;
    if (!strategy.namespaced) delete meta.namespace;
    meta.uid = randomUUID();
    meta.creationTimestamp = nowRfc3339();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (strategy.generation) meta.generation = 1;
    else delete meta.generation;
    if (meta.generateName && !meta.name) meta.name = generateName(meta.generateName);
    this.hooks.typedRoundTrip?.(strategy, object);
    strategy.defaults?.(object);
    const admission = this.admissionAttributes('CREATE', object, undefined, options);
    this.hooks.writePolicy?.(admission);
    // Ownership is the request's, taken before mutating admission (as upstream's handler does):
    // what admission adds (a token volume, default tolerations, a priority) belongs to no manager.
    if (!options.managedFieldsComputed) this.hooks.recordManagedFields?.({ object, old: undefined, strategy, manager: options.fieldManager ?? IN_PROCESS_MANAGER });
    await this.hooks.admission?.admit(admission);
    strategy.prepareForCreate?.(object, options.user);
    this.hooks.typedRoundTrip?.(strategy, object);
    try {
      this.validate(object);
      await this.hooks.admission?.validate(admission);
      this.hooks.admitWrite?.(strategy);
      if (options.dryRun) {
        if (this.tryGet(meta.namespace, meta.name!)) throw errors.alreadyExists(this.ref, meta.name!);
        strategy.abandon?.(object, undefined);
        return dryRunResult(object);
      }
      return await this.storeCreate(object);
    } catch (error) {
      strategy.abandon?.(object, undefined);
      throw error;
    }
  }

  private async storeCreate(object: Obj): Promise<StoredObject> {
    const meta = object.metadata;
    for (let attempt = 1; ; attempt++) {
      try {
        return this.served(await this.store.create(this.resource, this.key(meta.namespace, meta.name!), this.toStorage(object)));
      } catch (error) {
        if (!(error instanceof StoreConflictError) || error.kind !== 'exists') throw storageError(error);
        // A generated name may collide; upstream retries with a new suffix.
        if (!meta.generateName || attempt >= MAX_GENERATE_ATTEMPTS || !meta.name!.startsWith(meta.generateName)) throw errors.alreadyExists(this.ref, meta.name!);
        meta.name = generateName(meta.generateName);
      }
    }
  }

  /**
   * Replaces an object (PUT, and the write half of PATCH). Metadata the server owns is carried
   * over; a resourceVersion in the body is a precondition.
   */
  async update(namespace: string | undefined, name: string, object: Obj, options: WriteOptions = {}): Promise<StoredObject> {
    this.checkTypeMeta(object);
    const meta = object.metadata;
    if (meta.name !== undefined && meta.name !== name) {
      throw errors.badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    const current = this.get(namespace, name);
    const old = current.object as Obj;
    if (meta.resourceVersion && meta.resourceVersion !== old.metadata.resourceVersion) {
      throw errors.conflict(this.ref, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    if (meta.uid && meta.uid !== old.metadata.uid) {
      throw errors.conflict(this.ref, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    const mainResource = options.subresource === undefined || options.subresource === 'binding';
    this.hooks.typedRoundTrip?.(this.strategy, object);
    const updated =
      options.subresource === 'status' ? this.subresourceUpdate(object, old, 'status') : options.subresource === 'finalize' ? this.finalizeUpdate(object, old) : this.mainUpdate(object, old, options.subresource !== 'binding');
    try {
      const admission = this.admissionAttributes('UPDATE', updated, old, options);
      this.hooks.writePolicy?.(admission);
      // Before mutating admission, as on create.
      if (!options.managedFieldsComputed) {
        const subresource = options.subresource === 'binding' ? undefined : options.subresource;
        this.hooks.recordManagedFields?.({ object: updated, old, strategy: this.strategy, manager: options.fieldManager ?? IN_PROCESS_MANAGER, subresource });
      }
      await this.hooks.admission?.admit(admission);
      this.hooks.typedRoundTrip?.(this.strategy, updated);
      if (mainResource && this.strategy.generation && !jsonEqual(specOf(updated), specOf(old))) {
        updated.metadata.generation = (old.metadata.generation ?? 0) + 1;
      }
      this.validate(updated, old);
      await this.hooks.admission?.validate(admission);
      this.hooks.admitWrite?.(this.strategy);
      // A value under a retired encryption key is rewritten even unchanged (key rotation, as upstream).
      if (isNoOp(updated, old) && !this.store.get(this.resource, this.key(namespace, name))?.stale) return current;
      if (options.dryRun) {
        this.strategy.abandon?.(updated, old);
        return dryRunResult(updated);
      }
      if (updated.metadata.deletionTimestamp && !updated.metadata.deletionGracePeriodSeconds && !this.waitsForFinalizers(updated)) {
        // The last finalizer is gone: the pending deletion completes now (a graceful one waits
        // for its confirming delete, as upstream's shouldDeleteDuringUpdate).
        return await this.storeDelete(namespace, name, current.revision);
      }
      return this.served(await this.store.update(this.resource, this.key(namespace, name), this.toStorage(updated), current.revision));
    } catch (error) {
      this.strategy.abandon?.(updated, old);
      throw storageError(error, this.ref, name);
    }
  }

  /**
   * Reads, transforms and writes back, retrying when a concurrent writer got there first
   * (upstream's GuaranteedUpdate). `transform` gets a private copy.
   */
  async guaranteedUpdate(namespace: string | undefined, name: string, transform: (current: Obj) => Obj | Promise<Obj>, options: WriteOptions = {}): Promise<StoredObject> {
    for (let attempt = 0; ; attempt++) {
      const current = this.get(namespace, name);
      const next = await transform(deepCopy(current.object) as Obj);
      const expected = current.object.metadata.resourceVersion;
      next.metadata ??= {};
      const requested = next.metadata.resourceVersion;
      // A resourceVersion the caller put in is a precondition; otherwise we pin the one we read.
      if (!requested || requested === expected) next.metadata.resourceVersion = expected;
      try {
        return await this.update(namespace, name, next, options);
      } catch (error) {
        const raced = error instanceof ApiError && error.code === 409 && error.reason === 'Conflict' && (!requested || requested === expected);
        if (!raced || attempt >= 5 || this.get(namespace, name).revision === current.revision) throw error;
      }
    }
  }

  async delete(namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    const current = this.get(namespace, name);
    const object = current.object as Obj;
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== object.metadata.uid) {
      throw errors.conflict(this.ref, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${object.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== object.metadata.resourceVersion) {
      throw errors.conflict(this.ref, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${object.metadata.resourceVersion}`);
    }
    await this.hooks.admission?.validate(this.admissionAttributes('DELETE', undefined, object, options));
    const grace = this.gracefulDeletion(object, options.gracePeriodSeconds);
    // A graceful deletion already under way: only a shorter period changes it, and finalizers
    // can no longer be changed through delete options (upstream's pendingGraceful).
    if (grace === 'pending') return { deleted: false, stored: current };
    // The garbage collector's finalizers say what becomes of dependents; a later delete may
    // change them (e.g. Foreground, then Orphan), as upstream's store lets it.
    const gcFinalizers = garbageCollectionFinalizers(this.strategy, object, options);
    const pending = gcFinalizers ? { ...object, metadata: { ...object.metadata, finalizers: gcFinalizers } } : object;
    if (grace && (grace.periodSeconds > 0 || this.waitsForFinalizers(pending))) {
      const marked = deepCopy(object);
      if (gcFinalizers) marked.metadata.finalizers = gcFinalizers;
      if (!marked.metadata.deletionTimestamp) {
        if (marked.metadata.generation !== undefined) marked.metadata.generation++;
        this.strategy.prepareForDelete?.(marked);
      }
      marked.metadata.deletionTimestamp = grace.deletionTimestamp;
      marked.metadata.deletionGracePeriodSeconds = grace.periodSeconds;
      if (options.dryRun) return { deleted: false, stored: dryRunResult(marked) };
      try {
        return { deleted: false, stored: this.served(await this.store.update(this.resource, this.key(namespace, name), this.toStorage(marked), current.revision)) };
      } catch (error) {
        throw storageError(error, this.ref, name);
      }
    }
    if (!this.waitsForFinalizers(pending)) {
      if (options.dryRun) return { deleted: true, stored: current };
      return { deleted: true, stored: await this.storeDelete(namespace, name, current.revision) };
    }
    if (object.metadata.deletionTimestamp && !gcFinalizers) return { deleted: false, stored: current };
    const marked = deepCopy(object);
    if (gcFinalizers) marked.metadata.finalizers = gcFinalizers;
    if (!marked.metadata.deletionTimestamp) {
      marked.metadata.deletionTimestamp = nowRfc3339();
      marked.metadata.deletionGracePeriodSeconds = 0;
      if (marked.metadata.generation !== undefined) marked.metadata.generation++;
      this.strategy.prepareForDelete?.(marked);
    }
    if (options.dryRun) return { deleted: false, stored: dryRunResult(marked) };
    try {
      return { deleted: false, stored: this.served(await this.store.update(this.resource, this.key(namespace, name), this.toStorage(marked), current.revision)) };
    } catch (error) {
      throw storageError(error, this.ref, name);
    }
  }

  /**
   * Upstream's rest.BeforeDelete for kinds deleted gracefully: undefined when the kind is not (or
   * the object goes as any other), 'pending' when a graceful deletion is under way and this
   * delete does not shorten it, else the deletion timestamp and period to record.
   */
  private gracefulDeletion(object: Obj, requested: number | undefined): { deletionTimestamp: string; periodSeconds: number } | 'pending' | undefined {
    if (!this.strategy.gracefulDeletionPeriod) return undefined;
    const meta = object.metadata;
    if (meta.deletionTimestamp) {
      const period = meta.deletionGracePeriodSeconds;
      // Marked without a period (finalizers), or already shortened to 0: nothing to wait for.
      if (typeof period !== 'number' || period === 0) return undefined;
      if (requested === undefined || requested >= period) return 'pending';
      const shortened = Date.parse(meta.deletionTimestamp) - period * 1000 + Math.max(0, requested) * 1000;
      return { deletionTimestamp: rfc3339(shortened), periodSeconds: Math.max(0, requested) };
    }
    const period = this.strategy.gracefulDeletionPeriod(object, requested);
    return { deletionTimestamp: rfc3339(Date.now() + period * 1000), periodSeconds: period };
  }

  private admissionAttributes(operation: AdmissionOperation, object: Obj | undefined, oldObject: Obj | undefined, options: { dryRun?: boolean; user?: UserInfo; subresource?: string; admissionSubresource?: string; warnings?: string[] }): AdmissionAttributes {
    const strategy = this.strategy;
    const meta = (object ?? oldObject)!.metadata;
    return {
      operation,
      resource: { group: strategy.group, version: strategy.version, resource: strategy.plural },
      subresource: options.admissionSubresource ?? options.subresource,
      kind: { group: strategy.group, version: strategy.version, kind: strategy.kind },
      namespace: strategy.namespaced ? meta.namespace : undefined,
      name: meta.name,
      object,
      oldObject,
      user: options.user,
      dryRun: options.dryRun ?? false,
      warnings: options.warnings,
      auditAnnotations: {},
    };
  }

  private waitsForFinalizers(object: Obj): boolean {
    return (object.metadata.finalizers ?? []).length > 0 || (this.strategy.blocksDeletion?.(object) ?? false);
  }

  private async storeDelete(namespace: string | undefined, name: string, expectedRevision: number): Promise<StoredObject> {
    try {
      return this.served(await this.store.delete(this.resource, this.key(namespace, name), expectedRevision));
    } catch (error) {
      throw storageError(error, this.ref, name);
    }
  }

  private mainUpdate(object: Obj, old: Obj, keepStoredStatus: boolean): Obj {
    const updated = object;
    carryServerMetadata(updated, old);
    if (this.strategy.statusSubresource && keepStoredStatus) {
      if (old.status === undefined) delete updated.status;
      else updated.status = old.status;
    }
    this.strategy.defaults?.(updated);
    this.strategy.prepareForUpdate?.(updated, old);
    return updated;
  }

  private subresourceUpdate(object: Obj, old: Obj, field: 'status'): Obj {
    // Through /status only status changes (and what metadata the kind lets it write); everything else stays as stored.
    const updated = deepCopy(old);
    if (object[field] === undefined) delete updated[field];
    else updated[field] = object[field];
    for (const key of this.strategy.statusSubresourceMetadata ?? []) {
      const value = isRecord(object.metadata) ? object.metadata[key] : undefined;
      if (value === undefined) delete updated.metadata[key];
      else updated.metadata[key] = value;
    }
    return updated;
  }

  /** Namespace /finalize: only spec.finalizers changes. */
  private finalizeUpdate(object: Obj, old: Obj): Obj {
    const updated = deepCopy(old);
    updated.spec = { ...(updated.spec ?? {}), finalizers: object.spec?.finalizers ?? [] };
    return updated;
  }

  private validate(object: Obj, old?: Obj): void {
    const strategy = this.strategy;
    const nameErrors = strategy.nameValidation ?? (strategy.nameIsDnsLabel ? dns1123LabelErrors : dns1123SubdomainErrors);
    const errs: FieldError[] = validateObjectMeta(object, nameErrors, strategy.namespaced);
    if (old) {
      if (object.metadata.namespace !== old.metadata.namespace) errs.push(fieldErrors.invalid('metadata.namespace', object.metadata.namespace, 'field is immutable'));
    }
    if (errs.length === 0) errs.push(...(strategy.validate?.(object, old) ?? []));
    if (errs.length > 0) throw errors.invalid(strategy.kind, strategy.group, object.metadata.name ?? '', errs);
  }

  private checkTypeMeta(object: Obj): void {
    const apiVersion = apiVersionOf(this.strategy);
    if (object.kind === undefined || object.kind === '') object.kind = this.strategy.kind;
    if (object.apiVersion === undefined || object.apiVersion === '') object.apiVersion = apiVersion;
    if (object.apiVersion !== apiVersion) {
      throw errors.badRequest(`the API version in the data (${object.apiVersion}) does not match the expected API version (${apiVersion})`);
    }
    if (object.kind !== this.strategy.kind) {
      throw errors.badRequest(`the kind in the data (${object.kind}) does not match the expected kind (${this.strategy.kind})`);
    }
    if (typeof object.metadata !== 'object' || object.metadata === null || Array.isArray(object.metadata)) object.metadata = {};
  }
}

/**
 * Conversion None between the versions of one kind: only apiVersion differs. Each stored version
 * is converted once (stored versions never change), so lists and watches pay it once.
 */
class VersionConversion {
  private readonly cache = new WeakMap<StoredObject, StoredObject>();

  constructor(
    readonly servedApiVersion: string,
    readonly storageApiVersion: string,
    private readonly convert?: KindStrategy['convert'],
  ) {}

  toStorage(object: Obj): Obj {
    const converted = this.convert ? this.convert.toStorage(deepCopy(object)) : { ...object };
    converted.apiVersion = this.storageApiVersion;
    return converted;
  }

  served(stored: StoredObject): StoredObject {
    if (stored.object.apiVersion === this.servedApiVersion) return stored;
    let converted = this.cache.get(stored);
    if (!converted) {
      const object = this.convert ? this.convert.fromStorage(deepCopy(stored.object) as Obj) : { ...stored.object };
      object.apiVersion = this.servedApiVersion;
      converted = unstoredObject(object, stored.revision);
      this.cache.set(stored, converted);
    }
    return converted;
  }
}

/** Metadata only the server writes: taken from the stored object on every update. */
function carryServerMetadata(updated: Obj, old: Obj): void {
  const meta = updated.metadata;
  meta.name = old.metadata.name;
  if (old.metadata.namespace !== undefined) meta.namespace ??= old.metadata.namespace;
  meta.uid = old.metadata.uid;
  meta.creationTimestamp = old.metadata.creationTimestamp;
  if (old.metadata.generation !== undefined) meta.generation = old.metadata.generation;
  else delete meta.generation;
  if (old.metadata.deletionTimestamp) {
    meta.deletionTimestamp = old.metadata.deletionTimestamp;
    meta.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
  } else {
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
  }
  if (old.metadata.generateName !== undefined && meta.generateName === undefined) meta.generateName = old.metadata.generateName;
}

/** Everything but metadata and status: what a generation counts. */
function specOf(object: Obj): Record<string, unknown> {
  const { metadata: _metadata, status: _status, ...rest } = object;
  return rest;
}

/** An update that changes nothing is not written (the resourceVersion stays, as upstream). */
function isNoOp(updated: Obj, old: Obj): boolean {
  // managedFields last: the stored ones are parsed only when everything else is equal.
  const strip = (o: Obj) => ({ ...o, metadata: { ...withoutMember(o.metadata, 'managedFields'), resourceVersion: undefined } });
  return jsonEqual(strip(updated), strip(old)) && jsonEqual(stripTimes(updated.metadata.managedFields), stripTimes(old.metadata.managedFields));
}

function stripTimes(managedFields: unknown[] | undefined): unknown[] | undefined {
  return managedFields?.map((entry) => ({ ...(entry as Record<string, unknown>), time: undefined }));
}

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

/**
 * The finalizers a delete leaves on the object for the garbage collector, when they differ from
 * what it has (upstream's deletionFinalizersForGarbageCollection): `orphan` when dependents are
 * to be orphaned, `foregroundDeletion` when they go first. An explicit policy wins, then a GC
 * finalizer already set, then the kind's default.
 */
function garbageCollectionFinalizers(strategy: KindStrategy, object: Obj, options: DeleteOptions): string[] | undefined {
  const kindDefault = strategy.defaultGarbageCollectionPolicy ?? 'DeleteDependents';
  if (kindDefault === 'Unsupported') return undefined;
  const existing: string[] = Array.isArray(object.metadata.finalizers) ? object.metadata.finalizers : [];
  const firstGcFinalizer = existing.find((f) => f === ORPHAN_FINALIZER || f === FOREGROUND_FINALIZER);
  let policy: 'Orphan' | 'Background' | 'Foreground';
  if (options.orphanDependents !== undefined) policy = options.orphanDependents ? 'Orphan' : 'Background';
  else if (options.propagationPolicy === 'Orphan' || options.propagationPolicy === 'Background' || options.propagationPolicy === 'Foreground') policy = options.propagationPolicy;
  else if (firstGcFinalizer) policy = firstGcFinalizer === ORPHAN_FINALIZER ? 'Orphan' : 'Foreground';
  else policy = kindDefault === 'OrphanDependents' ? 'Orphan' : 'Background';
  const wanted = existing.filter((f) => f !== ORPHAN_FINALIZER && f !== FOREGROUND_FINALIZER);
  if (policy === 'Orphan') wanted.push(ORPHAN_FINALIZER);
  if (policy === 'Foreground') wanted.push(FOREGROUND_FINALIZER);
  const same = new Set(wanted).size === new Set(existing).size && wanted.every((f) => existing.includes(f));
  return same ? undefined : wanted;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function generateName(base: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += GENERATE_NAME_ALPHABET[Math.floor(Math.random() * GENERATE_NAME_ALPHABET.length)];
  return `${base.slice(0, 63 - 5)}${suffix}`;
}

/** Seconds precision, as metav1.Time serializes. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function dryRunResult(object: KubeObject): StoredObject {
  return unstoredObject(object, Number(object.metadata.resourceVersion ?? 0));
}

export function storageError(error: unknown, ref?: { group: string; resource: string }, name?: string): unknown {
  if (error instanceof StoreConflictError && ref && name) {
    if (error.kind === 'notFound') return errors.notFound(ref, name);
    if (error.kind === 'exists') return errors.alreadyExists(ref, name);
    return errors.conflict(ref, name, error.message);
  }
  if (error instanceof RevisionCompactedError) return errors.gone(`The resourceVersion for the provided list is too old.`);
  if (error instanceof RevisionTooLargeError) {
    return new ApiError(504, 'Timeout', `Too large resource version: ${error.requested}, current: ${error.current}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
  }
  // The disk is full (etcd's NOSPACE alarm): refused, never applied; taken again once space is back.
  if (error instanceof StorageFullError) return new ApiError(507, 'InsufficientStorage', error.message);
  // The replicated log's leader changed under the write: retriable, and never acknowledged.
  if (error instanceof WriteUnavailableError) {
    return error.applied === 'no'
      ? new ApiError(503, 'ServiceUnavailable', error.message, { retryAfterSeconds: 1 })
      : new ApiError(504, 'Timeout', `Timeout: ${error.message} (it may or may not have been applied)`, {});
  }
  return error;
}
