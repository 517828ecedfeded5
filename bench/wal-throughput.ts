/**
 * WAL benchmark: appends/s and append latency (p50/p99) with group commit, one fdatasync per
 * record, and no sync at all; CPU per append and per sealed record; snapshot write and recovery
 * time for 150,000 objects of ~2 KB, and recovery from 150,000 logged mutations without a
 * snapshot. Prints the figures and writes bench/results/wal-throughput.json.
 *
 *   node dist/bench/wal-throughput.js [--quick]
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SnapshotEntry } from '../src/storage/durable-log.js';
import { SealingKey } from '../src/storage/wal/aead.js';
import { createSealedLog, type Durability, type SealedLog } from '../src/storage/wal/index.js';
import { encodeMutation, RecordKind, sealRecord } from '../src/storage/wal/record.js';

const quick = process.argv.includes('--quick');
const VALUE_BYTES = 2048;
const SNAPSHOT_OBJECTS = quick ? 20_000 : 150_000;
const signingKey = crypto.generateKeyPairSync('ed25519').privateKey;
const dataKey = crypto.randomBytes(32);

function podJson(i: number): Buffer {
  const base = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${i}`, namespace: 'default', uid: crypto.randomUUID() } };
  const pad = VALUE_BYTES - JSON.stringify(base).length - 20;
  return Buffer.from(JSON.stringify({ ...base, spec: { pad: 'x'.repeat(Math.max(0, pad)) } }));
}

async function openLog(durability: Durability): Promise<{ log: SealedLog; dir: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nautilus-wal-bench-'));
  const log = await createSealedLog({ dir, keyProvider: { name: 'bench', dataKey: async () => dataKey }, signingKey, durability });
  await log.recover();
  return { log, dir };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface AppendResult {
  mode: Durability;
  concurrency: number;
  appends: number;
  appendsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuMicrosPerAppend: number;
  recordsPerSync: number;
}

/** Closed loop: `concurrency` writers, each appending its next record when the previous resolved. */
async function measureAppends(mode: Durability, concurrency: number, seconds: number): Promise<AppendResult> {
  const { log, dir } = await openLog(mode);
  const value = podJson(0);
  const latencies: number[] = [];
  let revision = 0;
  const deadline = performance.now() + seconds * 1000;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const writer = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await log.append({ revision: ++revision, type: 'put', resource: 'core/pods', key: `default/pod-${revision % 5000}`, value });
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, writer));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const stats = log.stats();
  await log.close();
  await fs.rm(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return {
    mode,
    concurrency,
    appends: latencies.length,
    appendsPerSecond: Math.round(latencies.length / elapsed),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    cpuMicrosPerAppend: round((cpu.user + cpu.system) / latencies.length),
    recordsPerSync: stats.syncs ? round(stats.records / stats.syncs) : 0,
  };
}

async function measureSnapshotRecovery() {
  const { log, dir } = await openLog('group-commit');
  const entries: SnapshotEntry[] = [];
  for (let i = 1; i <= SNAPSHOT_OBJECTS; i++) {
    entries.push({ resource: 'core/pods', key: `default/pod-${i}`, revision: i, value: podJson(i) });
  }
  // The log must hold the revision a snapshot is taken at; one append stands for the history.
  await log.append({ revision: SNAPSHOT_OBJECTS, type: 'put', resource: 'core/pods', key: 'default/pod-x', value: podJson(0) });
  let t0 = performance.now();
  await log.snapshot(SNAPSHOT_OBJECTS, entries);
  const snapshotWriteMs = performance.now() - t0;
  const tailMutations = 5000;
  const pending: Promise<void>[] = [];
  for (let r = SNAPSHOT_OBJECTS + 1; r <= SNAPSHOT_OBJECTS + tailMutations; r++) {
    pending.push(log.append({ revision: r, type: 'put', resource: 'core/pods', key: `default/pod-${r % 1000}`, value: podJson(r) }));
  }
  await Promise.all(pending);
  await log.close();
  const snapshotBytes = (await fs.readdir(path.join(dir, 'snapshots'))).length
    ? (await fs.stat(path.join(dir, 'snapshots', (await fs.readdir(path.join(dir, 'snapshots')))[0]!))).size
    : 0;

  const reopened = await createSealedLog({ dir, keyProvider: { name: 'bench', dataKey: async () => dataKey }, signingKey });
  t0 = performance.now();
  const state = await reopened.recover();
  const recoveryMs = performance.now() - t0;
  if (state.entries.length !== SNAPSHOT_OBJECTS || state.mutations.length !== tailMutations) {
    throw new Error(`recovery returned ${state.entries.length} entries and ${state.mutations.length} mutations`);
  }
  await reopened.close();
  await fs.rm(dir, { recursive: true, force: true });
  return {
    objects: SNAPSHOT_OBJECTS,
    valueBytes: VALUE_BYTES,
    snapshotBytes,
    snapshotWriteMs: Math.round(snapshotWriteMs),
    tailMutations,
    recoveryMs: Math.round(recoveryMs),
  };
}

