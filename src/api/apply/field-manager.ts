/**
 * Managed fields for every write, as the apiserver's fieldmanager does: recordUpdate after a
 * create, update or non-apply patch has produced the new object; applyConfiguration for
 * server-side apply (PATCH application/apply-patch+yaml). Both are pure: the caller stores.
 */

import { isPlainObject, lazyJsonText, withoutMember, type JsonMap, type KubeObject } from '../object.js';
import { errors } from '../status.js';
import { listConflicts, applyConflictMessage, type ApplyConflict } from './conflicts.js';
import { FieldSet } from './field-set.js';
import { fieldsOwnedByLastApplied, KUBECTL_SERVER_SIDE_MANAGER, lastAppliedOf, withLastAppliedUpdated } from './last-applied.js';
import {
  capUpdateManagers,
  emptyManagedState,
  encodeManagedFields,
  encodeManagedFieldsJson,
  ManagedFieldsError,
  managerId,
  readManagedFields,
  readManagedFieldsJson,
  stripServerMaintainedFields,
  withoutServerMaintainedFields,
  type ManagedFieldsEntry,
  type ManagedFieldsReading,
  type ManagedState,
} from './managed-fields.js';
import { MemoTable } from './memo-table.js';
import { fieldElement } from './path-element.js';
import type { ApplySchema } from './schema.js';
import { applyConfig, recordChanges, type ApplyOutcome, type OwnershipContext } from './updater.js';
import { appliedConfigProblem } from './validate-config.js';

export interface WriteScope {
  /** Schema of the kind at the request's version; undefined treats the object as schemaless. */
  readonly schema: ApplySchema | undefined;
  /** The request's group/version, e.g. "apps/v1" or "v1". */
  readonly apiVersion: string;
  /** "status", "scale", … when writing through a subresource. */
  readonly subresource?: string;
  /**
   * Dotted paths this endpoint never changes, excluded from ownership (upstream's reset fields).
   * Default: ["status"] on the main resource, ["spec"] on /status, nothing elsewhere; pass []
   * for kinds whose status is an ordinary field (custom resources without a status subresource).
   */
  readonly resetFields?: readonly string[];
  /** RFC 3339 time stamped on the entries this write changes. */
  readonly now: string;
}

export interface UpdateParams extends WriteScope {
  /** The stored object; undefined for a create. */
  readonly live: KubeObject | undefined;
  /** The object about to be stored, as the client (and admission) left it. */
  readonly updated: KubeObject;
  readonly manager: string;
}

/**
 * The managedFields to store with `updated`; an empty list means "store none". The manager
 * takes, silently, every field it added or changed. managedFields the client sent are honoured
 * (that is how kubectl migrates client-side apply ownership), except through a subresource.
 */
export function recordUpdate(params: UpdateParams): ManagedFieldsEntry[] {
  const state = ownershipAfterUpdate(params);
  return state ? encodeManagedFields(state) : [];
}

/**
 * recordUpdate's managedFields as their JSON text, exactly JSON.stringify(recordUpdate(params)),
 * or undefined for "store none": what the server stores, without building the entries.
 */
export function recordUpdateJson(params: UpdateParams): string | undefined {
  const state = ownershipAfterUpdate(params);
  return state ? encodeManagedFieldsJson(state) : undefined;
}

function ownershipAfterUpdate(params: UpdateParams): ManagedState | undefined {
  const state = managedStateForUpdate(params);
  // Upstream starts tracking an object at creation or at its first apply, never at an update.
  if (params.live !== undefined && state.managers.size === 0) return undefined;
  const id = managerId({ manager: params.manager, operation: 'Update', apiVersion: params.apiVersion, subresource: params.subresource });
  const recorded = recordChanges(bodyOf(params.live), bodyOf(params.updated), state.managers, id, ownershipContext(params));
  const times = new Map(state.times);
  const managers = stripServerMaintainedFields(recorded.managers);
  if (!withoutServerMaintainedFields(recorded.gained).isEmpty() && managers.has(id)) times.set(id, params.now);
  const capped = capUpdateManagers({ managers, times });
  return capped.managers.size > 0 ? capped : undefined;
}

