/**
 * Memo tables for the pure computations of field ownership that writes repeat (reading the
 * stored managedFields of pods that share a template, naming the same fields): at most
 * `capacity` entries, the oldest leaving first (a lookup changes nothing: hits stay cheap). A value must be a function of its
 * key alone and nobody may change a value they got, so a hit answers exactly what computing
 * again would. Tests turn every table off (memoTablesEnabled) to compare both ways.
 */

let enabled = true;

/** Switches every memo table on or off (off: every lookup misses and nothing is kept). */
export function setMemoTablesEnabled(on: boolean): void {
  enabled = on;
}

export class MemoTable<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    if (!enabled) return undefined;
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    if (!enabled || this.entries.has(key)) return;
    // A Map iterates in insertion order: its first key is the oldest.
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as K);
    this.entries.set(key, value);
  }
}
