/** A nested part of an object (a spec, a port, a rule), typed as loosely as the JSON it is. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Fields = Record<string, any>;

function isMap(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The list of objects at `key`: empty when missing or not a list (validation reports that
 * separately); a null or non-object entry reads as an empty object, as Go decodes it.
 */
export function listAt(object: Fields | undefined, key: string): Fields[] {
  const list: unknown = object?.[key];
  return Array.isArray(list) ? list.map((item) => (isMap(item) ? item : {})) : [];
}

/** The list of scalars (strings, mostly) at `key`, or an empty one. */
export function valuesAt(object: Fields | undefined, key: string): unknown[] {
  const list: unknown = object?.[key];
  return Array.isArray(list) ? list : [];
}

/**
 * The map at `key` for defaulting: created empty when absent, undefined when something other than
 * a map is there (validation reports that; defaulting leaves it alone).
 */
export function mapAt(object: Fields, key: string): Fields | undefined {
  if (object[key] === undefined || object[key] === null) object[key] = {};
  const value = object[key];
  return isMap(value) ? value : undefined;
}