/** Recovery with no snapshot: every mutation replayed from the log (the worst case). */
async function measureLogReplay() {
  const { log, dir } = await openLog('group-commit');
  const mutations = SNAPSHOT_OBJECTS;
  for (let from = 1; from <= mutations; from += 1000) {
    const batch: Promise<void>[] = [];
    for (let r = from; r < from + 1000 && r <= mutations; r++) {
      batch.push(log.append({ revision: r, type: 'put', resource: 'core/pods', key: `default/pod-${r}`, value: podJson(r) }));
    }
    await Promise.all(batch);
  }
  await log.close();
  const reopened = await createSealedLog({ dir, keyProvider: { name: 'bench', dataKey: async () => dataKey }, signingKey });
  const t0 = performance.now();
  const state = await reopened.recover();
  const recoveryMs = performance.now() - t0;
  if (state.mutations.length !== mutations) throw new Error(`log replay returned ${state.mutations.length} mutations`);
  await reopened.close();
  await fs.rm(dir, { recursive: true, force: true });
  return { mutations, valueBytes: VALUE_BYTES, recoveryMs: Math.round(recoveryMs) };
}

/** CPU cost of sealing one 2 KB record (encode, AES-256-GCM, SHA-256 chain), without I/O. */
function measureSealCost() {
  const key = new SealingKey(dataKey, crypto.randomBytes(16), 'bench');
  const value = podJson(0);
  let prevHash: Buffer = Buffer.alloc(32);
  const records = 20_000;
  const seal = (r: number) => {
    const plaintext = encodeMutation({ revision: r, type: 'put', resource: 'core/pods', key: `default/pod-${r}`, value });
    prevHash = sealRecord(key, RecordKind.Mutation, r, prevHash, plaintext).hash;
  };
  for (let r = 1; r <= 2000; r++) seal(r);
  const t0 = performance.now();
  for (let r = 1; r <= records; r++) seal(r);
  return { records, microsPerRecord: round(((performance.now() - t0) * 1000) / records) };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

async function main(): Promise<void> {
  const seconds = quick ? 1 : 3;
  const sealing = measureSealCost();
  console.log(`sealing one ${VALUE_BYTES}-byte record: ${sealing.microsPerRecord} µs CPU (encode + AES-256-GCM + SHA-256 chain)`);
  const appendRuns: AppendResult[] = [];
  for (const [mode, concurrency] of [
    ['group-commit', 1],
    ['group-commit', 64],
    ['group-commit', 256],
    ['fsync-each', 64],
    ['none', 64],
  ] as const) {
    const result = await measureAppends(mode, concurrency, seconds);
    appendRuns.push(result);
    console.log(
      `${mode.padEnd(13)} c=${String(concurrency).padStart(3)}  ${String(result.appendsPerSecond).padStart(7)} appends/s  ` +
        `p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  cpu ${result.cpuMicrosPerAppend.toFixed(1)} µs/append  ` +
        `${result.recordsPerSync} records/sync`,
    );
  }
  const group = appendRuns.find((r) => r.mode === 'group-commit' && r.concurrency === 64)!;
  const each = appendRuns.find((r) => r.mode === 'fsync-each')!;
  const groupCommitSpeedup = round(group.appendsPerSecond / each.appendsPerSecond);
  console.log(`group commit vs one fsync per record (c=64): ${groupCommitSpeedup}x appends/s`);

  const recovery = await measureSnapshotRecovery();
  console.log(
    `snapshot of ${recovery.objects} objects (${(recovery.snapshotBytes / 1e6).toFixed(0)} MB): written in ${recovery.snapshotWriteMs} ms; ` +
      `recovery with ${recovery.tailMutations} later mutations: ${recovery.recoveryMs} ms`,
  );

  const logReplay = await measureLogReplay();
  console.log(`recovery from the log alone (${logReplay.mutations} mutations, no snapshot): ${logReplay.recoveryMs} ms`);

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    /** Other work on the machine skews every figure; recorded so runs can be compared fairly. */
    loadAverageAtEnd: os.loadavg(),
    valueBytes: VALUE_BYTES,
    secondsPerRun: seconds,
    appends: appendRuns,
    sealing,
    groupCommitSpeedupOverFsyncEach: groupCommitSpeedup,
    recovery,
    logReplay,
  };
  const out = path.resolve('bench/results/wal-throughput.json');
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
