/**
 * Writes migrated objects as YAML that `kubectl apply -f DIR -R` loads: one directory per
 * namespace (cluster-scoped objects under `_cluster/`, which sorts before namespace names that
 * start with a letter), one file per kind, files numbered by creation phase so a directory walk
 * applies namespaces and CRDs before what needs them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { phaseOf, resourceLabel } from './plan.js';
import type { SourceObject } from './read.js';

export const CLUSTER_DIR = '_cluster';

/**
 * One object as YAML that kubectl reads back as written. kubectl's decoder follows YAML 1.1, where
 * `yes`, `no`, `on`, `off`, `y` and `n` are booleans: written in 1.1 style, strings such as
 * the PV binder's `pv.kubernetes.io/bound-by-controller: "yes"` keep their quotes.
 */
export function toKubectlYaml(object: unknown): string {
  return stringify(object, { lineWidth: 0, version: '1.1' });
}

export async function writeExport(dir: string, objects: readonly SourceObject[]): Promise<string[]> {
  const files = new Map<string, SourceObject[]>();
  for (const item of objects) {
    const scope = item.resource.namespaced ? item.object.metadata.namespace! : CLUSTER_DIR;
    const name = `${String(phaseOf(item.resource)).padStart(2, '0')}-${resourceLabel(item.resource)}.yaml`;
    const path = join(scope, name);
    files.set(path, [...(files.get(path) ?? []), item]);
  }
  const written: string[] = [];
  for (const [path, items] of [...files].sort((a, b) => a[0].localeCompare(b[0]))) {
    const full = join(dir, path);
    await mkdir(join(full, '..'), { recursive: true });
    const sorted = [...items].sort((a, b) => a.object.metadata.name!.localeCompare(b.object.metadata.name!));
    // Owner references carry the source's uids, which mean nothing elsewhere: kubectl apply would
    // create dependents the garbage collector then deletes, so they are left out of the files.
    const documents = sorted.map(({ object }) => {
      const { ownerReferences: _refs, ...metadata } = object.metadata;
      return toKubectlYaml({ ...object, metadata });
    });
    await writeFile(full, documents.map((d) => `---\n${d}`).join(''));
    written.push(full);
  }
  return written;
}
