/**
 * The audit log file with upstream's rotation (kube-apiserver writes it through lumberjack):
 * when a line would take the file past `maxSizeMiB` (0: lumberjack's 100), the file is renamed to
 * `<name>-<UTC time as 2006-01-02T15-04-05.000><ext>` and a new one is started; then backups beyond
 * `maxBackups` (0: keep all) and older than `maxAgeDays` (0: no limit) are removed, oldest first.
 * A rename keeps the old file's descriptor, so lines still being written land in the backup and
 * the order of lines across files is the order they were written. With `compress`
 * (--audit-log-compress) a backup is gzipped to `<backup>.gz` once its last line is written, and
 * the plain one removed; compressed backups count as backups for the limits.
 */
import { createReadStream, createWriteStream, openSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { basename, dirname, extname, join } from 'node:path';

const MIB = 1024 * 1024;
const LUMBERJACK_DEFAULT_MIB = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface RotationOptions {
  /** --audit-log-maxsize: megabytes before rotation; 0 means 100, as lumberjack's default. */
  maxSizeMiB: number;
  /** --audit-log-maxbackup: rotated files kept; 0 keeps all. */
  maxBackups: number;
  /** --audit-log-maxage: days a rotated file is kept (by the time in its name); 0 keeps all. */
  maxAgeDays: number;
  /** --audit-log-compress: gzip rotated files. */
  compress?: boolean;
}

export class RotatingFile {
  private stream: WriteStream;
  private size: number;
  private readonly maxBytes: number;
  private lastBackupTime = 0;
  /** The backups' compression and clean-up, one after the other (tests and close wait for it). */
  private housekeeping: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly options: RotationOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.maxBytes = (options.maxSizeMiB > 0 ? options.maxSizeMiB : LUMBERJACK_DEFAULT_MIB) * MIB;
    this.size = sizeOf(path);
    this.stream = open(path);
  }

  write(line: string): void {
    const bytes = Buffer.byteLength(line);
    if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
    this.size += bytes;
    this.stream.write(line);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.stream.end(resolve));
    await this.settled();
  }

  /** Resolves when the compression and removal of backups started so far are done. */
  settled(): Promise<void> {
    return this.housekeeping;
  }

  private rotate(): void {
    // Two rotations in one millisecond would share a name: the later one moves on by a millisecond.
    const time = Math.max(this.now(), this.lastBackupTime + 1);
    this.lastBackupTime = time;
    const backup = backupName(this.path, time);
    try {
      renameSync(this.path, backup);
    } catch {
      return; // Not renamed (e.g. removed by hand): keep appending where we are.
    }
    const written = new Promise<void>((resolve) => this.stream.end(resolve));
    this.stream = open(this.path);
    this.size = 0;
    const compress = this.options.compress;
    this.housekeeping = this.housekeeping
      .then(async () => {
        if (!compress) return;
        await written;
        await gzipFile(backup);
      })
      .then(() => this.removeOldBackups())
      .catch(() => {});
  }

  private async removeOldBackups(): Promise<void> {
    const { maxBackups, maxAgeDays } = this.options;
    if (maxBackups <= 0 && maxAgeDays <= 0) return;
    const dir = dirname(this.path);
    const backups = (await readdir(dir))
      .map((file) => ({ file, time: backupTime(this.path, file) }))
      .filter((b): b is { file: string; time: number } => b.time !== undefined)
      .sort((a, b) => b.time - a.time); // newest first
    const cutoff = maxAgeDays > 0 ? this.now() - maxAgeDays * DAY_MS : -Infinity;
    const doomed = backups.filter((b, i) => (maxBackups > 0 && i >= maxBackups) || b.time < cutoff);
    await Promise.all(doomed.map((b) => unlink(join(dir, b.file)).catch(() => {})));
  }
}

/** audit.log at 2026-12-02T17:40:00.123Z → audit-2026-12-02T17-40-00.123.log */
export function backupName(path: string, time: number): string {
  const ext = extname(path);
  const stamp = new Date(time).toISOString().replace(/:/g, '-').replace(/Z$/, '');
  return join(dirname(path), `${basename(path, ext)}-${stamp}${ext}`);
}

/** Replaces `path` by `path.gz`; a failure leaves the plain file in place. */
async function gzipFile(path: string): Promise<void> {
  const target = `${path}.gz`;
  try {
    await pipeline(createReadStream(path), createGzip(), createWriteStream('', { fd: openSync(target, 'w', 0o600) }));
  } catch (error) {
    await unlink(target).catch(() => {});
    throw error;
  }
  await unlink(path);
}

/** The time in a backup's name (plain or gzipped), if `file` is a backup of `path`. */
function backupTime(path: string, name: string): number | undefined {
  const ext = extname(path);
  const prefix = `${basename(path, ext)}-`;
  const file = name.endsWith('.gz') ? name.slice(0, -3) : name;
  if (!file.startsWith(prefix) || !file.endsWith(ext)) return undefined;
  const stamp = file.slice(prefix.length, file.length - ext.length);
  const match = /^(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d\.\d{3})$/.exec(stamp);
  if (!match) return undefined;
  const time = Date.parse(`${match[1]}T${match[2]}:${match[3]}:${match[4]}Z`);
  return Number.isNaN(time) ? undefined : time;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Opened at once (not when the stream gets round to it), so a rotation right after finds the file. */
function open(path: string): WriteStream {
  const stream = createWriteStream('', { fd: openSync(path, 'a', 0o600) });
  stream.on('error', () => {});
  return stream;
}
