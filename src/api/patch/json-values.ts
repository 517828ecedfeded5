/**
 * Helpers for JSON values that came from a client.
 *
 * Member access is own-property only: JSON.parse creates "__proto__" as an ordinary own key;
 * plain `obj[key] = v` would instead replace the prototype, and plain reads would see inherited
 * members. The patch engines read and write members through these helpers only.
 */

import type { JsonMap } from '../object.js';

export function hasMember(object: JsonMap, key: string): boolean {
  return Object.hasOwn(object, key);
}

export function getMember(object: JsonMap, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

export function setMember(object: JsonMap, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    object[key] = value;
  }
}

/** A short name for a JSON value's type, for error messages. */
export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}
