/**
 * The compact resident form of a stored object: its parsed form without the parsed
 * `metadata.managedFields`, which is read back from the stored bytes whenever someone reads it.
 *
 * managedFields are a third or more of a typical object's JSON and, parsed, most of its heap
 * (a pod's 2.9 KB of fieldsV1 become ~8 KB of small objects), yet only writes (field ownership,
 * apply) and clients (through the bytes) read them. Keeping them as a slice of the bytes already
 * resident makes each live version cost its bytes plus a much smaller object graph.
 *
 * Fidelity: the property stays where it was, enumerable, so JSON.stringify, structuredClone,
 * spreads and key order see exactly what they saw before; a read returns a fresh array equal to
 * the stored one (nobody may change a stored object); an assignment replaces the accessor with
 * the value, as for any property.
 */
import { defineLazyJsonMember, isPlainObject, lazyJsonText, type KubeObject } from '../api/object.js';
import { memberOf } from './json-scan.js';
import { jsonByteAt, jsonSlices, jsonText, type ResidentJson } from './shared-pieces.js';

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

const KEY = '"managedFields":';
const KEY_BYTES = Buffer.byteLength(KEY);

/** Byte offsets in the stored JSON: the metadata object, and the managedFields member in it. */
export interface MetadataSpan {
  metadataStart: number;
  metadataEnd: number;
  /** The `"managedFields":[…]` member, or -1 when there is none. */
  managedFieldsStart: number;
  managedFieldsEnd: number;
}

const METADATA_NAME = Buffer.from('"metadata"');
const MANAGED_FIELDS_NAME = Buffer.from('"managedFields"');

/**
 * Turns `object.metadata.managedFields` into a reader of `json`, the object's serialized bytes,
 * and says where the metadata lies in those bytes (so partial metadata is a splice of them).
 */
export function compactManagedFields(object: KubeObject, json: Buffer): MetadataSpan | undefined {
  const span = metadataSpanOf(json);
  if (span) readManagedFields(object, json, span);
  return span;
}

/**
 * Where the metadata and its managedFields member lie in `json`, an object's serialized bytes:
 * a scan of the bytes' structure (what was parsed from them, or serialized into them, is there).
 */
export function metadataSpanOf(json: Buffer): MetadataSpan | undefined {
  const metadata = memberOf(json, 0, METADATA_NAME);
  if (!metadata || json[metadata.valueStart] !== OPEN_OBJECT) return undefined;
  const span: MetadataSpan = { metadataStart: metadata.valueStart, metadataEnd: metadata.valueEnd, managedFieldsStart: -1, managedFieldsEnd: -1 };
  const managedFields = memberOf(json, metadata.valueStart, MANAGED_FIELDS_NAME);
  // Read back as a list, and only where the value follows the name's colon directly (KEY_BYTES on).
  if (!managedFields || json[managedFields.valueStart] !== OPEN_ARRAY || json[managedFields.valueStart + 1] === CLOSE_ARRAY) return span;
  if (managedFields.valueStart !== managedFields.nameStart + KEY_BYTES) return span;
  span.managedFieldsStart = managedFields.nameStart;
  span.managedFieldsEnd = managedFields.valueEnd;
  return span;
}

/** After serializeCompact: `object`'s managedFields become a reader of the bytes the store keeps. */
export function readManagedFields(object: KubeObject, resident: ResidentJson, span: MetadataSpan): void {
  if (span.managedFieldsStart < 0) return;
  readManagedFieldsFrom(object.metadata as Record<string, unknown>, resident, span.managedFieldsStart + KEY_BYTES, span.managedFieldsEnd);
}

/**
 * The accessor over resident[from, to). In a function of its own: a closure keeps its whole scope
 * alive, and the callers' scopes hold the serialized text in pieces.
 */
function readManagedFieldsFrom(metadata: Record<string, unknown>, resident: ResidentJson, from: number, to: number): void {
  defineLazyJsonMember(metadata, 'managedFields', () => jsonText(resident, from, to));
}

/**
 * JSON.stringify(object), byte for byte, written member by member so that the metadata's place
 * is known without searching the bytes afterwards (readManagedFields then turns the object's
 * managedFields into a reader of the bytes kept). A managedFields member that is already lazy is
 * copied as its text, never parsed. Objects JSON.stringify would treat specially (toJSON) go
 * the plain way.
 */
export function serializeCompact(object: KubeObject): { json: Buffer; span?: MetadataSpan } {
  const metadata = object.metadata as unknown;
  if (!isPlainObject(metadata) || typeof (object as { toJSON?: unknown }).toJSON === 'function' || typeof metadata.toJSON === 'function') {
    const json = Buffer.from(JSON.stringify(object));
    return { json, span: metadataSpanOf(json) };
  }
  const pieces: string[] = ['{'];
  let bytes = 1;
  const emit = (piece: string) => {
    pieces.push(piece);
    bytes += Buffer.byteLength(piece);
  };
  let metadataStart = -1;
  let metadataEnd = -1;
  let managedFieldsStart = -1;
  let managedFieldsEnd = -1;
  let first = true;
  for (const key of Object.keys(object)) {
    if (key !== 'metadata') {
      const value = JSON.stringify(object[key]);
      if (value === undefined) continue;
      emit(`${first ? '' : ','}${JSON.stringify(key)}:${value}`);
      first = false;
      continue;
    }
    emit(`${first ? '' : ','}"metadata":{`);
    first = false;
    metadataStart = bytes - 1;
    let firstMember = true;
    for (const name of Object.keys(metadata)) {
      const lazy = name === 'managedFields' ? lazyJsonText(metadata, name) : undefined;
      const value = lazy ?? JSON.stringify(metadata[name]);
      if (value === undefined) continue;
      const separator = firstMember ? '' : ',';
      firstMember = false;
      const isManagedFields = name === 'managedFields' && (lazy !== undefined || (Array.isArray(metadata[name]) && (metadata[name] as unknown[]).length > 0));
      if (isManagedFields) {
        emit(separator);
        managedFieldsStart = bytes;
        emit(KEY + value);
        managedFieldsEnd = bytes;
      } else emit(`${separator}${JSON.stringify(name)}:${value}`);
    }
    emit('}');
    metadataEnd = bytes;
  }
  emit('}');
  const json = Buffer.from(pieces.join(''));
  return { json, span: { metadataStart, metadataEnd, managedFieldsStart, managedFieldsEnd } };
}

/** The metadata JSON without its managedFields member, cut from the stored bytes. */
export function metadataWithoutManagedFields(json: ResidentJson, span: MetadataSpan): string {
  return Buffer.concat(metadataWithoutManagedFieldsPieces(json, span)).toString('utf8');
}

/** The same as views of the stored bytes, for responses assembled from pieces. */
export function metadataWithoutManagedFieldsPieces(json: ResidentJson, span: MetadataSpan): Buffer[] {
  if (span.managedFieldsStart < 0) return jsonSlices(json, span.metadataStart, span.metadataEnd);
  // Drop the member and one comma beside it: the one after it, or, when it is last, the one before.
  const commaAfter = jsonByteAt(json, span.managedFieldsEnd) === 0x2c;
  const cutFrom = commaAfter ? span.managedFieldsStart : span.managedFieldsStart - (jsonByteAt(json, span.managedFieldsStart - 1) === 0x2c ? 1 : 0);
  const cutTo = commaAfter ? span.managedFieldsEnd + 1 : span.managedFieldsEnd;
  return [...jsonSlices(json, span.metadataStart, cutFrom), ...jsonSlices(json, cutTo, span.metadataEnd)];
}
