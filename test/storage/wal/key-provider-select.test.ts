/**
 * `--key-provider`: each provider opened the way `serve` opens it, against what can run on a
 * machine without a TEE — the simulated Nitro TEE (src/tee/simulated.ts) attesting to a KMS
 * speaking the real JSON protocol over HTTP, a stand-in for the SEV-SNP ioctl helper — and the
 * refusal, with its reason, when a device is absent.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { KeyProviderUnavailableError, memoizedKeyProvider, openKeyProvider } from '../../../src/storage/keys/select.js';
import { simulatedPcrs } from '../../../src/tee/simulated.js';
import { createSealedLog } from '../../../src/storage/wal/index.js';
import { startKmsHttpServer } from './kms-http.js';
import { tempDir } from './helpers.js';

const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', AWS_REGION: 'eu-west-1' };
const SEV_HELPER = fileURLToPath(new URL('./sev-guest-helper.js', import.meta.url));

test('nitro-kms under the simulated TEE: KMS admits its PCR0, the key survives a restart, only the KMS blob is stored', async () => {
  const kms = await startKmsHttpServer((await simulatedPcrs()).get(0)!);
  try {
    const dataDir = await tempDir();
    const open = () => openKeyProvider('nitro-kms', { dataDir, tee: 'simulated', kmsKeyId: 'alias/nautilus', kmsEndpoint: kms.endpoint, env: AWS_ENV });
    const first = await (await open()).dataKey();
    const blob = await fs.readFile(path.join(dataDir, 'data-key.kms'));
    assert.equal(blob.includes(first), false);
    // The log sealed under the key opens again after a "restart" (a new provider, a new recipient key).
    const log = await createSealedLog({ dir: dataDir, keyProvider: await open() });
    await log.recover();
    await log.append({ revision: 1, type: 'put', resource: 'core/configmaps', key: 'default/a', value: Buffer.from('{"a":1}') });
    await log.close();
    const reopened = await createSealedLog({ dir: dataDir, keyProvider: await open() });
    assert.equal((await reopened.recover()).mutations.length, 1);
    await reopened.close();
    assert.deepEqual(kms.requests.map((request) => request.target), ['TrentService.GenerateDataKey', 'TrentService.Decrypt', 'TrentService.Decrypt']);
    assert.match(kms.requests[0]!.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/kms\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, /);
  } finally {
    await kms.close();
  }
});

test('nitro-kms: a KMS key policy for other PCRs refuses, and the refusal names KMS\'s reason', async () => {
  const kms = await startKmsHttpServer(Buffer.alloc(48, 7));
  try {
    const dataDir = await tempDir();
    const provider = await openKeyProvider('nitro-kms', { dataDir, tee: 'simulated', kmsKeyId: 'alias/nautilus', kmsEndpoint: kms.endpoint, env: AWS_ENV });
    await assert.rejects(provider.dataKey(), /KMS GenerateDataKey at http:\/\/127\.0\.0\.1:\d+ refused: AccessDeniedException: kms:RecipientAttestation:PCR0/);
    await assert.rejects(fs.stat(path.join(dataDir, 'data-key.kms')), { code: 'ENOENT' });
  } finally {
    await kms.close();
  }
});

test('nitro-kms is refused without /dev/nsm, a key id, a region or credentials, each with its reason', async () => {
  const dataDir = await tempDir();
  const missing = path.join(dataDir, 'no-such-device');
  const refuse = (settings: Parameters<typeof openKeyProvider>[1], reason: RegExp) =>
    assert.rejects(openKeyProvider('nitro-kms', settings), (error: Error) => error instanceof KeyProviderUnavailableError && reason.test(error.message));
  await refuse({ dataDir, devices: { nsm: missing }, kmsKeyId: 'k', env: AWS_ENV }, /the Nitro Secure Module .*no-such-device is absent: this is not a Nitro enclave/);
  await refuse({ dataDir, tee: 'tdx', env: AWS_ENV }, /--tee tdx gives none/);
  await refuse({ dataDir, tee: 'simulated', env: AWS_ENV }, /needs --kms-key-id/);
  await refuse({ dataDir, tee: 'simulated', kmsKeyId: 'k', env: { ...AWS_ENV, AWS_REGION: '' } }, /needs --kms-region/);
  await refuse({ dataDir, tee: 'simulated', kmsKeyId: 'k', env: { AWS_REGION: 'eu-west-1' } }, /needs AWS credentials/);
  // /dev/nsm present but no helper to issue its ioctl.
  await fs.writeFile(missing, '');
  await refuse({ dataDir, devices: { nsm: missing }, kmsKeyId: 'k', env: AWS_ENV }, /set NAUTILUS_NSM_HELPER/);
  assert.deepEqual((await fs.readdir(dataDir)).sort(), ['no-such-device'], 'a refused provider writes nothing');
});

test('sev-snp through the ioctl helper: the same guest gets its key back; another measurement cannot unwrap it', async () => {
  const dataDir = await tempDir();
  const device = path.join(dataDir, 'sev-guest');
  await fs.writeFile(device, '');
  const helper = path.join(dataDir, 'snp-helper');
  await fs.writeFile(helper, `#!/bin/sh\nexec "${process.execPath}" "${SEV_HELPER}" --snp-derived-key\n`, { mode: 0o755 });
  const open = () => openKeyProvider('sev-snp', { dataDir, devices: { sevGuest: device }, env: { NAUTILUS_SNP_HELPER: helper } });
  // The helper inherits this process's environment: the measurement goes through it.
  const withEnv = async <T>(measurement: string, run: () => Promise<T>): Promise<T> => {
    const before = process.env.SIM_SNP_MEASUREMENT;
    process.env.SIM_SNP_MEASUREMENT = measurement;
    try {
      return await run();
    } finally {
      if (before === undefined) delete process.env.SIM_SNP_MEASUREMENT;
      else process.env.SIM_SNP_MEASUREMENT = before;
    }
  };
  const first = await withEnv('build 1', async () => (await open()).dataKey());
  const again = await withEnv('build 1', async () => (await open()).dataKey());
  assert.deepEqual(again, first);
  assert.equal((await fs.readFile(path.join(dataDir, 'data-key.snp'))).includes(first), false);
  await withEnv('build 2', async () => assert.rejects((await open()).dataKey(), /sev-snp: the TEE-derived key does not unwrap .*not the same platform, measurement or policy/));
});

test('sev-snp is refused without /dev/sev-guest or without the ioctl helper', async () => {
  const dataDir = await tempDir();
  const device = path.join(dataDir, 'sev-guest');
  await assert.rejects(openKeyProvider('sev-snp', { dataDir, devices: { sevGuest: device }, env: {} }), /--key-provider sev-snp: the SEV-SNP guest device .*sev-guest is absent: this is not an SEV-SNP guest/);
  await fs.writeFile(device, '');
  await assert.rejects(openKeyProvider('sev-snp', { dataDir, devices: { sevGuest: device }, env: {} }), /set NAUTILUS_SNP_HELPER/);
});

test('tdx is refused without configfs-tsm (absent, or a plain directory that is not configfs)', async () => {
  const dataDir = await tempDir();
  await assert.rejects(openKeyProvider('tdx', { dataDir, devices: { tsmRoot: path.join(dataDir, 'absent') } }), /--key-provider tdx: no configfs-tsm report interface at .*absent: this is not a TDX guest/);
  // A plain directory is not configfs: no provider file appears in a new report entry.
  await assert.rejects(openKeyProvider('tdx', { dataDir, devices: { tsmRoot: dataDir } }), /no configfs-tsm report interface/);
});

test('a memoized provider asks its source once, and again after a failure', async () => {
  let calls = 0;
  const provider = memoizedKeyProvider({ name: 'x', dataKey: async () => (++calls === 1 ? Promise.reject(new Error('transient')) : Buffer.alloc(32, calls)) });
  await assert.rejects(provider.dataKey(), /transient/);
  const key = await provider.dataKey();
  assert.deepEqual(await provider.dataKey(), key);
  assert.equal(calls, 2);
});
