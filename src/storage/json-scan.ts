/**
 * Finding things in serialized JSON without parsing it: where a value ends, where an object's
 * member is. The bytes are valid JSON (the store only keeps what it serialized); a scan that
 * meets anything else gives up (-1, undefined) rather than guess.
 */

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;

/** The offset just past the JSON object or array opening at `start`, or -1 when it does not close. */
export function endOfContainer(json: Buffer, start: number): number {
  let depth = 0;
  for (let i = start; i < json.length; i++) {
    const byte = json[i];
    if (byte === QUOTE) {
      const end = endOfString(json, i);
      if (end < 0) return -1;
      i = end - 1;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) depth++;
    else if ((byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) && --depth === 0) return i + 1;
  }
  return -1;
}

/** Where a member lies: its quoted name, and its value. */
export interface MemberSpan {
  nameStart: number;
  valueStart: number;
  valueEnd: number;
}

/**
 * The member of the object opening at `objectStart` whose quoted name is `quotedName` (e.g.
 * `"metadata"`, as bytes), at that object's own level; undefined when it has none.
 */
export function memberOf(json: Buffer, objectStart: number, quotedName: Buffer): MemberSpan | undefined {
  if (json[objectStart] !== OPEN_OBJECT) return undefined;
  let i = skipSpace(json, objectStart + 1);
  while (json[i] === QUOTE) {
    const nameStart = i;
    i = endOfString(json, i);
    if (i < 0) return undefined;
    const named = i - nameStart === quotedName.length && json.compare(quotedName, 0, quotedName.length, nameStart, i) === 0;
    i = skipSpace(json, i);
    if (json[i] !== COLON) return undefined;
    const valueStart = skipSpace(json, i + 1);
    const valueEnd = endOfValue(json, valueStart);
    if (valueEnd < 0) return undefined;
    if (named) return { nameStart, valueStart, valueEnd };
    i = skipSpace(json, valueEnd);
    if (json[i] !== COMMA) return undefined;
    i = skipSpace(json, i + 1);
  }
  return undefined;
}

/** The offset just past the string opening at `start` (its closing quote), or -1. */
function endOfString(json: Buffer, start: number): number {
  for (let i = start + 1; i < json.length; i++) {
    const byte = json[i];
    if (byte === BACKSLASH) i++;
    else if (byte === QUOTE) return i + 1;
  }
  return -1;
}

/** The offset just past any JSON value starting at `start`, or -1. */
function endOfValue(json: Buffer, start: number): number {
  const byte = json[start];
  if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) return endOfContainer(json, start);
  if (byte === QUOTE) return endOfString(json, start);
  // A number, true, false or null: up to the next delimiter.
  let i = start;
  while (i < json.length && json[i] !== COMMA && json[i] !== CLOSE_OBJECT && json[i] !== CLOSE_ARRAY && !isSpace(json[i])) i++;
  return i > start ? i : -1;
}

function skipSpace(json: Buffer, from: number): number {
  let i = from;
  while (i < json.length && isSpace(json[i])) i++;
  return i;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}
