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

/** Turns `object.metadata.managedFields` into a reader of `json`, the object's serialized bytes. */
export function compactManagedFields(object: KubeObject, json: Buffer): void {
  const metadata = object.metadata as Record<string, unknown> | undefined;
  if (!metadata || typeof metadata !== 'object') return;
  const descriptor = Object.getOwnPropertyDescriptor(metadata, 'managedFields');
  if (!descriptor || !('value' in descriptor) || !Array.isArray(descriptor.value) || descriptor.value.length === 0) return;
  const text = JSON.stringify(descriptor.value);
  // Any occurrence of exactly this text is exactly this value; normally it is the only one.
  const start = json.indexOf(KEY + text);
  if (start < 0) return;
  const from = start + KEY_BYTES;
  const to = from + Buffer.byteLength(text);
  Object.defineProperty(metadata, 'managedFields', {
    configurable: true,
    enumerable: true,
    get: () => JSON.parse(json.toString('utf8', from, to)) as unknown[],
    set(value: unknown) {
      Object.defineProperty(metadata, 'managedFields', { value, writable: true, enumerable: true, configurable: true });
    },
  });
}
