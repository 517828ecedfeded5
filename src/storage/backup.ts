/**
 * A backup (`nautilus snapshot save`, like `etcdctl snapshot save`): the live objects at one
 * revision in the snapshot file format (src/storage/wal/snapshot-file.ts), sealed with the data
 * key and signed with the key derived from it, so only a holder of the same data key can restore
 * it. A running server streams one at `GET /snapshot` (cluster-admin: a non-resource URL no
 * other role grants); a stopped server's data dir is read directly. Restoring appends the
 * objects to a fresh sealed log and snapshots them there.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { DurableLog, SnapshotEntries } from './durable-log.js';
import { signCheckpoint, type SignedCheckpoint } from './wal/checkpoint.js';
import { signingKeyFromDataKey } from './wal/index.js';
import { readSnapshotFile, snapshotBytes, type SnapshotContents, writeSnapshotFile } from './wal/snapshot-file.js';

export interface Backup {
  revision: number;
  objects: number;
  /** The sealed file, chunk by chunk. */
  chunks: Iterable<Buffer>;
}

/** Response headers of GET /snapshot naming what the stream holds. */
export const BACKUP_REVISION_HEADER = 'x-nautilus-snapshot-revision';
export const BACKUP_OBJECTS_HEADER = 'x-nautilus-snapshot-objects';

/** A backup is not a log position: its checkpoint carries the revision and a digest of the values. */
function backupCheckpoint(dataKey: Buffer, revision: number, entries: SnapshotEntries): SignedCheckpoint {
  const digest = createHash('sha256');
  for (const entry of entries) digest.update(entry.value);
  return signCheckpoint({ revision, sequence: 0, chainHash: digest.digest() }, signingKeyFromDataKey(dataKey));
}

export function sealBackup(dataKey: Buffer, revision: number, entries: SnapshotEntries): Backup {
  return { revision, objects: entries.length, chunks: snapshotBytes(dataKey, backupCheckpoint(dataKey, revision, entries), entries) };
}

export function writeBackupFile(file: string, dataKey: Buffer, revision: number, entries: SnapshotEntries): Promise<void> {
  return writeSnapshotFile(file, dataKey, backupCheckpoint(dataKey, revision, entries), entries);
}

/** Reads and verifies a backup: every chunk authenticated, the signature checked against the data key's. */
export function readBackupFile(file: string, dataKey: Buffer): Promise<SnapshotContents> {
  return readSnapshotFile(file, dataKey, createPublicKey(signingKeyFromDataKey(dataKey)));
}

/** Writes a backup's objects into a fresh log (recovered, empty) and snapshots them there. */
export async function restoreBackup(log: DurableLog, backup: SnapshotContents): Promise<void> {
  const ordered = [...backup.entries].sort((a, b) => a.revision - b.revision);
  await Promise.all(ordered.map((entry) => log.append({ revision: entry.revision, type: 'put', resource: entry.resource, key: entry.key, value: entry.value })));
  if (ordered.length > 0) await log.snapshot(ordered[ordered.length - 1]!.revision, ordered);
}
