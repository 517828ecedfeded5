/**
 * Crash-test writer: recovers the log in argv[2], then appends the deterministic workload forever
 * (a few dozen appends in flight, a snapshot every 400 revisions) and prints "ack <revision>" for
 * each append once it resolved. The parent SIGKILLs it at random moments. Keys come from the
 * environment so parent and child share them.
 */
import crypto from 'node:crypto';
import type { SnapshotEntry } from '../src/storage/durable-log.js';
import { createSealedLog } from '../src/storage/wal/index.js';
import { applyMutation, workloadMutation } from './wal-crash-workload.js';

const IN_FLIGHT = 32;
const SNAPSHOT_EVERY = 400;

async function main(): Promise<void> {
  const dir = process.argv[2];
  const dataKeyHex = process.env.NAUTILUS_WAL_CRASH_KEY;
  const signingKeyPem = process.env.NAUTILUS_WAL_CRASH_SIGNING_KEY;
  if (!dir || !dataKeyHex || !signingKeyPem) {
    console.error('usage: NAUTILUS_WAL_CRASH_KEY=<hex> NAUTILUS_WAL_CRASH_SIGNING_KEY=<pem> node wal-crash-child.js <dir>');
    process.exitCode = 2;
    return;
  }
  const dataKey = Buffer.from(dataKeyHex, 'hex');
  const log = await createSealedLog({
    dir,
    keyProvider: { name: 'crash-test', dataKey: async () => dataKey },
    signingKey: crypto.createPrivateKey(signingKeyPem),
    checkpointEvery: 100,
    segmentBytes: 256 * 1024,
  });
  const recovered = await log.recover();
  const live = new Map<string, SnapshotEntry>();
  for (const entry of recovered.entries) live.set(entry.key, entry);
  for (const mutation of recovered.mutations) applyMutation(live, mutation);
  let next = (recovered.mutations.at(-1)?.revision ?? recovered.snapshotRevision) + 1;
  process.stdout.write(`start ${next - 1}\n`);

  const appendOne = (): void => {
    const revision = next++;
    const mutation = workloadMutation(revision);
    applyMutation(live, mutation);
    log.append(mutation).then(() => {
      process.stdout.write(`ack ${revision}\n`);
      appendOne();
    }, (error: Error) => {
      process.stderr.write(`append ${revision} failed: ${error.message}\n`);
      process.exit(1);
    });
    if (revision % SNAPSHOT_EVERY === 0) {
      log.snapshot(revision, [...live.values()]).catch((error: Error) => {
        process.stderr.write(`snapshot ${revision} failed: ${error.message}\n`);
        process.exit(1);
      });
    }
  };
  for (let i = 0; i < IN_FLIGHT; i++) appendOne();
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
