/** --token-auth-file: static bearer tokens authenticate; unknown tokens are 401; kubectl uses them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawClient, startServer } from './harness.js';

test('static bearer tokens', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nautilus-tokens-'));
  const tokens = join(dir, 'tokens.csv');
  await writeFile(tokens, '# token,user,uid,groups\ns3cr3t-token,alice,1001,"system:masters,devs"\n');
  const server = await startServer(['--ephemeral', '--token-auth-file', tokens]);
  try {
    const anonymous = await rawClient(server.kubeconfig, { anonymous: true });
    const allowed = await anonymous.request('GET', '/api/v1/namespaces', undefined, { authorization: 'Bearer s3cr3t-token' });
    assert.equal(allowed.status, 200);
    const wrong = await anonymous.request('GET', '/api/v1/namespaces', undefined, { authorization: 'Bearer s3cr3t-tokem' });
    assert.equal(wrong.status, 401);
    anonymous.close();
    const result = await server.kubectl(['--token=s3cr3t-token', '--client-certificate=', '--client-key=', '--kubeconfig', '/dev/null', '--server', server.url, '--certificate-authority', join(server.dataDir, 'pki', 'ca.crt'), 'get', 'namespaces', '-o', 'name']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /namespace\/default/);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
