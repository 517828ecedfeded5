import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { SnapshotEntry } from '../../../src/storage/durable-log.js';
import { SealingKey } from '../../../src/storage/wal/aead.js';
import { decodeCheckpoint, encodeCheckpoint, signCheckpoint } from '../../../src/storage/wal/checkpoint.js';
import { IntegrityError, WrongKeyError } from '../../../src/storage/wal/index.js';
import { RecordKind, sealRecord } from '../../../src/storage/wal/record.js';
import { SEGMENT_KEY_PURPOSE } from '../../../src/storage/wal/segment-writer.js';
import { appendRange, fixedKey, type LogFixture, logFixture, range, recordSpans, revisions, segmentFiles, snapshotFiles, tempDir } from './helpers.js';

const MUTATION_KIND = 1;
const CHECKPOINT_KIND = 2;

/** A closed log holding revisions 1..count, with a checkpoint after every 10 mutations. */
async function writtenLog(count: number, segmentBytes?: number): Promise<LogFixture> {
  const fixture = await logFixture({ checkpointEvery: 10, ...(segmentBytes ? { segmentBytes } : {}) });
  const log = await fixture.open();
  await log.recover();
  for (let r = 1; r <= count; r += 5) await appendRange(log, r, Math.min(r + 4, count), 200);
  await log.close();
  return fixture;
}

