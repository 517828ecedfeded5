/**
 * `serve --key-provider`: nitro-kms end to end under the simulated Nitro TEE (its attestation
 * documents go to a KMS speaking the real JSON protocol on 127.0.0.1), state surviving a restart
 * with no local key file; and on this machine, which has no TEE, every hardware provider refusing
 * to start with its reason before writing anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './harness.js';
import { startKmsHttpServer } from '../storage/wal/kms-http.js';
import { simulatedPcrs } from '../../src/tee/simulated.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function serveOnce(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--address', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' } });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk) => {
      if (/serving at/.test(String(chunk))) child.kill('SIGTERM');
    });
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

test('--key-provider nitro-kms (simulated TEE): the data key comes from KMS, state survives a restart, no local key file', async () => {
  const kms = await startKmsHttpServer((await simulatedPcrs()).get(0)!);
  const dataDir = await mkdtemp(join(tmpdir(), 'nautilus-kms-'));
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' });
  const flags = ['--key-provider', 'nitro-kms', '--tee', 'simulated', '--kms-key-id', 'alias/nautilus', '--kms-region', 'eu-west-1', '--kms-endpoint', kms.endpoint];
  try {
    const first = await startServer(flags, dataDir);
    await first.ok(['create', 'configmap', 'sealed-by-kms', '--from-literal=a=b']);
    await first.stop();
    assert.ok(existsSync(join(dataDir, 'data-key.kms')), 'the KMS-encrypted data key is stored');
    assert.equal(existsSync(join(dataDir, 'data.key')), false, 'no plain local key file');
    const second = await startServer(flags, dataDir);
    assert.equal(await second.ok(['get', 'configmap', 'sealed-by-kms', '-o', 'jsonpath={.data.a}']), 'b');
    await second.stop();
    assert.deepEqual(kms.requests.map((request) => request.target), ['TrentService.GenerateDataKey', 'TrentService.Decrypt']);

    // The same data dir under the local provider: no key file, so the sealed log cannot open.
    const local = await serveOnce(['--data-dir', dataDir]);
    assert.notEqual(local.code, 0);
  } finally {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await kms.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('without a TEE, each hardware key provider refuses to start with its reason and writes nothing', async () => {
  const cases: [string[], RegExp][] = [
    [['--key-provider', 'sev-snp'], /refusing to start: --key-provider sev-snp: the SEV-SNP guest device \/dev\/sev-guest is absent/],
    [['--key-provider', 'tdx'], /refusing to start: --key-provider tdx: no configfs-tsm report interface at \/sys\/kernel\/config\/tsm\/report/],
    [['--key-provider', 'nitro-kms', '--kms-key-id', 'k'], /refusing to start: --key-provider nitro-kms: the Nitro Secure Module \/dev\/nsm is absent/],
  ];
  for (const [flags, reason] of cases) {
    const dataDir = await mkdtemp(join(tmpdir(), 'nautilus-nokey-'));
    try {
      const result = await serveOnce(['--data-dir', dataDir, ...flags]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, reason);
      assert.deepEqual(await readdir(dataDir), [], `${flags.join(' ')} wrote nothing`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  const bogus = await serveOnce(['--data-dir', join(tmpdir(), 'unused'), '--key-provider', 'hsm']);
  assert.equal(bogus.code, 2);
  assert.match(bogus.stderr, /--key-provider must be one of local, nitro-kms, sev-snp, tdx, got "hsm"/);
});
