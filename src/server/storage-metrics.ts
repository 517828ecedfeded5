/**
 * What the storage layer exposes on /metrics and the status page: objects and bytes by resource
 * (every served kind, custom resources included, read at scrape time) and the data directory's
 * footprint on disk (WAL segments and snapshots), in the spirit of etcd's db size.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Gauge } from 'prom-client';
import type { Registry } from '../registry/registry.js';
import type { Store } from '../storage/store.js';
import type { Metrics, StorageObjectCount } from './metrics.js';

/** Objects and bytes of every served resource, once per storage resource (versions share one). */
export function storageObjectCounts(registry: Registry, store: Store): StorageObjectCount[] {
  const seen = new Set<string>();
  const counts: StorageObjectCount[] = [];
  for (const kind of registry.kinds) {
    const key = `${kind.group || 'core'}/${kind.plural}`;
    if (seen.has(key)) continue;
    seen.add(key);
    counts.push({ resource: kind.group ? `${kind.plural}.${kind.group}` : kind.plural, objects: store.count(key), bytes: store.bytes(key) });
  }
  return counts;
}

export interface DiskFootprint {
  walBytes: number;
  walSegments: number;
  snapshotBytes: number;
  snapshots: number;
}

/** Sizes of the sealed log's files under a data directory (only ciphertext lives there). */
export async function diskFootprint(dataDir: string): Promise<DiskFootprint> {
  const wal = await directorySize(join(dataDir, 'wal'));
  const snapshots = await directorySize(join(dataDir, 'snapshots'));
  return { walBytes: wal.bytes, walSegments: wal.files, snapshotBytes: snapshots.bytes, snapshots: snapshots.files };
}

async function directorySize(dir: string): Promise<{ bytes: number; files: number }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { bytes: 0, files: 0 };
  }
  let bytes = 0;
  let files = 0;
  for (const name of names) {
    try {
      const info = await stat(join(dir, name));
      if (!info.isFile()) continue;
      bytes += info.size;
      files++;
    } catch {
      // Removed between readdir and stat (segments and old snapshots go as snapshots are taken).
    }
  }
  return { bytes, files };
}

export function registerStorageMetrics(
  metrics: Metrics,
  registry: Registry,
  store: Store,
  dataDir: string | undefined,
  noSpaceAlarm?: () => string | undefined,
): void {
  metrics.storageObjects(() => storageObjectCounts(registry, store));
  if (!dataDir) return;
  new Gauge({
    name: 'nautilus_storage_no_space_alarm',
    help: "1 while the NOSPACE alarm is raised (the data dir's disk is full; writes answer 507), else 0 (etcd's NOSPACE alarm).",
    registers: [metrics.registry],
    collect() {
      this.set(noSpaceAlarm?.() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'nautilus_db_total_size_in_bytes',
    help: 'Total size of the sealed write-ahead log and snapshots on disk in bytes (etcd_mvcc_db_total_size_in_bytes).',
    registers: [metrics.registry],
    async collect() {
      const footprint = await diskFootprint(dataDir);
      this.set(footprint.walBytes + footprint.snapshotBytes);
    },
  });
  new Gauge({
    name: 'nautilus_wal_size_bytes',
    help: 'Size of the sealed write-ahead log segments on disk in bytes.',
    registers: [metrics.registry],
    async collect() {
      this.set((await diskFootprint(dataDir)).walBytes);
    },
  });
}
