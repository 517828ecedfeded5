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
import type { KubeObject } from '../api/object.js';

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
  Object.defineProperty(metadata, 'managedFields', {
    configurable: true,
    enumerable: true,
    get: () => JSON.parse(json.toString('utf8', from, to)) as unknown[],
    set(value: unknown) {
      Object.defineProperty(metadata, 'managedFields', { value, writable: true, enumerable: true, configurable: true });
    },
  });
  return span;
}

/** The metadata JSON without its managedFields member, cut from the stored bytes. */
export function metadataWithoutManagedFields(json: Buffer, span: MetadataSpan): string {
  if (span.managedFieldsStart < 0) return json.toString('utf8', span.metadataStart, span.metadataEnd);
  // Drop the member and one comma beside it: the one after it, or, when it is last, the one before.
  const commaAfter = json[span.managedFieldsEnd] === 0x2c;
  const cutFrom = commaAfter ? span.managedFieldsStart : span.managedFieldsStart - (json[span.managedFieldsStart - 1] === 0x2c ? 1 : 0);
  const cutTo = commaAfter ? span.managedFieldsEnd + 1 : span.managedFieldsEnd;
  return json.toString('utf8', span.metadataStart, cutFrom) + json.toString('utf8', cutTo, span.metadataEnd);
}
