/**
 * Logs of `nautilus serve`: JSON lines (--log-format json) or readable one-liners (text), and
 * request lines with latency from -v=3 on, as upstream's httplog; none at the default -v=0.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, KUBECTL } from './harness.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Starts serve with logging left on (the harness silences it), runs one kubectl call, returns stderr. */
async function serveAndRequest(flags: string[], until: (stderr: string) => boolean): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'nautilus-logs-'));
  const env = { ...process.env };
  delete env.NAUTILUS_LOG_LEVEL;
  delete env.NAUTILUS_LOG;
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--address', '127.0.0.1', '--data-dir', dataDir, ...flags], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  try {
    await eventually(async () => assert.match(stdout, /serving at/), 30_000);
    await new Promise<void>((resolve, reject) =>
      execFile(KUBECTL, ['get', 'namespaces'], { env: { ...process.env, KUBECONFIG: join(dataDir, 'admin.kubeconfig'), HOME: dataDir } }, (error) => (error ? reject(error) : resolve())),
    );
    await eventually(async () => assert.ok(until(stderr), stderr.slice(-2000)), 10_000);
    return stderr;
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('serve logs', () => {
  it('--log-format json -v=3: every line is JSON, and each request is logged with its latency', async () => {
    const stderr = await serveAndRequest(['--log-format', 'json', '-v=3'], (s) => s.includes('"URI":"/api/v1/namespaces'));
    const lines = stderr.trim().split('\n').map((line) => JSON.parse(line));
    for (const line of lines) assert.ok(line.time && line.level && line.msg, JSON.stringify(line));
    const request = lines.find((line) => line.msg === 'HTTP' && String(line.URI).startsWith('/api/v1/namespaces'));
    assert.ok(request, 'the kubectl request is logged');
    assert.equal(request.verb, 'GET');
    assert.equal(request.resp, 200);
    assert.match(request.latency, /^\d+\.\d{3}ms$/);
    assert.match(request.userAgent, /kubectl/);
    assert.equal(request.user, 'kubernetes-admin');
  });

  it('--log-format text: readable one-liners; the default -v=0 logs no requests', async () => {
    const stderr = await serveAndRequest(['--log-format', 'text'], (s) => s.includes('control plane ready'));
    const lines = stderr.trim().split('\n');
    assert.ok(lines.every((line) => /^\d{4}-\d\d-\d\dT[\d:.]+Z (INFO |WARN |ERROR|DEBUG) \S/.test(line)), lines.join('\n'));
    assert.ok(lines.some((line) => / INFO  control plane ready url=https:\/\/127\.0\.0\.1:\d+ /.test(line)));
    assert.ok(!lines.some((line) => line.includes(' HTTP ')), 'no request lines at -v=0');
  });

  it('refuses a bad -v or --log-format', async () => {
    const run = (args: string[]) => new Promise<{ code: number; stderr: string }>((resolve) => execFile(process.execPath, [MAIN, 'serve', ...args], (error, _out, stderr) => resolve({ code: (error?.code as number) ?? 0, stderr })));
    const badLevel = await run(['-v=loud']);
    assert.equal(badLevel.code, 2);
    assert.match(badLevel.stderr, /-v must be a level/);
    const badFormat = await run(['--log-format', 'xml']);
    assert.equal(badFormat.code, 2);
    assert.match(badFormat.stderr, /--log-format must be json or text/);
  });
});
