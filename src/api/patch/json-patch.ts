/**
 * RFC 6902 JSON Patch (application/json-patch+json), with RFC 6901 JSON Pointers.
 *
 * The patch is applied to a deep copy, so the input is never changed and a failing operation
 * leaves nothing half-applied. Failure messages keep the wording of the library the apiserver
 * uses (evanphx/json-patch v4), so they read like upstream's, and add the operation's index.
 *
 * Where that library departs from the RFC this follows the RFC: no negative array indices, no
 * pointers without a leading "/", no "copy" from a missing member (it yielded null), "value" is
 * required, "add" at the empty pointer replaces the document, and a value cannot be moved into its
 * own child. Kept from upstream: a "test" of an absent object member against null succeeds.
 */

import { deepCopy, isPlainObject, jsonEqual, type JsonMap } from '../object.js';
import { guardNesting, inapplicablePatch, malformedPatch, PatchError } from './errors.js';
import { getMember, hasMember, jsonKind, setMember } from './json-values.js';

/** Upstream's limit (maxJSONPatchOperations in endpoints/handlers/patch.go). */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

type OperationName = 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';

interface Operation {
  readonly op: OperationName;
  readonly path: string;
  readonly from: string;
  readonly value: unknown;
}

/** A failure inside one operation; turned into a PatchError naming the operation's index. */
class OperationFailure extends Error {}

