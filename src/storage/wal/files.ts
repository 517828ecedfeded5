import fs from 'node:fs/promises';
import path from 'node:path';

/** fsync on a directory makes created, renamed and deleted names in it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `file` with `data` so a crash leaves either the old or the new content, never a mix. */
export async function writeFileAtomic(file: string, data: Uint8Array): Promise<void> {
  const temp = `${file}.tmp`;
  await writeTemp(temp, async (handle) => {
    const { bytesWritten } = await handle.write(data, 0, data.length, 0);
    if (bytesWritten !== data.length) throw new ShortWriteError(bytesWritten, data.length);
  });
  await fs.rename(temp, file);
  await fsyncDir(path.dirname(file));
}

/**
 * Writes `temp` with `fill`, then fsyncs it; on any failure (a full disk) the partial file is
 * removed, so a failed write gives its space back.
 */
export async function writeTemp(temp: string, fill: (handle: fs.FileHandle) => Promise<void>): Promise<void> {
  const handle = await fs.open(temp, 'w', 0o600);
  try {
    await fill(handle);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true });
    throw error;
  }
  await handle.close();
}

/** write() wrote fewer bytes than asked: on a regular file, the disk (or quota) is full. */
export class ShortWriteError extends Error {
  readonly code = 'ENOSPC';
  constructor(written: number, wanted: number) {
    super(`short write (${written} of ${wanted} bytes): no space left on device`);
  }
}

/** The error of a write that found no space: ENOSPC, EDQUOT (quota), or a short write. */
export function isNoSpace(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Numbered files named `<20 digits><suffix>`, sorted by number; other names are ignored. */
export async function listNumbered(dir: string, suffix: string): Promise<{ number: number; file: string }[]> {
  const pattern = new RegExp(`^(\\d{20})${suffix.replace('.', '\\.')}$`);
  const found: { number: number; file: string }[] = [];
  for (const name of await fs.readdir(dir)) {
    const match = pattern.exec(name);
    if (match) found.push({ number: Number(match[1]), file: path.join(dir, name) });
  }
  return found.sort((a, b) => a.number - b.number);
}

export function numberedName(dir: string, number: number, suffix: string): string {
  return path.join(dir, `${String(number).padStart(20, '0')}${suffix}`);
}

/** Leftovers of an atomic write or snapshot that a crash interrupted. */
export async function removeTempFiles(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (name.endsWith('.tmp')) await fs.rm(path.join(dir, name), { force: true });
  }
}
