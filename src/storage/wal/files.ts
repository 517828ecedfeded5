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
  const handle = await fs.open(temp, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, file);
  await fsyncDir(path.dirname(file));
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
