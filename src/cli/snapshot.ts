/**
 * `nautilus snapshot save FILE` / `nautilus snapshot restore FILE`: a sealed, signed backup of the
 * whole state at one revision, like `etcdctl snapshot` (src/storage/backup.ts). `save` works
 * online, as etcdctl does: when a server holds the data dir (or --kubeconfig names one) it takes
 * the backup over the API (GET /snapshot, cluster-admin); otherwise it reads the stopped server's
 * data dir. It opens only with the same data key: `restore --key-from OLD_DATA_DIR` carries the
 * key provider's file into the new data dir.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createSealedLog } from '../storage/wal/index.js';
import { KEY_PROVIDER_FLAGS, keyProviderFromFlags } from './key-provider-flags.js';
import type { RecoveredState, SnapshotEntry } from '../storage/durable-log.js';
import { DataDirLockedError, lockDataDir } from '../storage/data-dir-lock.js';
import { BACKUP_OBJECTS_HEADER, BACKUP_REVISION_HEADER, readBackupFile, restoreBackup, writeBackupFile } from '../storage/backup.js';
import { DATA_KEY_FILES } from '../storage/keys/key-provider.js';
import { fsyncDir, ShortWriteError, writeTemp } from '../storage/wal/files.js';
import { kubeconfigCredentials } from '../client/http.js';
import { reportUsageError } from './usage.js';

const USAGE = `Usage:
  nautilus snapshot save FILE [--data-dir .nautilus] [--kubeconfig FILE]
      A sealed backup at one revision. Online when a server runs on --data-dir (over its API, as
      <data-dir>/admin.kubeconfig authenticates; cluster-admin) or when --kubeconfig names a server;
      otherwise read from the stopped server's data dir.
  nautilus snapshot restore FILE --data-dir NEW [--key-from OLD_DATA_DIR]
      Into a data dir with no state, which must open with the data key the backup was sealed
      with: --key-from copies the key provider's file (${Object.values(DATA_KEY_FILES).join(', ')}) from
      the data dir the backup came from.
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
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string', default: '.nautilus' },
      kubeconfig: { type: 'string' },
      'key-from': { type: 'string' },
      ...KEY_PROVIDER_FLAGS,
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  const [action, file] = positionals;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (action !== 'save' && action !== 'restore') return reportUsageError(process.stderr, 'snapshot', action === undefined ? 'give save or restore, then a FILE' : `unknown action ${JSON.stringify(action)}: give save or restore`);
  if (!file || positionals.length > 2) return reportUsageError(process.stderr, 'snapshot', `give one FILE to ${action}`);
  if (action === 'save' && values['key-from']) return reportUsageError(process.stderr, 'snapshot', '--key-from is for restore');
  if (action === 'restore' && values.kubeconfig) return reportUsageError(process.stderr, 'snapshot', '--kubeconfig is for save');
  const dataDir = resolve(values['data-dir']!);
  const target = resolve(file);
  if (action === 'save' && values.kubeconfig) return saveOnline(resolve(values.kubeconfig), target);
  // Reading or writing the log while a server runs on it would tear it: hold the data dir's lock.
  if (existsSync(dataDir)) {
    try {
      lockDataDir(dataDir, `snapshot ${action}`);
    } catch (error) {
      if (!(error instanceof DataDirLockedError)) throw error;
      if (action === 'save') return saveOnline(join(dataDir, 'admin.kubeconfig'), target);
      process.stderr.write(`error: ${error.message}; snapshot restore needs a stopped server\n`);
      return 1;
    }
  }
  if (action === 'restore' && values['key-from']) {
    const copied = await carryDataKey(resolve(values['key-from']), dataDir);
    if (typeof copied === 'string') {
      process.stderr.write(`error: ${copied}\n`);
      return 1;
    }
  }
  const opened = await keyProviderFromFlags(values, dataDir, 'auto');
  if ('error' in opened) {
    if (opened.usage) return reportUsageError(process.stderr, 'snapshot', opened.error);
    process.stderr.write(`error: ${opened.error}\n`);
    return 1;
  }
  const keyProvider = opened.provider;

  if (action === 'save') {
    if (!existsSync(join(dataDir, 'wal'))) {
      process.stderr.write(`error: ${dataDir} holds no durable state to save\n`);
      return 1;
    }
    const durableLog = await createSealedLog({ dir: dataDir, keyProvider });
    const { revision, entries } = liveEntries(await durableLog.recover());
    await durableLog.close();
    await writeBackupFile(target, await keyProvider.dataKey(), revision, entries);
    process.stdout.write(`Snapshot saved to ${target}: ${entries.length} objects at revision ${revision}\n`);
    return 0;
  }

  if (existsSync(join(dataDir, 'wal')) && (await readdir(join(dataDir, 'wal'))).length > 0) {
    process.stderr.write(`error: ${dataDir} already holds state; restore into an empty data dir\n`);
    return 1;
  }
  let backup;
  try {
    backup = await readBackupFile(target, await keyProvider.dataKey());
  } catch (error) {
    const hint = values['key-from'] ? '' : ` (a backup opens only with the data key it was sealed with: give --key-from DATA_DIR_IT_CAME_FROM)`;
    process.stderr.write(`error: ${(error as Error).message}${hint}\n`);
    return 1;
  }
  const durableLog = await createSealedLog({ dir: dataDir, keyProvider });
  await durableLog.recover();
  await restoreBackup(durableLog, backup);
  await durableLog.close();
  process.stdout.write(`Snapshot restored into ${dataDir}: ${backup.entries.length} objects at revision ${backup.checkpoint.revision}\n`);
  return 0;
}

/** Takes the backup from a running server (GET /snapshot) into `target`, atomically. */
async function saveOnline(kubeconfig: string, target: string): Promise<number> {
  let credentials;
  try {
    credentials = kubeconfigCredentials(kubeconfig);
  } catch (error) {
    process.stderr.write(`error: a server runs on the data dir, but its kubeconfig cannot be read: ${(error as Error).message}\n`);
    return 1;
  }
  const url = new URL('/snapshot', credentials.server);
  const temp = `${target}.tmp`;
  let revision = '';
  let objects = '';
  try {
    await writeTemp(temp, async (handle) => {
      const response = await new Promise<IncomingMessage>((resolvePromise, reject) => {
        const req = request(url, { method: 'GET', ca: credentials.caPem, cert: credentials.certPem, key: credentials.keyPem, rejectUnauthorized: !credentials.insecureSkipTlsVerify, headers: credentials.token ? { authorization: `Bearer ${credentials.token}` } : {} }, resolvePromise);
        req.on('error', reject);
        req.end();
      });
      if (response.statusCode !== 200) {
        const chunks: Buffer[] = [];
        for await (const chunk of response) chunks.push(chunk as Buffer);
        let message = Buffer.concat(chunks).toString('utf8');
        try {
          message = (JSON.parse(message) as { message?: string }).message ?? message;
        } catch {
          // Not a Status.
        }
        throw new Error(`the server at ${credentials.server} answered ${response.statusCode}: ${message}`);
      }
      revision = String(response.headers[BACKUP_REVISION_HEADER] ?? '');
      objects = String(response.headers[BACKUP_OBJECTS_HEADER] ?? '');
      let position = 0;
      for await (const chunk of response as AsyncIterable<Buffer>) {
        const { bytesWritten } = await handle.write(chunk, 0, chunk.length, position);
        if (bytesWritten !== chunk.length) throw new ShortWriteError(bytesWritten, chunk.length);
        position += chunk.length;
      }
      if (!response.complete) throw new Error(`the connection to ${credentials.server} ended before the snapshot did`);
    });
    await rename(temp, target);
    await fsyncDir(dirname(target));
  } catch (error) {
    process.stderr.write(`error: snapshot save from ${credentials.server}: ${(error as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`Snapshot saved to ${target}: ${objects} objects at revision ${revision} (online, from ${credentials.server})\n`);
  return 0;
}

/** Copies the key provider's files from the data dir a backup came from; refuses to replace a different key. */
async function carryDataKey(from: string, to: string): Promise<number | string> {
  await mkdir(to, { recursive: true, mode: 0o700 });
  let copied = 0;
  for (const name of Object.values(DATA_KEY_FILES)) {
    const source = join(from, name);
    if (!existsSync(source)) continue;
    const destination = join(to, name);
    if (existsSync(destination)) {
      if (!(await readFile(source)).equals(await readFile(destination))) return `${destination} holds another data key than ${source}; restore into a new data dir`;
    } else {
      await copyFile(source, destination);
      await chmod(destination, 0o600);
    }
    copied++;
  }
  if (copied === 0) return `${from} holds no data key file (${Object.values(DATA_KEY_FILES).join(', ')})`;
  await fsyncDir(to);
  return copied;
}
