/**
 * Watch fan-out encodes an event once per shape, not once per watcher. The store hands one event
 * to all its watchers in one synchronous loop, so the chunks of the event being delivered are
 * enough to remember: its bytes per shape (event type as this watcher sees it, JSON or Table
 * with which includeObject, column headers or not), shared by every watcher of that shape. The
 * version a watcher is served at is in the stored object itself (a converted version is its own
 * StoredObject). Nothing is kept once the next event comes, so history costs no second copy.
 */
import type { StoredObject } from '../storage/store.js';

let current: StoredObject | undefined;
let chunks = new Map<string, Buffer>();

/** The chunk for `stored` in `shape`, from `encode` the first time it is asked for. */
export function encodedOnce(stored: StoredObject, shape: string, encode: () => string | Buffer): Buffer {
  if (stored !== current) {
    current = stored;
    chunks = new Map();
  }
  let chunk = chunks.get(shape);
  if (!chunk) {
    const encoded = encode();
    chunk = typeof encoded === 'string' ? Buffer.from(encoded) : encoded;
    chunks.set(shape, chunk);
  }
  return chunk;
}

/** `{"type":T,"object":<stored JSON>}\n` without a string copy of the object. */
export function jsonWatchEvent(type: string, stored: StoredObject): Buffer {
  return Buffer.concat([Buffer.from(`{"type":"${type}","object":`), ...stored.jsonPieces(), NEWLINE_END]);
}

const NEWLINE_END = Buffer.from('}\n');
