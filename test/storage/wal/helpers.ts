import crypto from 'node:crypto';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Mutation } from '../../../src/storage/durable-log.js';
import type { KeyProvider } from '../../../src/storage/keys/key-provider.js';
import { createSealedLog, type SealedLog, type SealedLogOptions } from '../../../src/storage/wal/index.js';

const created: string[] = [];
process.on('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the system temp dir, removed when the test process exits. */
export async function tempDir(prefix = 'nautilus-wal-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

export function fixedKey(key: Buffer = crypto.randomBytes(32)): KeyProvider {
  return { name: 'test', dataKey: async () => key };
}

export const serverKey = crypto.generateKeyPairSync('ed25519').privateKey;

export function mutation(revision: number, size = 64): Mutation {
  const body = JSON.stringify({ metadata: { name: `pod-${revision}`, resourceVersion: String(revision) }, pad: 'x'.repeat(size) });
  return { revision, type: revision % 7 === 0 ? 'delete' : 'put', resource: 'core/pods', key: `default/pod-${revision}`, value: Buffer.from(body) };
}

export interface LogFixture {
  dir: string;
  key: KeyProvider;
  open(extra?: Partial<SealedLogOptions>): Promise<SealedLog>;
}

export async function logFixture(defaults: Partial<SealedLogOptions> = {}): Promise<LogFixture> {
  const dir = await tempDir();
  const key = fixedKey();
  return {
    dir,
    key,
    open: (extra = {}) => createSealedLog({ dir, keyProvider: key, signingKey: serverKey, ...defaults, ...extra }),
  };
}

/** Appends revisions from..to (inclusive) concurrently and waits for all of them. */
export async function appendRange(log: SealedLog, from: number, to: number, size?: number): Promise<void> {
  const pending: Promise<void>[] = [];
  for (let revision = from; revision <= to; revision++) pending.push(log.append(mutation(revision, size)));
  await Promise.all(pending);
}

export function revisions(mutations: readonly Mutation[]): number[] {
  return mutations.map((m) => m.revision);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

export async function segmentFiles(dir: string): Promise<string[]> {
  const names = (await fs.readdir(path.join(dir, 'wal'))).filter((name) => name.endsWith('.seg')).sort();
  return names.map((name) => path.join(dir, 'wal', name));
}

export async function snapshotFiles(dir: string): Promise<string[]> {
  const names = (await fs.readdir(path.join(dir, 'snapshots'))).filter((name) => name.endsWith('.snap')).sort();
  return names.map((name) => path.join(dir, 'snapshots', name));
}

/**
 * Where each record of a segment starts and ends, read from the documented layout: a 32-byte
 * segment header, then records of (u32 sealed length, u8 kind, u64 sequence, 32-byte previous
 * hash, sealed body). Written from the format description, independently of the reader under test.
 */
export interface RecordSpan {
  start: number;
  end: number;
  kind: number;
  sequence: number;
}

export async function recordSpans(file: string): Promise<RecordSpan[]> {
  const bytes = await fs.readFile(file);
  const spans: RecordSpan[] = [];
  let at = 32;
  while (at + 45 <= bytes.length) {
    const end = at + 45 + bytes.readUInt32BE(at);
    if (end > bytes.length) break;
    spans.push({ start: at, end, kind: bytes[at + 4]!, sequence: Number(bytes.readBigUInt64BE(at + 5)) });
    at = end;
  }
  return spans;
}