export function applyJsonPatch(document: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) {
    throw malformedPatch(`a JSON patch must be an array of operations, got ${jsonKind(patch)}`);
  }
  if (patch.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new PatchError(
      'RequestEntityTooLarge',
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`,
    );
  }
  patch.forEach((operation, index) => {
    if (!isPlainObject(operation)) {
      throw malformedPatch(`json patch operation ${index} must be an object, got ${jsonKind(operation)}`);
    }
  });

  return guardNesting(() => {
    let result = deepCopy(document);
    patch.forEach((raw: JsonMap, index) => {
      try {
        result = applyOperation(result, readOperation(raw));
      } catch (error) {
        if (error instanceof OperationFailure) {
          throw inapplicablePatch(`${error.message} (json patch operation ${index})`);
        }
        throw error;
      }
    });
    return result;
  });
}

function readOperation(raw: JsonMap): Operation {
  const op = getMember(raw, 'op');
  if (!isOperationName(op)) throw new OperationFailure(`Unexpected kind: ${typeof op === 'string' ? op : 'unknown'}`);
  const path = getMember(raw, 'path');
  if (typeof path !== 'string') throw new OperationFailure(`${op} operation failed to decode path: missing value`);
  const from = getMember(raw, 'from');
  const needsFrom = op === 'move' || op === 'copy';
  if (needsFrom && typeof from !== 'string') {
    throw new OperationFailure(`${op} operation failed to decode from: missing value`);
  }
  const needsValue = op === 'add' || op === 'replace' || op === 'test';
  if (needsValue && !hasMember(raw, 'value')) {
    throw new OperationFailure(`${op} operation, missing value field: missing value`);
  }
  return { op, path, from: needsFrom ? (from as string) : '', value: getMember(raw, 'value') };
}

function isOperationName(value: unknown): value is OperationName {
  return ['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(value as string);
}

/** Applies one operation; returns the (possibly new) document root. */
function applyOperation(root: unknown, operation: Operation): unknown {
  const { op, path, from, value } = operation;
  switch (op) {
    case 'add':
      return addValue(root, path, deepCopy(value), `add operation does not apply: doc is missing path: "${path}"`);
    case 'remove':
      removeValue(root, path, `remove operation does not apply: doc is missing path: "${path}"`);
      return root;
    case 'replace':
      return replaceValue(root, path, deepCopy(value));
    case 'move':
      return moveValue(root, from, path);
    case 'copy': {
      const copied = readValue(root, from, `copy operation does not apply: doc is missing from path: ${from}`);
      const missing = `copy operation does not apply: doc is missing destination path: ${path}`;
      return addValue(root, path, deepCopy(copied), missing);
    }
    case 'test':
      testValue(root, path, value);
      return root;
  }
}

/** A pointer resolved up to its last token: the container to act on and the key within it. */
interface Location {
  readonly container: JsonMap | unknown[];
  readonly key: string;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) {
    throw new OperationFailure(`invalid JSON pointer "${pointer}": it must be empty or start with "/"`);
  }
  return pointer
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~[^01]|~$/.test(token)) {
        throw new OperationFailure(`invalid JSON pointer "${pointer}": "~" must be followed by 0 or 1`);
      }
      return token.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

/** Array index tokens per RFC 6901: no sign, no leading zeros. */
function parseIndex(token: string): number | undefined {
  return /^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : undefined;
}

function child(value: unknown, token: string): { found: boolean; value?: unknown } {
  if (Array.isArray(value)) {
    const index = parseIndex(token);
    return index !== undefined && index < value.length ? { found: true, value: value[index] } : { found: false };
  }
  if (isPlainObject(value) && hasMember(value, token)) return { found: true, value: getMember(value, token) };
  return { found: false };
}

/** Resolves all tokens but the last; `missing` is the failure message when that is impossible. */
function locate(root: unknown, tokens: string[], missing: string): Location {
  let current = root;
  for (const token of tokens.slice(0, -1)) {
    const next = child(current, token);
    if (!next.found) throw new OperationFailure(`${missing}: missing value`);
    current = next.value;
  }
  if (!Array.isArray(current) && !isPlainObject(current)) throw new OperationFailure(`${missing}: missing value`);
  return { container: current, key: tokens[tokens.length - 1] };
}

function invalidIndex(verb: string, path: string, key: string): OperationFailure {
  return new OperationFailure(
    `error in ${verb} for path: '${path}': Unable to access invalid index: ${key}: invalid index referenced`,
  );
}

function readValue(root: unknown, path: string, missing: string): unknown {
  let current = root;
  for (const token of parsePointer(path)) {
    const next = child(current, token);
    if (!next.found) throw new OperationFailure(`${missing}: missing value`);
    current = next.value;
  }
  return current;
}

function addValue(root: unknown, path: string, value: unknown, missing: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const { container, key } = locate(root, tokens, missing);
  if (Array.isArray(container)) {
    const index = key === '-' ? container.length : parseIndex(key);
    if (index === undefined || index > container.length) throw invalidIndex('add', path, key);
    container.splice(index, 0, value);
  } else {
    setMember(container, key, value);
  }
  return root;
}

function removeValue(root: unknown, path: string, missing: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw new OperationFailure(`${missing}: missing value`);
  const { container, key } = locate(root, tokens, missing);
  if (Array.isArray(container)) {
    const index = parseIndex(key);
    if (index === undefined || index >= container.length) throw invalidIndex('remove', path, key);
    return container.splice(index, 1)[0];
  }
  if (!hasMember(container, key)) {
    throw new OperationFailure(
      `error in remove for path: '${path}': Unable to remove nonexistent key: ${key}: missing value`,
    );
  }
  const removed = getMember(container, key);
  delete container[key];
  return removed;
}

function replaceValue(root: unknown, path: string, value: unknown): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const { container, key } = locate(root, tokens, `replace operation does not apply: doc is missing path: ${path}`);
  if (!child(container, key).found) {
    throw new OperationFailure(`replace operation does not apply: doc is missing key: ${path}: missing value`);
  }
  if (Array.isArray(container)) container[Number(key)] = value;
  else setMember(container, key, value);
  return root;
}

function moveValue(root: unknown, from: string, path: string): unknown {
  const fromTokens = parsePointer(from);
  const pathTokens = parsePointer(path);
  const intoOwnChild =
    pathTokens.length > fromTokens.length && fromTokens.every((token, i) => token === pathTokens[i]);
  if (intoOwnChild) {
    throw new OperationFailure(`move operation does not apply: "${from}" cannot be moved into its own child "${path}"`);
  }
  if (from === path) {
    readValue(root, from, `move operation does not apply: doc is missing from path: ${from}`);
    return root;
  }
  const moved = removeValue(root, from, `move operation does not apply: doc is missing from path: ${from}`);
  return addValue(root, path, moved, `move operation does not apply: doc is missing destination path: ${path}`);
}

function testValue(root: unknown, path: string, expected: unknown): void {
  const tokens = parsePointer(path);
  let actual: unknown = root;
  if (tokens.length > 0) {
    const { container, key } = locate(root, tokens, `test operation does not apply: is missing path: ${path}`);
    const member = child(container, key);
    if (!member.found && Array.isArray(container)) {
      throw invalidIndex('test', path, key);
    }
    // An absent object member compares equal to null, as in upstream's library.
    actual = member.found ? member.value : null;
  }
  if (!jsonEqual(actual, expected)) throw new OperationFailure(`testing value ${path} failed: test failed`);
}
