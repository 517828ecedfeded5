/**
 * The keys of one resource in lexical order, which is the order lists and continue tokens walk.
 * Inserts and deletes are buffered and merged lazily, so a burst of writes costs O(1) each and
 * the next list pays a single O(n) merge instead of an O(n) splice per write.
 */
export class SortedKeys {
  private sorted: string[] = [];
  private added = new Set<string>();
  private removed = new Set<string>();

  static from(keys: Iterable<string>): SortedKeys {
    const set = new SortedKeys();
    set.sorted = [...keys].sort(compareKeys);
    return set;
  }

  add(key: string): void {
    if (this.removed.delete(key)) return;
    this.added.add(key);
  }

  delete(key: string): void {
    if (this.added.delete(key)) return;
    this.removed.add(key);
  }

  /** All keys in order. The array is owned by this set: read it, never change it. */
  keys(): readonly string[] {
    if (this.added.size === 0 && this.removed.size === 0) return this.sorted;
    const additions = [...this.added].sort(compareKeys);
    const merged: string[] = new Array(this.sorted.length + additions.length - this.removed.size);
    let i = 0;
    let j = 0;
    let out = 0;
    while (i < this.sorted.length || j < additions.length) {
      if (j >= additions.length || (i < this.sorted.length && this.sorted[i] < additions[j])) {
        const key = this.sorted[i++];
        if (!this.removed.has(key)) merged[out++] = key;
      } else merged[out++] = additions[j++];
    }
    merged.length = out;
    this.sorted = merged;
    this.added.clear();
    this.removed.clear();
    return merged;
  }
}

export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Index of the first key >= target in a sorted array. */
export function lowerBound(keys: readonly string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
