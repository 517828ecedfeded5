/**
 * ENOSPC in the sealed log (etcd's NOSPACE alarm), with the disk's answers injected: the file
 * handles' write() fails or writes short, and statfs reports no free space, while `disk` says so.
 * The records of a failed batch are rejected and cut off, writes are refused while the disk is
 * full, a snapshot that finds no room raises the alarm and leaves no partial file, and once space
 * is back the log goes on under a new key in a new segment; recovery replays each acknowledged
 * record exactly once.
 */
import assert from 'node:assert/strict';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { StorageFullError } from '../../../src/storage/durable-log.js';
import { logFixture, mutation, range, revisions, segmentFiles } from './helpers.js';

type Disk = 'ok' | 'full' | 'short' | 'snapshots-full' | 'marker-full';
let disk: Disk = 'ok';
const paths = new WeakMap<object, string>();
const noSpace = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });

{
  const realOpen = fs.open;
  fs.open = (async (file: fsSync.PathLike, ...rest: unknown[]) => {
    const handle = await (realOpen as (...args: unknown[]) => Promise<fs.FileHandle>)(file, ...rest);
    paths.set(handle, String(file));
    return handle;
  }) as typeof fs.open;
  const probe = await realOpen(process.execPath, 'r');
  const prototype = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<{ bytesWritten: number }> };
  await probe.close();
  const realWrite = prototype.write;
  prototype.write = async function (this: object, ...args: unknown[]) {
    const file = paths.get(this) ?? '';
    if (disk === 'full') throw noSpace();
    if (disk === 'snapshots-full' && file.includes(`${path.sep}snapshots${path.sep}`)) throw noSpace();
    if (disk === 'marker-full' && file.endsWith('wal-marker.tmp')) throw noSpace();
    const [buffer, offset, length, position] = args as [Buffer, number, number, number];
    if (disk === 'short' && typeof length === 'number' && length > 1) {
      // Half of it fits, then the disk is full.
      disk = 'full';
      return realWrite.call(this, buffer, offset, Math.floor(length / 2), position);
    }
    return realWrite.apply(this, args);
  };
  const realStatfs = fsSync.statfsSync;
  fsSync.statfsSync = ((file: fsSync.PathLike, options?: fsSync.StatFsOptions) => {
    const stats = realStatfs(file, options as fsSync.StatFsOptions & { bigint?: false });
    return disk === 'ok' ? stats : { ...stats, bavail: 0 };
  }) as typeof fsSync.statfsSync;
  syncBuiltinESMExports();
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a full disk rejects the unsynced records, refuses writes, and the log resumes under a new key once space is back', async () => {
  const fixture = await logFixture({ checkpointEvery: 4 });
  let log = await fixture.open();
  await log.recover();
  for (let revision = 1; revision <= 10; revision++) await log.append(mutation(revision));
  const [firstSegment] = await segmentFiles(fixture.dir);
  const durableSize = (await fs.stat(firstSegment!)).size;

  disk = 'short';
  const batch = [11, 12, 13].map((revision) => log.append(mutation(revision)));
  for (const append of batch) await assert.rejects(append, StorageFullError);
  assert.equal(log.durableRevision, 10);
  assert.match(log.noSpaceAlarm ?? '', /no space left on device/);
  assert.equal((await fs.stat(firstSegment!)).size, durableSize, 'the half-written batch was cut off');
  await assert.rejects(log.append(mutation(11)), (error: Error) => error instanceof StorageFullError && /database space exceeded: the disk of the data dir .* is full/.test(error.message));
  assert.throws(() => log.checkWritable(), StorageFullError);
  // A snapshot's checkpoint is a write too: refused, nothing sealed under the old epoch key.
  await assert.rejects(log.snapshot(10, []), StorageFullError);
  assert.equal((await segmentFiles(fixture.dir)).length, 1);

  // Space is back: the next write is taken, in a new segment sealed under a new salt.
  disk = 'ok';
  await pause(60);
  for (let revision = 11; revision <= 20; revision++) await log.append(mutation(revision, 100));
  assert.equal(log.noSpaceAlarm, undefined);
  const segments = await segmentFiles(fixture.dir);
  assert.equal(segments.length, 2);
  const salt = async (file: string) => (await fs.readFile(file)).subarray(16, 32);
  assert.notDeepEqual(await salt(segments[0]!), await salt(segments[1]!), 'records after the cut are sealed under a new key');
  await log.close();

  log = await fixture.open();
  const recovered = await log.recover();
  assert.deepEqual(revisions(recovered.mutations), range(1, 20), 'every acknowledged record once, none of the rejected ones');
  assert.equal(Buffer.from(recovered.mutations[12]!.value).toString(), Buffer.from(mutation(13, 100).value).toString());
  assert.equal(log.recovery?.tornTailBytes, 0);
  await log.close();
});

test('a snapshot that finds the disk full raises the alarm and leaves no partial file; the next one succeeds', async () => {
  const fixture = await logFixture();
  let log = await fixture.open();
  await log.recover();
  for (let revision = 1; revision <= 5; revision++) await log.append(mutation(revision));
  const entries = [{ resource: 'core/pods', key: 'default/pod-5', revision: 5, value: mutation(5).value }];

  disk = 'snapshots-full';
  await assert.rejects(log.snapshot(5, entries), /ENOSPC/);
  assert.match(log.noSpaceAlarm ?? '', /snapshot: ENOSPC/);
  assert.deepEqual(await fs.readdir(path.join(fixture.dir, 'snapshots')), [], 'the partial snapshot was removed');
  await assert.rejects(log.append(mutation(6)), StorageFullError);

  disk = 'ok';
  await pause(60);
  await log.append(mutation(6));
  await log.snapshot(6, [...entries, { resource: 'core/pods', key: 'default/pod-6', revision: 6, value: mutation(6).value }]);
  await log.close();
  log = await fixture.open();
  const recovered = await log.recover();
  assert.equal(recovered.snapshotRevision, 6);
  assert.equal(recovered.entries.length, 2);
  await log.close();
});

test('a marker that cannot be written raises the alarm; acknowledged records stay and recovery reaches them', async () => {
  const fixture = await logFixture({ checkpointEvery: 3 });
  let log = await fixture.open();
  await log.recover();
  for (let revision = 1; revision <= 2; revision++) await log.append(mutation(revision));
  // The third append brings a checkpoint; the marker written after it finds no room.
  disk = 'marker-full';
  await log.append(mutation(3));
  // The marker is written after the batch is acknowledged.
  for (let i = 0; i < 100 && !log.noSpaceAlarm; i++) await pause(10);
  assert.match(log.noSpaceAlarm ?? '', /ENOSPC/);
  await assert.rejects(log.append(mutation(4)), StorageFullError);
  assert.deepEqual((await fs.readdir(fixture.dir)).filter((name) => name.endsWith('.tmp')), []);
  disk = 'ok';
  await pause(60);
  await log.append(mutation(4));
  await log.close();
  log = await fixture.open();
  assert.deepEqual(revisions((await log.recover()).mutations), range(1, 4));
  await log.close();
});