async function assertRefused(fixture: LogFixture, message: RegExp): Promise<void> {
  const log = await fixture.open();
  await assert.rejects(log.recover(), (error: unknown) => {
    assert.ok(error instanceof IntegrityError, `expected IntegrityError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

async function firstSegmentSpans(fixture: LogFixture) {
  const [file] = await segmentFiles(fixture.dir);
  return { file: file!, bytes: await fs.readFile(file!), spans: await recordSpans(file!) };
}

test('a flipped byte inside a record is reported with its sequence and place', async () => {
  const fixture = await writtenLog(30);
  const { file, bytes, spans } = await firstSegmentSpans(fixture);
  const victim = spans.find((span) => span.sequence === 7)!;
  bytes[victim.start + 45 + 10]! ^= 0x01;
  await fs.writeFile(file, bytes);
  await assertRefused(fixture, /record at sequence 7 \(segment 0+1\.seg offset \d+\) fails authentication: its bytes were altered/);
});

test('a flipped byte in the last, complete record is tampering, not a torn tail', async () => {
  const fixture = await writtenLog(12);
  const { file, bytes, spans } = await firstSegmentSpans(fixture);
  bytes[spans.at(-1)!.end - 3]! ^= 0x80;
  await fs.writeFile(file, bytes);
  await assertRefused(fixture, /fails authentication/);
});

test('a dropped record is reported as missing sequences', async () => {
  const fixture = await writtenLog(30);
  const { file, bytes, spans } = await firstSegmentSpans(fixture);
  const victim = spans.find((span) => span.sequence === 5)!;
  await fs.writeFile(file, Buffer.concat([bytes.subarray(0, victim.start), bytes.subarray(victim.end)]));
  await assertRefused(fixture, /records 5\.\.5 are missing: expected sequence 5 but found 6/);
});

test('two swapped records are reported as out of order', async () => {
  const fixture = await writtenLog(30);
  const { file, bytes, spans } = await firstSegmentSpans(fixture);
  const a = spans.find((span) => span.sequence === 3)!;
  const b = spans.find((span) => span.sequence === 4)!;
  const swapped = Buffer.concat([
    bytes.subarray(0, a.start),
    bytes.subarray(b.start, b.end),
    bytes.subarray(a.start, a.end),
    bytes.subarray(b.end),
  ]);
  await fs.writeFile(file, swapped);
  await assertRefused(fixture, /records 3 and 4 are out of order \(swapped\)/);
});

test('a record rewritten with a forged previous-hash breaks the chain (and authentication)', async () => {
  const fixture = await writtenLog(20);
  const { file, bytes, spans } = await firstSegmentSpans(fixture);
  const victim = spans.find((span) => span.sequence === 9)!;
  bytes[victim.start + 13]! ^= 0xff;
  await fs.writeFile(file, bytes);
  await assertRefused(fixture, /hash chain broken at sequence 9/);
});

test('a deleted segment in the middle is reported by name', async () => {
  const fixture = await writtenLog(120, 4096);
  const segments = await segmentFiles(fixture.dir);
  assert.ok(segments.length >= 4);
  await fs.rm(segments[2]!);
  await assertRefused(fixture, /are missing: .* segment 3 was deleted/);
});

test('the newest segments deleted: the log ends before the signed marker (rollback)', async () => {
  const fixture = await writtenLog(120, 4096);
  const segments = await segmentFiles(fixture.dir);
  for (const file of segments.slice(-4)) await fs.rm(file);
  await assertRefused(fixture, /rollback detected: the log ends at sequence \d+ .* but the signed marker records a durable checkpoint/);
});

function entries(upTo: number): SnapshotEntry[] {
  return range(1, upTo).map((r) => ({ resource: 'core/pods', key: `default/p${r}`, revision: r, value: Buffer.from(`{"r":${r}}`) }));
}

test('a snapshot replaced by an older one is a rollback', async () => {
  const fixture = await logFixture({ checkpointEvery: 10 });
  const log = await fixture.open();
  await log.recover();
  await appendRange(log, 1, 50);
  await log.snapshot(50, entries(50));
  const [older] = await snapshotFiles(fixture.dir);
  const olderCopy = await fs.readFile(older!);
  await appendRange(log, 51, 100);
  await log.snapshot(100, entries(100));
  await log.close();
  const [newer] = await snapshotFiles(fixture.dir);
  await fs.rm(newer!);
  await fs.writeFile(older!, olderCopy);
  await assertRefused(fixture, /snapshot rollback: the signed marker records a snapshot at revision 100, but the newest snapshot present is at revision 50/);
});

test('an older snapshot renamed to look newer is caught by its signed contents', async () => {
  const fixture = await logFixture({ checkpointEvery: 10 });
  const log = await fixture.open();
  await log.recover();
  await appendRange(log, 1, 50);
  await log.snapshot(50, entries(50));
  const olderCopy = await fs.readFile((await snapshotFiles(fixture.dir))[0]!);
  await appendRange(log, 51, 100);
  await log.snapshot(100, entries(100));
  await log.close();
  await fs.writeFile((await snapshotFiles(fixture.dir))[0]!, olderCopy);
  await assertRefused(fixture, /contains revision 50: snapshot files were renamed/);
});

test('a whole older copy of log and snapshots put back (marker kept) is a rollback', async () => {
  const fixture = await logFixture({ checkpointEvery: 10 });
  let log = await fixture.open();
  await log.recover();
  await appendRange(log, 1, 40);
  await log.close();
  const saved = path.join(await tempDir(), 'wal-copy');
  await fs.cp(path.join(fixture.dir, 'wal'), saved, { recursive: true });
  log = await fixture.open();
  await log.recover();
  await appendRange(log, 41, 90);
  await log.close();
  await fs.rm(path.join(fixture.dir, 'wal'), { recursive: true });
  await fs.cp(saved, path.join(fixture.dir, 'wal'), { recursive: true });
  await assertRefused(fixture, /rollback detected/);
});

test('a truncated snapshot is detected by its missing trailer', async () => {
  const fixture = await logFixture();
  const log = await fixture.open();
  await log.recover();
  await appendRange(log, 1, 20);
  await log.snapshot(20, entries(20));
  await log.close();
  const [file] = await snapshotFiles(fixture.dir);
  const size = (await fs.stat(file!)).size;
  await fs.truncate(file!, size - 40);
  await assertRefused(fixture, /snapshot 0+20\.snap: truncated/);
});

test('a flipped byte in a snapshot chunk is reported with the chunk', async () => {
  const fixture = await logFixture();
  const log = await fixture.open();
  await log.recover();
  await appendRange(log, 1, 20);
  await log.snapshot(20, entries(20));
  await log.close();
  const [file] = await snapshotFiles(fixture.dir);
  const bytes = await fs.readFile(file!);
  bytes[24 + 5 + 30]! ^= 0x04;
  await fs.writeFile(file!, bytes);
  await assertRefused(fixture, /snapshot 0+20\.snap: chunk 0 at byte 24 fails authentication/);
});

test('a deleted marker is refused while data exists', async () => {
  const fixture = await writtenLog(5);
  await fs.rm(path.join(fixture.dir, 'wal-marker'));
  await assertRefused(fixture, /signed marker .* is missing/);
});

test('a wrong data key is refused as such', async () => {
  const fixture = await writtenLog(5);
  const log = await fixture.open({ keyProvider: fixedKey() });
  await assert.rejects(log.recover(), (error: unknown) => error instanceof WrongKeyError && /wrong data key/.test(error.message));
});

test('a different server signing key is refused', async () => {
  const fixture = await writtenLog(5);
  const log = await fixture.open({ signingKey: crypto.generateKeyPairSync('ed25519').privateKey });
  await assert.rejects(log.recover(), /marker .* signature does not verify with the server key/);
});

test('recoverToCheckpoint keeps the log up to the last verified checkpoint and drops the rest', async () => {
  const fixture = await writtenLog(35);
  const { file, bytes, spans } = await firstSegmentSpans(fixture);
  // Checkpoints follow every 10 mutations: sequence 11 covers revisions 1..10, 22 covers 1..20.
  assert.deepEqual(spans.filter((s) => s.kind === CHECKPOINT_KIND).map((s) => s.sequence), [11, 22, 33]);
  const victim = spans.find((span) => span.sequence === 27 && span.kind === MUTATION_KIND)!;
  bytes[victim.end - 1]! ^= 0x10;
  await fs.writeFile(file, bytes);
  await assertRefused(fixture, /record at sequence 27 .* fails authentication/);

  let log = await fixture.open({ recoverToCheckpoint: true });
  const state = await log.recover();
  assert.deepEqual(revisions(state.mutations), range(1, 20));
  assert.match(log.recovery!.discarded!.reason, /sequence 27/);
  assert.equal(log.recovery!.discarded!.records, 4);
  await appendRange(log, 21, 25);
  await log.close();

  log = await fixture.open();
  assert.deepEqual(revisions((await log.recover()).mutations), range(1, 25));
  await log.close();
});

test('a duplicated record is reported as a repeated sequence', async () => {
  const fixture = await writtenLog(20);
  const { file, bytes, spans } = await firstSegmentSpans(fixture);
  const victim = spans.find((span) => span.sequence === 6)!;
  await fs.writeFile(file, Buffer.concat([bytes.subarray(0, victim.end), bytes.subarray(victim.start)]));
  await assertRefused(fixture, /repeats sequence 6 \(expected 7\): records were duplicated or reordered/);
});

test('a segment that is not the last one cannot end in a partial record', async () => {
  const fixture = await writtenLog(120, 4096);
  const [first] = await segmentFiles(fixture.dir);
  const spans = await recordSpans(first!);
  await fs.truncate(first!, spans.at(-1)!.end - 7);
  await assertRefused(fixture, /ends with a partial record at offset \d+, but it is not the last segment/);
});

test('a last segment whose header never reached the disk is dropped as torn', async () => {
  const fixture = await writtenLog(10);
  const segments = await segmentFiles(fixture.dir);
  const next = path.join(path.dirname(segments[0]!), `${String(segments.length + 1).padStart(20, '0')}.seg`);
  await fs.writeFile(next, Buffer.alloc(11));
  const log = await fixture.open();
  assert.deepEqual(revisions((await log.recover()).mutations), range(1, 10));
  await log.close();
});

test('a checkpoint re-signed with another key is refused even when sealed with the right data key', async () => {
  // The attacker here holds the data key but not the server's signing key.
  const fixture = await logFixture({ checkpointEvery: 10 });
  const log = await fixture.open();
  await log.recover();
  await appendRange(log, 1, 10);
  await log.close();
  const { file, bytes, spans } = await firstSegmentSpans(fixture);
  const checkpointSpan = spans.at(-1)!;
  assert.equal(checkpointSpan.kind, CHECKPOINT_KIND);
  const dataKey = await fixture.key.dataKey();
  const sealing = new SealingKey(dataKey, bytes.subarray(16, 32), SEGMENT_KEY_PURPOSE);
  const frame = bytes.subarray(checkpointSpan.start, checkpointSpan.end);
  const original = decodeCheckpoint(sealing.open(checkpointSpan.sequence, frame.subarray(0, 45), frame.subarray(45))!)!;
  const forged = signCheckpoint(original, crypto.generateKeyPairSync('ed25519').privateKey);
  const prevHash = Buffer.from(frame.subarray(13, 45));
  const resealed = sealRecord(sealing, RecordKind.Checkpoint, checkpointSpan.sequence, prevHash, [encodeCheckpoint(forged)]);
  await fs.writeFile(file, Buffer.concat([bytes.subarray(0, checkpointSpan.start), resealed.frame]));
  await assertRefused(fixture, /checkpoint at sequence 11 .*: signature does not verify with the server key/);
});
