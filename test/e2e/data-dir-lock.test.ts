/**
 * One server per data dir: a second `serve` on a data dir in use exits non-zero naming the first's
 * PID, and the first keeps its log; once the first is gone (even SIGKILLed) a new one starts and
 * has every acknowledged write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './harness.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function serveOnce(dataDir: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--address', '127.0.0.1', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' } });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      // Should it start after all, stop it so the test fails instead of hanging.
      if (/serving at/.test(stdout)) child.kill('SIGTERM');
    });
    child.once('exit', (code) => resolve({ code, stderr, stdout }));
  });
}

test('a second serve on the same data dir refuses to start, naming the first one\'s PID', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'nautilus-lock-'));
  try {
    const first = await startServer([], dataDir);
    await first.ok(['create', 'configmap', 'before']);
    const second = await serveOnce(dataDir);
    assert.notEqual(second.code, 0);
    assert.doesNotMatch(second.stdout, /serving at/);
    assert.match(second.stderr, new RegExp(`in use by another Nautilus process \\(PID ${first.process.pid}\\)`));
    // The first is unharmed and keeps taking writes.
    await first.ok(['create', 'configmap', 'after']);
    await first.stop('SIGKILL');

    // A crashed holder leaves a stale lock: the next start takes it over and has every write.
    const third = await startServer([], dataDir);
    const names = await third.ok(['get', 'configmaps', '-o', 'jsonpath={.items[*].metadata.name}']);
    assert.deepEqual(names.split(' ').filter((n) => n !== 'kube-root-ca.crt').sort(), ['after', 'before']);
    await third.stop();
    // A clean stop releases it: another start succeeds at once.
    const fourth = await startServer([], dataDir);
    await fourth.stop();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
