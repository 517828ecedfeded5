/**
 * A secondary index of one resource: value → keys of the objects with that value (a label's
 * value, a field selector's value such as a pod's spec.nodeName). Indexes are built on the first
 * query that can use them and kept up to date by every write after, so only what is queried
 * costs memory.
 */
import type { StoredObject } from './store.js';

/** The value a version is indexed under; it reads what it needs (a selection reads the version's summary). */
export type IndexExtractor = (stored: StoredObject) => string | undefined;

/** What a list can narrow its scan to: objects whose `extract` gives `value`. */
export interface IndexQuery {
  /** Identifies the index, e.g. "field:spec.nodeName" or "label:app". */
  name: string;
  extract: IndexExtractor;
  value: string;
}

export class SecondaryIndex {
  private readonly byValue = new Map<string, Set<string>>();

  constructor(private readonly extract: IndexExtractor) {}

  add(key: string, object: StoredObject): void {
    const value = this.valueOf(object);
    if (value === undefined) return;
    let keys = this.byValue.get(value);
    if (!keys) {
      keys = new Set();
      this.byValue.set(value, keys);
    }
    keys.add(key);
  }

  remove(key: string, object: StoredObject): void {
    const value = this.valueOf(object);
    if (value === undefined) return;
    const keys = this.byValue.get(value);
    keys?.delete(key);
    if (keys?.size === 0) this.byValue.delete(value);
  }

  keys(value: string): ReadonlySet<string> {
    return this.byValue.get(value) ?? EMPTY;
  }

  private valueOf(object: StoredObject): string | undefined {
    try {
      return this.extract(object);
    } catch {
      return undefined;
    }
  }
}

const EMPTY: ReadonlySet<string> = new Set();
