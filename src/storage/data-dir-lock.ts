/**
 * One process per data dir. Two servers on the same sealed log would both acknowledge writes
 * and interleave records no start can replay, so whoever opens a data dir first holds
 * `<data-dir>/nautilus.lock` (created exclusively, holding its PID) until it exits; anyone else
 * is refused with the holder's PID. A lock whose PID is no longer alive (a crash, a SIGKILL) is
 * stale and taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'nautilus.lock';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
  ) {
    super(`the data dir ${dataDir} is in use by another Nautilus process (PID ${holderPid}); stop it first, or use another --data-dir`);
  }
}

export interface DataDirLock {
  release(): void;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the data dir's lock for this process, or throws DataDirLockedError naming the holder. */
export function lockDataDir(dataDir: string, what = 'serve'): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder = NaN;
      try {
        holder = Number.parseInt(readFileSync(path, 'utf8').split('\n')[0], 10);
      } catch {
        // Removed meanwhile: try again.
      }
      if (alive(holder)) throw new DataDirLockedError(dataDir, holder);
      // Stale (its process is gone) or half-written: take it over.
      try {
        unlinkSync(path);
      } catch {
        // Someone else took it over first; the next attempt sees theirs.
      }
      continue;
    }
    writeSync(fd, `${process.pid}\n${what}\n`);
    closeSync(fd);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.off('exit', release);
      try {
        if (Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid) unlinkSync(path);
      } catch {
        // Already gone.
      }
    };
    process.on('exit', release);
    return { release };
  }
  throw new Error(`could not take the lock ${path}`);
}
