import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from '../wal/files.js';
import { DATA_KEY_BYTES, DATA_KEY_FILES, type KeyProvider } from './key-provider.js';

/**
 * A plain key file beside the data (mode 0600), made on first start. Without a TEE this protects
 * only against someone who gets the data files but not the key file — it is the development and
 * single-host option, and `name` says so in logs.
 */
export function createLocalKeyProvider(dataDir: string): KeyProvider {
  const file = path.join(dataDir, DATA_KEY_FILES.local);
  return {
    name: 'local',
    async dataKey() {
      const existing = await readKeyFile(file);
      if (existing) return existing;
      await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
      const temp = `${file}.${process.pid}.tmp`;
      await fs.writeFile(temp, crypto.randomBytes(DATA_KEY_BYTES), { mode: 0o600, flush: true });
      try {
        // link() fails if another process created the key meanwhile; then its key wins.
        await fs.link(temp, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        await fs.rm(temp, { force: true });
      }
      await fsyncDir(dataDir);
      return (await readKeyFile(file))!;
    },
  };
}

async function readKeyFile(file: string): Promise<Buffer | undefined> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new Error(`key file ${file} is accessible to group or others (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 on it`);
  }
  const key = await fs.readFile(file);
  if (key.length !== DATA_KEY_BYTES) throw new Error(`key file ${file} holds ${key.length} bytes; a data key has ${DATA_KEY_BYTES}`);
  return key;
}