function managedStateForUpdate(params: UpdateParams): ManagedState {
  const fromLive = () => stateOrEmpty(params.live);
  if (params.subresource) return fromLive();
  let sent: ManagedFieldsReading;
  try {
    sent = readManagedFieldsOf(params.updated);
  } catch (error) {
    // Like upstream: a client that mangles managedFields must not lose the live ownership.
    if (error instanceof ManagedFieldsError) return fromLive();
    throw error;
  }
  if (sent.reset) return emptyManagedState();
  return sent.state.managers.size > 0 ? sent.state : fromLive();
}

export interface ApplyParams extends WriteScope {
  /** The stored object; undefined when the apply creates it. */
  readonly live: KubeObject | undefined;
  /** The applied configuration (the decoded apply-patch body). */
  readonly applied: unknown;
  readonly manager: string;
  readonly force: boolean;
}

export type ApplyResult =
  | {
      readonly outcome: 'applied';
      /** The object to store, without metadata.managedFields (see withManagedFields). */
      readonly object: KubeObject;
      readonly managedFields: ManagedFieldsEntry[];
      /** False when the object (managedFields aside) is exactly the live one. */
      readonly changed: boolean;
    }
  | {
      readonly outcome: 'conflict';
      readonly conflicts: ApplyConflict[];
      /** Upstream's message; applyConflictError() builds the whole 409 Status. */
      readonly message: string;
    };

/**
 * Server-side apply. Throws an ApiError (400) for a configuration upstream would refuse to type;
 * reports conflicts as a result, for the caller to answer with applyConflictError().
 */
export function applyConfiguration(params: ApplyParams): ApplyResult {
  const applied = checkAppliedConfig(params);
  const context = ownershipContext(params);
  const liveBody = bodyOf(params.live);
  const state = managedStateForApply(params, liveBody, context);
  const id = managerId({ manager: params.manager, operation: 'Apply', subresource: params.subresource });

  let outcome: ApplyOutcome = applyConfig(liveBody, applied, state.managers, id, params.force, context);
  if ('conflicts' in outcome && params.manager === KUBECTL_SERVER_SIDE_MANAGER) {
    const forgiven = fieldsOwnedByLastApplied(params.live, liveBody, params.schema, params.apiVersion);
    if (forgiven) {
      const remaining = forgiveConflicts(outcome.conflicts, forgiven);
      outcome = remaining.size === 0 ? applyConfig(liveBody, applied, state.managers, id, true, context) : { conflicts: remaining };
    }
  }
  if ('conflicts' in outcome) {
    const conflicts = listConflicts(outcome.conflicts);
    return { outcome: 'conflict', conflicts, message: applyConflictMessage(conflicts) };
  }

  const times = new Map(state.times);
  if (outcome.changed) times.set(id, params.now);
  const managers = stripServerMaintainedFields(outcome.managers);
  // A private copy: the merge shares unchanged subtrees with the live object and the request.
  let object = structuredClone(outcome.changed ? outcome.object : liveBody) as KubeObject;
  if (params.manager === KUBECTL_SERVER_SIDE_MANAGER && lastAppliedOf(object) !== undefined) {
    object = withLastAppliedUpdated(object, applied);
  }
  return { outcome: 'applied', object, managedFields: encodeManagedFields(capUpdateManagers({ managers, times })), changed: outcome.changed };
}

function checkAppliedConfig(params: ApplyParams): JsonMap {
  const { applied } = params;
  if (!isPlainObject(applied)) throw errors.badRequest('error decoding YAML: the apply patch must be an object');
  const patchVersion = typeof applied.apiVersion === 'string' ? applied.apiVersion : '';
  if (patchVersion !== params.apiVersion) {
    throw errors.badRequest(`Incorrect version specified in apply patch. Specified patch version: ${patchVersion}, expected: ${params.apiVersion}`);
  }
  const metadata = isPlainObject(applied.metadata) ? applied.metadata : {};
  if (metadata.managedFields !== undefined && metadata.managedFields !== null) throw errors.badRequest('metadata.managedFields must be nil');
  const problem = appliedConfigProblem(applied, params.schema);
  if (problem) {
    const kind = typeof applied.kind === 'string' ? applied.kind : '';
    const gvk = `${params.apiVersion.includes('/') ? params.apiVersion : `/${params.apiVersion}`}, Kind=${kind}`;
    const name = `${String(metadata.namespace ?? '')}/${String(metadata.name ?? '')}`;
    throw errors.badRequest(`failed to create typed patch object (${gvk} ${name}): ${problem}`);
  }
  return applied;
}

