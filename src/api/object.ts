/** The shape every stored Kubernetes object shares; everything else is kind-specific. */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [extra: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export type JsonMap = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a dotted path such as "spec.nodeName" or "metadata.labels.app". */
export function getPath(object: unknown, path: string): unknown {
  let current: unknown = object;
  for (const part of path.split('.')) {
    if (!isPlainObject(current)) return undefined;
    current = current[part];
  }
  return current;
}

/** Deep equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (Array.isArray(b)) return false;
  const aKeys = Object.keys(a as JsonMap).filter((k) => (a as JsonMap)[k] !== undefined);
  const bKeys = Object.keys(b as JsonMap).filter((k) => (b as JsonMap)[k] !== undefined);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every((k) => jsonEqual((a as JsonMap)[k], (b as JsonMap)[k]));
}

/**
 * A private copy of a JSON value. Plain objects and arrays are copied member by member (several
 * times faster than structuredClone for API objects); anything else (a Date, a Map, a Buffer)
 * is handed to structuredClone. A lazy JSON member (see defineLazyJsonMember) is copied as a lazy
 * member over the same text, so copying an object does not parse what nobody reads.
 */
export function deepCopy<T>(value: T): T {
  return copyValue(value) as T;
}

function copyValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyValue(value[i]);
    return out;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return structuredClone(value);
  const source = value as JsonMap;
  const out: JsonMap = {};
  for (const key of Object.keys(source)) {
    if (lazyKeys.has(key)) {
      const read = lazyReader(source, key);
      if (read) {
        defineLazyJsonMember(out, key, read);
        continue;
      }
    }
    const copied = copyValue(source[key]);
    // JSON.parse makes "__proto__" an ordinary own member; an assignment would set the prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: copied, writable: true, enumerable: true, configurable: true });
    else out[key] = copied;
  }
  return out;
}

/** The text behind each lazy member's getter. */
const lazyText = new WeakMap<() => unknown, () => string>();
/** Names ever used for lazy members: deepCopy looks at the descriptors of these keys only. */
const lazyKeys = new Set<string>();

/**
 * Makes `target[key]` a member parsed from JSON text whenever it is read: it stays enumerable
 * where it was, so JSON.stringify, spreads and key order see an ordinary member; each read
 * returns a fresh value (nobody shares or changes the parsed form); an assignment replaces the
 * accessor with the value. `text` is a string or a function producing it (e.g. a slice of bytes).
 */
export function defineLazyJsonMember(target: JsonMap, key: string, text: string | (() => string)): void {
  const read = typeof text === 'string' ? () => text : text;
  const get = () => JSON.parse(read()) as unknown;
  lazyText.set(get, read);
  lazyKeys.add(key);
  Object.defineProperty(target, key, {
    configurable: true,
    enumerable: true,
    get,
    set(value: unknown) {
      Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
    },
  });
}

/** The JSON text of `target[key]` when it is a lazy member, without parsing it; else undefined. */
export function lazyJsonText(target: object, key: string): string | undefined {
  return lazyReader(target, key)?.();
}

/** Whether `target[key]` is a lazy member (its value is stored text that has not been changed). */
export function isLazyMember(target: object, key: string): boolean {
  return lazyKeys.has(key) && lazyReader(target, key) !== undefined;
}

/** A shallow copy of `object` without `key`, which is not read (a lazy member stays unparsed). */
export function withoutMember<T extends object>(object: T, key: string): T {
  const out: JsonMap = {};
  for (const name of Object.keys(object)) {
    if (name === key) continue;
    const value = (object as JsonMap)[name];
    if (name === '__proto__') Object.defineProperty(out, name, { value, writable: true, enumerable: true, configurable: true });
    else out[name] = value;
  }
  return out as T;
}

function lazyReader(target: object, key: string): (() => string) | undefined {
  const get = Object.getOwnPropertyDescriptor(target, key)?.get;
  return get && lazyText.get(get as () => unknown);
}

let formattedSecond = NaN;
let formatted = '';

/** The current time to the second, as metav1.Time writes it; formatted once per second (every write stamps one). */
export function nowRfc3339(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== formattedSecond) {
    formattedSecond = second;
    formatted = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return formatted;
}
