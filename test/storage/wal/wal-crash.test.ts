import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { workloadMutation, workloadState } from '../../../bench/wal-crash-workload.js';
import { createSealedLog } from '../../../src/storage/wal/index.js';
import { tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('../../../bench/wal-crash-child.js', import.meta.url));
const ROUNDS = 6;
/** The child keeps this many appends in flight, so at most this many unacknowledged ones may survive. */
const IN_FLIGHT = 32;

interface Round {
  startedFrom: number;
  maxAcked: number;
}

/** Runs the child until SIGKILL after `runMs`; returns what it reported. */
function runChild(dir: string, env: NodeJS.ProcessEnv, runMs: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const round: Round = { startedFrom: -1, maxAcked: -1 };
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const [word, value] = line.split(' ');
      if (word === 'start') {
        round.startedFrom = Number(value);
      } else if (word === 'ack') {
        // The clock starts at the first acknowledgement, so a busy machine still makes progress.
        if (round.maxAcked < 0) setTimeout(() => child.kill('SIGKILL'), runMs);
        round.maxAcked = Math.max(round.maxAcked, Number(value));
      }
    });
    const watchdog = setTimeout(() => {
      stderr += `\nwatchdog: no acknowledgement within ${runMs + 15_000} ms`;
      child.kill('SIGTERM');
    }, runMs + 15_000);
    // 'close' comes after the child's stdout has been read to its end: every "ack" it wrote before
    // the kill is counted ('exit' can come first, and a loaded machine then misses acknowledgements).
    child.on('close', (_code, signal) => {
      clearTimeout(watchdog);
      if (signal !== 'SIGKILL' || round.startedFrom < 0) reject(new Error(`child ended on its own (signal ${signal}): ${stderr}`));
      else resolve(round);
    });
  });
}

test('SIGKILL at random moments never loses an acknowledged write nor invents one', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir('nautilus-wal-crash-');
  const dataKey = crypto.randomBytes(32);
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const env = {
    NAUTILUS_WAL_CRASH_KEY: dataKey.toString('hex'),
    NAUTILUS_WAL_CRASH_SIGNING_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
  let acknowledged = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const result = await runChild(dir, env, 300 + Math.floor(Math.random() * 1200));
    assert.ok(result.startedFrom >= acknowledged, `round ${round}: child resumed at ${result.startedFrom}, below acknowledged ${acknowledged}`);
    assert.ok(result.maxAcked > acknowledged, `round ${round}: no progress`);
    acknowledged = result.maxAcked;

    const log = await createSealedLog({ dir, keyProvider: { name: 'test', dataKey: async () => dataKey }, signingKey: privateKey });
    const state = await log.recover();
    await log.close();
    const end = state.mutations.at(-1)?.revision ?? state.snapshotRevision;
    t.diagnostic(`round ${round}: acknowledged ${acknowledged}, recovered ${end} (snapshot ${state.snapshotRevision} + ${state.mutations.length} mutations)`);
    assert.ok(end >= acknowledged, `round ${round}: recovered up to ${end}, but ${acknowledged} was acknowledged`);
    assert.ok(end <= acknowledged + IN_FLIGHT, `round ${round}: recovered ${end}, more than was ever sent after ${acknowledged}`);

    const expectedEntries = workloadState(state.snapshotRevision);
    const actualEntries = [...state.entries].sort((a, b) => a.key.localeCompare(b.key));
    assert.deepEqual(
      actualEntries.map((e) => [e.key, e.revision, Buffer.from(e.value).toString()]),
      expectedEntries.map((e) => [e.key, e.revision, Buffer.from(e.value).toString()]),
      `round ${round}: snapshot at ${state.snapshotRevision} differs from the workload`,
    );
    state.mutations.forEach((mutation, i) => {
      const expected = workloadMutation(state.snapshotRevision + 1 + i);
      assert.equal(mutation.revision, expected.revision);
      assert.equal(mutation.key, expected.key);
      assert.equal(mutation.type, expected.type);
      assert.equal(Buffer.from(mutation.value).toString(), Buffer.from(expected.value).toString());
    });
  }
});
