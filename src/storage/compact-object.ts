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

const METADATA_KEY = '"metadata":';

/**
 * Turns `object.metadata.managedFields` into a reader of `json`, the object's serialized bytes,
 * and says where the metadata lies in those bytes (so partial metadata is a splice of them).
 */
export function compactManagedFields(object: KubeObject, json: Buffer): MetadataSpan | undefined {
  const metadata = object.metadata as Record<string, unknown> | undefined;
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) return undefined;
  const metadataText = JSON.stringify(metadata);
  const metadataAt = json.indexOf(METADATA_KEY + metadataText);
  if (metadataAt < 0) return undefined;
  const metadataStart = metadataAt + METADATA_KEY.length;
  const span: MetadataSpan = { metadataStart, metadataEnd: metadataStart + Buffer.byteLength(metadataText), managedFieldsStart: -1, managedFieldsEnd: -1 };
  const descriptor = Object.getOwnPropertyDescriptor(metadata, 'managedFields');
  if (!descriptor || !('value' in descriptor) || !Array.isArray(descriptor.value) || descriptor.value.length === 0) return span;
  const text = JSON.stringify(descriptor.value);
  // Inside the metadata, exactly this text after this key is this member (string values are escaped).
  const start = json.indexOf(KEY + text, metadataStart);
  if (start < 0 || start >= span.metadataEnd) return span;
  const from = start + KEY_BYTES;
  const to = from + Buffer.byteLength(text);
  span.managedFieldsStart = start;
  span.managedFieldsEnd = to;
  readManagedFieldsFrom(metadata, json, from, to);
  return span;
}

/**
 * The accessor over json[from, to). In a function of its own: a closure keeps its whole scope
 * alive, and the callers' scopes hold the serialized text in pieces.
 */
function readManagedFieldsFrom(metadata: Record<string, unknown>, json: Buffer, from: number, to: number): void {
  defineLazyJsonMember(metadata, 'managedFields', () => json.toString('utf8', from, to));
}

/**
 * JSON.stringify(object), byte for byte, written member by member so that the metadata's place
 * is known without searching the bytes afterwards; then, as compactManagedFields, the object's
 * managedFields become a reader of those bytes. A managedFields member that is already lazy is
 * copied as its text, never parsed. Objects JSON.stringify would treat specially (toJSON) go
 * the plain way.
 */
export function serializeCompact(object: KubeObject): { json: Buffer; span?: MetadataSpan } {
  const metadata = object.metadata as unknown;
  if (!isPlainObject(metadata) || typeof (object as { toJSON?: unknown }).toJSON === 'function' || typeof metadata.toJSON === 'function') {
    const json = Buffer.from(JSON.stringify(object));
    return { json, span: compactManagedFields(object, json) };
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
  const span: MetadataSpan = { metadataStart, metadataEnd, managedFieldsStart, managedFieldsEnd };
  if (managedFieldsStart >= 0) readManagedFieldsFrom(metadata, json, managedFieldsStart + KEY_BYTES, managedFieldsEnd);
  return { json, span };
}

/** The metadata JSON without its managedFields member, cut from the stored bytes. */
export function metadataWithoutManagedFields(json: Buffer, span: MetadataSpan): string {
  return metadataWithoutManagedFieldsPieces(json, span)
    .map((piece) => piece.toString('utf8'))
    .join('');
}

/** The same as views of the stored bytes (one or two), for responses assembled from pieces. */
export function metadataWithoutManagedFieldsPieces(json: Buffer, span: MetadataSpan): Buffer[] {
  if (span.managedFieldsStart < 0) return [json.subarray(span.metadataStart, span.metadataEnd)];
  // Drop the member and one comma beside it: the one after it, or, when it is last, the one before.
  const commaAfter = json[span.managedFieldsEnd] === 0x2c;
  const cutFrom = commaAfter ? span.managedFieldsStart : span.managedFieldsStart - (json[span.managedFieldsStart - 1] === 0x2c ? 1 : 0);
  const cutTo = commaAfter ? span.managedFieldsEnd + 1 : span.managedFieldsEnd;
  return [json.subarray(span.metadataStart, cutFrom), json.subarray(cutTo, span.metadataEnd)];
}