/**
 * The live ownership. An object nobody tracks yet (stored before tracking, or reset) first
 * gets its existing fields attributed to "before-first-apply", so the applier cannot prune them.
 */
function managedStateForApply(params: ApplyParams, liveBody: JsonMap, context: OwnershipContext): ManagedState {
  const state = stateOrEmpty(params.live);
  if (params.live === undefined || state.managers.size > 0) return state;
  const id = managerId({ manager: 'before-first-apply', operation: 'Update', apiVersion: params.apiVersion });
  const recorded = recordChanges({}, liveBody, state.managers, id, context);
  const managers = stripServerMaintainedFields(recorded.managers);
  return { managers, times: managers.has(id) ? new Map([[id, params.now]]) : new Map() };
}

function forgiveConflicts(conflicts: ReadonlyMap<string, FieldSet>, forgiven: FieldSet): Map<string, FieldSet> {
  const remaining = new Map<string, FieldSet>();
  for (const [id, set] of conflicts) {
    const left = set.difference(forgiven);
    if (!left.isEmpty()) remaining.set(id, left);
  }
  return remaining;
}

function stateOrEmpty(object: KubeObject | undefined): ManagedState {
  try {
    return readManagedFieldsOf(object).state;
  } catch (error) {
    if (error instanceof ManagedFieldsError) return emptyManagedState();
    throw error;
  }
}

/** The object's managedFields read; from their text when they are still the stored bytes. */
function readManagedFieldsOf(object: KubeObject | undefined): ManagedFieldsReading {
  if (!isPlainObject(object?.metadata)) return readManagedFields(undefined);
  const text = lazyJsonText(object.metadata, 'managedFields');
  return text !== undefined ? readManagedFieldsJson(text) : readManagedFields(object.metadata.managedFields);
}

/** The object as ownership sees it: managedFields are bookkeeping, not content. */
function bodyOf(object: KubeObject | undefined): JsonMap {
  if (object === undefined) return {};
  if (!isPlainObject(object.metadata) || !('managedFields' in object.metadata)) return object;
  // Without reading them: stored managedFields are parsed only when someone needs them.
  return { ...object, metadata: withoutMember(object.metadata, 'managedFields') };
}

const defaultResetFields: Record<string, readonly string[]> = { '': ['status'], status: ['spec'] };

/** One set per list of reset fields: the same set every write, which compare's memo keys on. */
const resetFieldSets = new MemoTable<string, FieldSet>(64);

function ownershipContext(scope: WriteScope): OwnershipContext {
  const paths = scope.resetFields ?? defaultResetFields[scope.subresource ?? ''] ?? [];
  const key = JSON.stringify(paths);
  let ignored = resetFieldSets.get(key);
  if (ignored === undefined) {
    ignored = FieldSet.of(...paths.map((path) => path.split('.').map(fieldElement)));
    resetFieldSets.set(key, ignored);
  }
  return { schema: scope.schema, apiVersion: scope.apiVersion, ignored };
}

/** `object` with metadata.managedFields set to `entries`, or without it when there are none. */
export function withManagedFields(object: KubeObject, entries: readonly ManagedFieldsEntry[]): KubeObject {
  const { managedFields: _previous, ...metadata } = isPlainObject(object.metadata) ? object.metadata : {};
  return { ...object, metadata: entries.length > 0 ? { ...metadata, managedFields: [...entries] } : metadata };
}

const fieldManagerMaxLength = 128;

/**
 * The manager a write is recorded under: the fieldManager query parameter, else the User-Agent
 * up to its first "/" (kubectl sends "kubectl-edit/v1.32…", "kubectl-client-side-apply/…"),
 * without unprintable characters and at most 128 bytes, as upstream derives it.
 */
export function fieldManagerName(fieldManager: string | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  const prefix = (userAgent ?? '').split('/')[0] ?? '';
  let name = '';
  for (const char of prefix) {
    if (/\p{C}/u.test(char)) continue;
    if (Buffer.byteLength(name + char) > fieldManagerMaxLength) break;
    name += char;
  }
  return name;
}
