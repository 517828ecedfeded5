/**
 * GET /snapshot: a sealed backup of the whole state at one revision, streamed (etcd's
 * Maintenance.Snapshot, what `etcdctl snapshot save` reads from a running member). Authorized as
 * a non-resource URL, so only cluster-admin (or whoever is granted `get` on /snapshot) may take it.
 * The headers name its revision and object count; the body is src/storage/backup.ts's file.
 */
import { BACKUP_OBJECTS_HEADER, BACKUP_REVISION_HEADER, type Backup } from '../storage/backup.js';
import { errors } from '../api/status.js';
import type { Exchange } from './exchange.js';

export const BACKUP_PATH = '/snapshot';
/** Sealed bytes queued for a slow client before the next chunk waits. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export async function serveBackup(ex: Exchange, take: () => Promise<Backup>): Promise<void> {
  if (ex.method !== 'GET') throw errors.methodNotAllowed(ex.method, BACKUP_PATH);
  const backup = await take();
  const out = ex.stream(200, {
    'content-type': 'application/octet-stream',
    [BACKUP_REVISION_HEADER]: String(backup.revision),
    [BACKUP_OBJECTS_HEADER]: String(backup.objects),
  });
  for (const chunk of backup.chunks) {
    if (out.closed) return;
    out.write(chunk);
    while (out.bufferedBytes > MAX_BUFFERED_BYTES && !out.closed) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  out.end();
}
