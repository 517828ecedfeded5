import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { backupName, RotatingFile } from '../../src/audit/rotating-file.js';

const MIB = 1024 * 1024;
/** An audit-like line of about 1 KiB, numbered n. */
const line = (n: number) => `{"n":${n},"pad":"${'x'.repeat(1000)}"}\n`;
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

async function linesIn(dir: string, files: string[]): Promise<number[]> {
  const numbers: number[] = [];
  for (const file of files) {
    for (const text of (await readFile(join(dir, file), 'utf8')).split('\n').filter(Boolean)) numbers.push(JSON.parse(text).n);
  }
  return numbers;
}

describe('audit log rotation (--audit-log-maxsize, --audit-log-maxbackup, --audit-log-maxage, --audit-log-compress)', () => {
  it('names backups as lumberjack does', () => {
    assert.equal(backupName('/var/log/audit.log', Date.UTC(2026, 11, 2, 17, 40, 0, 123)), '/var/log/audit-2026-12-02T17-40-00.123.log');
  });

  it('rotates at the size, keeps every line in order across the files, and never a file above the size', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nautilus-audit-rotation-'));
    const path = join(dir, 'audit.log');
    let clock = Date.UTC(2026, 0, 1);
    const file = new RotatingFile(path, { maxSizeMiB: 1, maxBackups: 0, maxAgeDays: 0 }, () => (clock += 1000));
    const total = 3 * 1024 + 100; // just over three files' worth
    for (let n = 0; n < total; n++) file.write(line(n));
    await file.close();
    await settle();
    const backups = (await readdir(dir)).filter((f) => f !== 'audit.log').sort();
    assert.equal(backups.length, 3, backups.join(' '));
    for (const f of [...backups, 'audit.log']) assert.ok((await stat(join(dir, f))).size <= MIB, `${f} is above 1 MiB`);
    assert.deepEqual(await linesIn(dir, [...backups, 'audit.log']), Array.from({ length: total }, (_, n) => n));
  });

  it('keeps only the newest maxbackup files and drops backups older than maxage days', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nautilus-audit-rotation-'));
    const path = join(dir, 'audit.log');
    // A backup from long ago and a file that only looks like one are there already.
    const old = backupName(path, Date.UTC(2025, 0, 1));
    await writeFile(old, line(-1));
    await writeFile(join(dir, 'audit-notes.log'), 'kept\n');
    let clock = Date.UTC(2026, 0, 1);
    const file = new RotatingFile(path, { maxSizeMiB: 1, maxBackups: 2, maxAgeDays: 30 }, () => (clock += 1000));
    const total = 5 * 1024 + 10;
    for (let n = 0; n < total; n++) file.write(line(n));
    await file.close();
    await settle();
    const files = (await readdir(dir)).sort();
    const backups = files.filter((f) => /^audit-\d{4}-/.test(f));
    assert.equal(backups.length, 2, files.join(' '));
    assert.ok(!files.includes(old.slice(dir.length + 1)), 'the year-old backup is gone');
    assert.ok(files.includes('audit-notes.log'), 'a file that is not a backup stays');
    // What is left is the newest lines, still in order and contiguous up to the last one.
    const left = await linesIn(dir, [...backups, 'audit.log']);
    assert.equal(left.at(-1), total - 1);
    assert.deepEqual(left, Array.from({ length: left.length }, (_, i) => total - left.length + i));
  });

  it('with compress, gzips each backup once written (no plain backup left), every line kept in order, limits counting the .gz files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nautilus-audit-rotation-'));
    const path = join(dir, 'audit.log');
    let clock = Date.UTC(2026, 0, 1);
    const file = new RotatingFile(path, { maxSizeMiB: 1, maxBackups: 2, maxAgeDays: 0, compress: true }, () => (clock += 1000));
    const total = 4 * 1024 + 10;
    for (let n = 0; n < total; n++) file.write(line(n));
    await file.close();
    const files = (await readdir(dir)).sort();
    const backups = files.filter((f) => f !== 'audit.log');
    assert.equal(backups.length, 2, files.join(' '));
    assert.ok(backups.every((f) => /^audit-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.log\.gz$/.test(f)), files.join(' '));
    const numbers: number[] = [];
    for (const f of backups) {
      const compressed = await readFile(join(dir, f));
      assert.ok(compressed.length < MIB / 10, `${f} is compressed`);
      for (const text of gunzipSync(compressed).toString('utf8').split('\n').filter(Boolean)) numbers.push(JSON.parse(text).n);
    }
    numbers.push(...(await linesIn(dir, ['audit.log'])));
    assert.equal(numbers.at(-1), total - 1);
    assert.deepEqual(numbers, Array.from({ length: numbers.length }, (_, i) => total - numbers.length + i));
  });
});
