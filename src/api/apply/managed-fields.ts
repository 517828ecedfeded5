/**
 * metadata.managedFields <-> the ownership model. An entry is identified, as upstream does, by
 * its manager, operation, subresource and, for Update entries only, apiVersion: an applier keeps
 * one entry whatever version it applies with, an updater gets one per version it writes.
 */

import { isPlainObject } from '../object.js';
import { FieldSet, FieldsV1Error } from './field-set.js';
import { fieldElement } from './path-element.js';
import type { ManagerFields, Managers } from './updater.js';

export type ManagedFieldsOperation = 'Apply' | 'Update';

export interface ManagedFieldsEntry {
  manager?: string;
  operation: ManagedFieldsOperation;
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface ManagerIdentity {
  readonly manager: string;
  readonly operation: ManagedFieldsOperation;
  /** Part of the identity of Update entries only. */
  readonly apiVersion?: string;
  readonly subresource?: string;
}

/** Ownership as decoded from managedFields: field sets and last-change times by manager id. */
export interface ManagedState {
  readonly managers: Map<string, ManagerFields>;
  readonly times: Map<string, string>;
}

export class ManagedFieldsError extends Error {}

/** The manager key: the JSON of the identifying fields in Go's field order, as upstream builds it. */
export function managerId(identity: ManagerIdentity): string {
  const ordered: Record<string, string> = {};
  if (identity.manager) ordered.manager = identity.manager;
  ordered.operation = identity.operation;
  if (identity.operation === 'Update' && identity.apiVersion) ordered.apiVersion = identity.apiVersion;
  if (identity.subresource) ordered.subresource = identity.subresource;
  return JSON.stringify(ordered);
}

export function identityOf(id: string): ManagerIdentity {
  return JSON.parse(id) as ManagerIdentity;
}

export function emptyManagedState(): ManagedState {
  return { managers: new Map(), times: new Map() };
}

/** Reads managedFields, rejecting what upstream's decoder rejects. */
export function decodeManagedFields(entries: unknown): ManagedState {
  const state = emptyManagedState();
  if (entries === undefined || entries === null) return state;
  if (!Array.isArray(entries)) throw new ManagedFieldsError('managedFields must be a list');
  for (const [index, entry] of entries.entries()) {
    if (!isPlainObject(entry)) throw new ManagedFieldsError(`managed fields entry ${index} must be an object`);
    const { manager, operation, apiVersion, time, fieldsType, fieldsV1, subresource } = entry;
    if (operation !== 'Apply' && operation !== 'Update') throw new ManagedFieldsError('operation must be `Apply` or `Update`');
    if (typeof apiVersion !== 'string' || apiVersion === '') throw new ManagedFieldsError('apiVersion must not be empty');
    if (fieldsType === undefined || fieldsType === '') throw new ManagedFieldsError(`missing fieldsType in managed fields entry ${index}`);
    if (fieldsType !== 'FieldsV1') throw new ManagedFieldsError(`invalid fieldsType ${JSON.stringify(fieldsType)} in managed fields entry ${index}`);
    if (manager !== undefined && typeof manager !== 'string') throw new ManagedFieldsError(`manager must be a string in managed fields entry ${index}`);
    if (subresource !== undefined && typeof subresource !== 'string') throw new ManagedFieldsError(`subresource must be a string in managed fields entry ${index}`);
    let set: FieldSet;
    try {
      set = fieldsV1 === undefined ? new FieldSet() : FieldSet.fromFieldsV1(fieldsV1);
    } catch (error) {
      if (error instanceof FieldsV1Error) throw new ManagedFieldsError(`error decoding managed fields entry ${index}: ${error.message}`);
      throw error;
    }
    const id = managerId({ manager: manager ?? '', operation, apiVersion, subresource: subresource ?? '' });
    state.managers.set(id, { set, apiVersion, applied: operation === 'Apply' });
    if (typeof time === 'string') state.times.set(id, time);
    else state.times.delete(id);
  }
  return state;
}

/** upstream's "reset" request: an explicit empty list, or a list holding one empty entry. */
export function isManagedFieldsReset(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  return entries.length === 1 && isPlainObject(entries[0]) && Object.keys(entries[0]).length === 0;
}

/** Entries sorted as upstream: Apply before Update, then oldest first, then by name. */
export function encodeManagedFields(state: ManagedState): ManagedFieldsEntry[] {
  const entries: ManagedFieldsEntry[] = [];
  for (const [id, fields] of state.managers) {
    const identity = identityOf(id);
    const entry: ManagedFieldsEntry = {
      ...(identity.manager ? { manager: identity.manager } : {}),
      operation: identity.operation,
      apiVersion: fields.apiVersion,
      ...(state.times.has(id) ? { time: state.times.get(id) } : {}),
      fieldsType: 'FieldsV1',
      fieldsV1: fields.set.toFieldsV1(),
      ...(identity.subresource ? { subresource: identity.subresource } : {}),
    };
    entries.push(entry);
  }
  return entries.sort(compareEntries);
}

function compareEntries(p: ManagedFieldsEntry, q: ManagedFieldsEntry): number {
  return (
    compareText(p.operation, q.operation) ||
    secondsOf(p.time) - secondsOf(q.time) ||
    compareText(p.manager ?? '', q.manager ?? '') ||
    compareText(p.apiVersion, q.apiVersion) ||
    compareText(p.subresource ?? '', q.subresource ?? '')
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function secondsOf(time: string | undefined): number {
  const millis = time === undefined ? NaN : Date.parse(time);
  return Number.isNaN(millis) ? 0 : Math.floor(millis / 1000);
}

/** Fields nobody owns, whatever they send: identity and bookkeeping the server maintains. */
const serverMaintainedFields = FieldSet.of(
  [fieldElement('apiVersion')],
  [fieldElement('kind')],
  [fieldElement('metadata')],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map(
    (name) => [fieldElement('metadata'), fieldElement(name)],
  ),
);

export function withoutServerMaintainedFields(set: FieldSet): FieldSet {
  return set.difference(serverMaintainedFields);
}

/** Drops server-maintained fields from every manager (upstream's stripMetaManager). */
export function stripServerMaintainedFields(managers: Managers): Map<string, ManagerFields> {
  const result = new Map<string, ManagerFields>();
  for (const [id, fields] of managers) {
    const set = withoutServerMaintainedFields(fields.set);
    if (!set.isEmpty()) result.set(id, { ...fields, set });
  }
  return result;
}

const maxUpdateManagers = 10;
const ancientChangesManager = 'ancient-changes';

/**
 * Keeps at most ten Update entries: the oldest are folded, per apiVersion, into one
 * "ancient-changes" entry (upstream's capManagersManager).
 */
export function capUpdateManagers(state: ManagedState): ManagedState {
  const managers = new Map(state.managers);
  const times = new Map(state.times);
  const updaters = [...managers].filter(([, fields]) => !fields.applied).map(([id]) => id);
  if (updaters.length <= maxUpdateManagers) return state;
  updaters.sort((a, b) => secondsOf(times.get(a)) - secondsOf(times.get(b)) || compareText(a, b));

  const firstOfVersion = new Map<string, string>();
  let remaining = updaters.length;
  for (const id of updaters) {
    if (remaining <= maxUpdateManagers) break;
    const fields = managers.get(id) as ManagerFields;
    const version = fields.apiVersion;
    const bucket = managerId({ manager: ancientChangesManager, operation: 'Update', apiVersion: version });
    const first = firstOfVersion.get(version);
    // An existing bucket absorbs later entries; it never merges into itself.
    if (id === bucket && first !== undefined) continue;
    if (first === undefined) {
      firstOfVersion.set(version, id);
      continue;
    }
    if (!managers.has(bucket)) {
      managers.set(bucket, managers.get(first) as ManagerFields);
      managers.delete(first);
    }
    const bucketFields = managers.get(bucket) as ManagerFields;
    managers.set(bucket, { set: fields.set.union(bucketFields.set), apiVersion: version, applied: false });
    managers.delete(id);
    const time = times.get(id);
    if (time === undefined) times.delete(bucket);
    else times.set(bucket, time);
    remaining--;
  }
  return { managers, times };
}
