/**
 * `nautilus snapshot save FILE` / `nautilus snapshot restore FILE`: a sealed, signed backup of the
 * whole state, like `etcdctl snapshot`. It opens with the same key provider (data key) only.
 * Run against a stopped server's data dir.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createHash, createPublicKey } from 'node:crypto';
import { createSealedLog, signingKeyFromDataKey } from '../storage/wal/index.js';
import { KEY_PROVIDER_FLAGS, keyProviderFromFlags } from './key-provider-flags.js';
import { readSnapshotFile, writeSnapshotFile } from '../storage/wal/snapshot-file.js';
import { signCheckpoint } from '../storage/wal/checkpoint.js';
import type { RecoveredState, SnapshotEntry } from '../storage/durable-log.js';
import { DataDirLockedError, lockDataDir } from '../storage/data-dir-lock.js';
import { reportUsageError } from './usage.js';

const USAGE = `Usage:
  nautilus snapshot save FILE [--data-dir .nautilus]      back up a stopped server's state, sealed
  nautilus snapshot restore FILE [--data-dir DIR]         restore into a data dir with no state, holding
                                                          the same data key (local provider: copy data.key)
  --key-provider local|nitro-kms|sev-snp|tdx (and its settings, as for serve) opens the data key
`;

/** The live objects after replaying the log over its snapshot. */
function liveEntries(state: RecoveredState): { revision: number; entries: SnapshotEntry[] } {
  const live = new Map<string, SnapshotEntry>();
  for (const entry of state.entries) live.set(`${entry.resource}\0${entry.key}`, entry);
  let revision = state.snapshotRevision;
  for (const mutation of state.mutations) {
    const id = `${mutation.resource}\0${mutation.key}`;
    if (mutation.type === 'put') live.set(id, { resource: mutation.resource, key: mutation.key, revision: mutation.revision, value: mutation.value });
    else live.delete(id);
    revision = mutation.revision;
  }
  return { revision, entries: [...live.values()] };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string', default: '.nautilus' }, ...KEY_PROVIDER_FLAGS, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  const [action, file] = positionals;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (action !== 'save' && action !== 'restore') return reportUsageError(process.stderr, 'snapshot', action === undefined ? 'give save or restore, then a FILE' : `unknown action ${JSON.stringify(action)}: give save or restore`);
  if (!file || positionals.length > 2) return reportUsageError(process.stderr, 'snapshot', `give one FILE to ${action}`);
  const dataDir = resolve(values['data-dir']!);
  const opened = await keyProviderFromFlags(values, dataDir, 'auto');
  if ('error' in opened) {
    if (opened.usage) return reportUsageError(process.stderr, 'snapshot', opened.error);
    process.stderr.write(`error: ${opened.error}\n`);
    return 1;
  }
  const keyProvider = opened.provider;
  // Reading or writing the log while a server runs on it would tear it: hold the data dir's lock.
  if (existsSync(dataDir)) {
    try {
      lockDataDir(dataDir, `snapshot ${action}`);
    } catch (error) {
      if (!(error instanceof DataDirLockedError)) throw error;
      process.stderr.write(`error: ${error.message}; snapshot ${action} needs a stopped server\n`);
      return 1;
    }
  }

  if (action === 'save') {
    if (!existsSync(join(dataDir, 'wal'))) {
      process.stderr.write(`error: ${dataDir} holds no durable state to save\n`);
      return 1;
    }
    const durableLog = await createSealedLog({ dir: dataDir, keyProvider });
    const { revision, entries } = liveEntries(await durableLog.recover());
    await durableLog.close();
    const dataKey = await keyProvider.dataKey();
    const digest = createHash('sha256');
    for (const entry of entries) digest.update(entry.value);
    const checkpoint = signCheckpoint({ revision, sequence: 0, chainHash: digest.digest() }, signingKeyFromDataKey(dataKey));
    await writeSnapshotFile(resolve(file), dataKey, checkpoint, entries);
    process.stdout.write(`Snapshot saved to ${resolve(file)}: ${entries.length} objects at revision ${revision}\n`);
    return 0;
  }

  if (existsSync(join(dataDir, 'wal')) && (await readdir(join(dataDir, 'wal'))).length > 0) {
    process.stderr.write(`error: ${dataDir} already holds state; restore into an empty data dir\n`);
    return 1;
  }
  const dataKey = await keyProvider.dataKey();
  const signingKey = signingKeyFromDataKey(dataKey);
  const backup = await readSnapshotFile(resolve(file), dataKey, createPublicKey(signingKey));
  const durableLog = await createSealedLog({ dir: dataDir, keyProvider });
  await durableLog.recover();
  const ordered = [...backup.entries].sort((a, b) => a.revision - b.revision);
  await Promise.all(ordered.map((entry) => durableLog.append({ revision: entry.revision, type: 'put', resource: entry.resource, key: entry.key, value: entry.value })));
  if (ordered.length > 0) await durableLog.snapshot(ordered[ordered.length - 1].revision, ordered);
  await durableLog.close();
  process.stdout.write(`Snapshot restored into ${dataDir}: ${ordered.length} objects at revision ${backup.checkpoint.revision}\n`);
  return 0;
}
