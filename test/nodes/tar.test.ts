/**
 * The ustar writer and reader behind `kubectl cp` (src/nodes/tar.ts): a round trip of files and
 * directories, long names (ustar prefix, PAX path), and a damaged archive refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTar, writeTar, TarError, type TarEntry } from '../../src/nodes/tar.js';

const entry = (name: string, content = '', type: TarEntry['type'] = 'file'): TarEntry => ({ name, type, mode: type === 'directory' ? 0o755 : 0o644, mtime: 1_700_000_000_000, content: Buffer.from(content) });

test('files and directories round-trip, with 512-byte blocks and two zero blocks at the end', () => {
  const entries = [entry('etc/config/', '', 'directory'), entry('etc/config/key', 'value'), entry('etc/config/empty'), entry('big', 'x'.repeat(1500))];
  const archive = writeTar(entries);
  assert.equal(archive.length % 512, 0);
  assert.ok(archive.subarray(archive.length - 1024).every((byte) => byte === 0));
  assert.deepEqual(readTar(archive), entries);
});

test('long names: the ustar prefix up to 255 bytes, a PAX path record beyond', () => {
  const medium = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
  const long = `${'x/'.repeat(200)}file`;
  const back = readTar(writeTar([entry(medium, 'm'), entry(long, 'l')]));
  assert.deepEqual(back.map((e) => e.name), [medium, long]);
  assert.deepEqual(back.map((e) => e.content.toString()), ['m', 'l']);
});

test('a damaged or truncated archive is a TarError', () => {
  const archive = writeTar([entry('a', 'content')]);
  const damaged = Buffer.from(archive);
  damaged[10] ^= 0xff;
  assert.throws(() => readTar(damaged), TarError);
  assert.throws(() => readTar(archive.subarray(0, 600)), TarError);
});
