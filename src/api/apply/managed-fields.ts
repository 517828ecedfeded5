/**
 * metadata.managedFields <-> the ownership model. An entry is identified, as upstream does, by
 * its manager, operation, subresource and, for Update entries only, apiVersion: an applier keeps
 * one entry whatever version it applies with, an updater gets one per version it writes.
 */

import { isPlainObject } from '../object.js';
import { FieldSet, FieldsV1Error } from './field-set.js';
import { MemoTable } from './memo-table.js';
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
  return decodeEntries(entries, false);
}

/**
 * `parsedFromJson`: `entries` is what JSON.parse made, so each fieldsV1 is exactly described by
 * its JSON text, which keys the decoded sets (any other value, e.g. one holding an undefined or
 * a Date, is decoded without the table).
 */
function decodeEntries(entries: unknown, parsedFromJson: boolean): ManagedState {
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
      set = fieldsV1 === undefined ? new FieldSet() : parsedFromJson ? fieldSetOfJson(fieldsV1) : FieldSet.fromFieldsV1(fieldsV1);
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

/** Decoded fieldsV1 by their JSON text: the entries of pods of one template differ in times only. */
const decodedFieldSets = new MemoTable<string, FieldSet>(512);

function fieldSetOfJson(fieldsV1: unknown): FieldSet {
  const text = JSON.stringify(fieldsV1);
  let set = decodedFieldSets.get(text);
  if (set === undefined) {
    set = FieldSet.fromFieldsV1(fieldsV1);
    decodedFieldSets.set(text, set);
  }
  return set;
}

/** What a write reads from metadata.managedFields: a reset request, or the ownership they hold. */
export interface ManagedFieldsReading {
  /** upstream's "reset" request (isManagedFieldsReset); `state` is then empty. */
  readonly reset: boolean;
  readonly state: ManagedState;
}

/** Reads managedFields as a write sees them; throws ManagedFieldsError as decodeManagedFields. */
export function readManagedFields(entries: unknown): ManagedFieldsReading {
  return readEntries(entries, false);
}

function readEntries(entries: unknown, parsedFromJson: boolean): ManagedFieldsReading {
  return isManagedFieldsReset(entries) ? { reset: true, state: emptyManagedState() } : { reset: false, state: decodeEntries(entries, parsedFromJson) };
}

/** Readings by the managedFields' JSON text (stored objects keep it: see compact-object.ts). */
const readings = new MemoTable<string, ManagedFieldsReading>(256);

/** readManagedFields(JSON.parse(text)), without parsing a text read before. */
export function readManagedFieldsJson(text: string): ManagedFieldsReading {
  let reading = readings.get(text);
  if (reading === undefined) {
    reading = readEntries(JSON.parse(text) as unknown, true);
    readings.set(text, reading);
  }
  // The maps are the caller's to build on; the field sets and entries are values.
  return { reset: reading.reset, state: { managers: new Map(reading.state.managers), times: new Map(reading.state.times) } };
}

/** upstream's "reset" request: an explicit empty list, or a list holding one empty entry. */
export function isManagedFieldsReset(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  return entries.length === 1 && isPlainObject(entries[0]) && Object.keys(entries[0]).length === 0;
}

/** Entries sorted as upstream: Apply before Update, then oldest first, then by name. */
export function encodeManagedFields(state: ManagedState): ManagedFieldsEntry[] {
  return sortedEntries(state).map(({ head, fields, subresource }) => ({ ...head, fieldsV1: fields.set.toFieldsV1(), ...(subresource ? { subresource } : {}) }));
}

/**
 * JSON.stringify(encodeManagedFields(state)), byte for byte, written as text: the sets' FieldsV1
 * text is built once per set (FieldSet.toFieldsV1Json) and no entry object is made to be
 * serialized again. Stored as a lazy member, it is parsed only if someone reads it.
 *
 * The text is remembered as the reading of itself: the object's next write (a pod's status
 * after its create) reads exactly these bytes back, and finds this state instead of decoding.
 */
export function encodeManagedFieldsJson(state: ManagedState): string {
  const entries = sortedEntries(state);
  const texts = entries.map(({ head, fields, subresource }) => {
    const rest = `"fieldsV1":${fields.set.toFieldsV1Json()}${subresource ? `,"subresource":${JSON.stringify(subresource)}` : ''}}`;
    return `${JSON.stringify(head).slice(0, -1)},${rest}`;
  });
  const text = `[${texts.join(',')}]`;
  if (entries.every(decodesToItself)) {
    // What decoding the text builds: managers in the text's order, times only where written.
    const managers = new Map(entries.map(({ id, fields }): [string, ManagerFields] => [id, fields]));
    const times = new Map(entries.flatMap(({ id, head }): [string, string][] => (head.time === undefined ? [] : [[id, head.time]])));
    readings.set(text, { reset: false, state: { managers, times } });
  }
  return text;
}

type EntryHead = Omit<ManagedFieldsEntry, 'fieldsV1' | 'subresource'>;

interface SortedEntry {
  readonly id: string;
  /** The entry's members before fieldsV1, in the order they are written. */
  readonly head: EntryHead;
  readonly fields: ManagerFields;
  readonly subresource?: string;
  /** The time's whole seconds, what entries sort by. */
  readonly seconds: number;
}

/** Manager ids parsed: the same few managers write every object. */
const identities = new MemoTable<string, Readonly<ManagerIdentity>>(1024);

function sortedEntries(state: ManagedState): SortedEntry[] {
  const entries: SortedEntry[] = [];
  for (const [id, fields] of state.managers) {
    let identity = identities.get(id);
    if (identity === undefined) {
      identity = Object.freeze(identityOf(id));
      identities.set(id, identity);
    }
    // Member by member, in the order the entry is written.
    const head = {} as EntryHead;
    if (identity.manager) head.manager = identity.manager;
    head.operation = identity.operation;
    head.apiVersion = fields.apiVersion;
    if (state.times.has(id)) head.time = state.times.get(id);
    head.fieldsType = 'FieldsV1';
    entries.push({ id, head, fields, subresource: identity.subresource, seconds: secondsOf(head.time) });
  }
  return entries.sort(compareEntries);
}

/**
 * Whether decoding this entry's text gives back exactly this id and fields: the decoder accepts
 * it, names it by the same id, and every element of its set survives parsePathElement as it is.
 */
function decodesToItself({ id, head, fields, subresource }: SortedEntry): boolean {
  if (typeof head.apiVersion !== 'string' || head.apiVersion === '' || (head.time !== undefined && typeof head.time !== 'string')) return false;
  if (fields.applied !== (head.operation === 'Apply')) return false;
  if (managerId({ manager: head.manager ?? '', operation: head.operation, apiVersion: head.apiVersion, subresource: subresource ?? '' }) !== id) return false;
  return fields.set.decodesToItself();
}


function compareEntries(p: SortedEntry, q: SortedEntry): number {
  return (
    compareText(p.head.operation, q.head.operation) ||
    p.seconds - q.seconds ||
    compareText(p.head.manager ?? '', q.head.manager ?? '') ||
    compareText(p.head.apiVersion, q.head.apiVersion) ||
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
