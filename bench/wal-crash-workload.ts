import type { Mutation, SnapshotEntry } from '../src/storage/durable-log.js';

/**
 * The deterministic write stream of the crash test: revision r always writes the same object, so
 * the checker can tell what the state at any revision must be without trusting the log.
 */
const OBJECTS = 97;

export function workloadMutation(revision: number): Mutation {
  const name = `pod-${revision % OBJECTS}`;
  const type = revision % 11 === 0 ? 'delete' : 'put';
  const value = Buffer.from(JSON.stringify({ metadata: { name, resourceVersion: String(revision) }, spec: { pad: 'p'.repeat(revision % 300) } }));
  return { revision, type, resource: 'core/pods', key: `default/${name}`, value };
}

/** Live objects after applying revisions 1..revision, ordered by key. */
export function workloadState(revision: number): SnapshotEntry[] {
  const live = new Map<string, SnapshotEntry>();
  for (let r = 1; r <= revision; r++) applyMutation(live, workloadMutation(r));
  return [...live.values()].sort((a, b) => a.key.localeCompare(b.key));
}

export function applyMutation(live: Map<string, SnapshotEntry>, mutation: Mutation): void {
  if (mutation.type === 'delete') live.delete(mutation.key);
  else live.set(mutation.key, { resource: mutation.resource, key: mutation.key, revision: mutation.revision, value: mutation.value });
}
