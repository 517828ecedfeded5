/**
 * TLS on the real listener, probed with openssl s_client: TLS 1.2 with AEAD suites and TLS 1.3
 * are accepted; CBC, CCM and ARIA suites, and TLS 1.1, are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startServer } from './harness.js';

/** Runs s_client against the server; resolves with whether a handshake completed and what was negotiated. */
function handshake(port: number, args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.stdin.end('Q\n');
    // s_client prints "New, TLSv1.x, Cipher is X" after a handshake, "Cipher is (NONE)" when there was none.
    child.on('close', () => resolve({ ok: /New, TLSv1\.[23], Cipher is (?!\(NONE\))\S+/.test(output), output }));
  });
}

test('only AEAD cipher suites on TLS 1.2+, checked with openssl s_client', async () => {
  const server = await startServer(['--ephemeral']);
  try {
    const port = Number(new URL(server.url).port);
    const tls13 = await handshake(port, ['-tls1_3']);
    assert.ok(tls13.ok, tls13.output);
    assert.match(tls13.output, /TLSv1\.3/);
    for (const cipher of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305']) {
      const result = await handshake(port, ['-tls1_2', '-cipher', cipher]);
      assert.ok(result.ok, `${cipher} refused: ${result.output}`);
      assert.match(result.output, new RegExp(cipher));
    }
    for (const cipher of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES128-CCM8', 'ECDHE-ECDSA-AES256-CCM', 'ECDHE-ECDSA-ARIA128-GCM-SHA256']) {
      const result = await handshake(port, ['-tls1_2', '-cipher', cipher]);
      assert.ok(!result.ok, `${cipher} was accepted: ${result.output}`);
    }
    const ccm13 = await handshake(port, ['-tls1_3', '-ciphersuites', 'TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256']);
    assert.ok(!ccm13.ok, `TLS 1.3 CCM accepted: ${ccm13.output}`);
    const old = await handshake(port, ['-tls1_1']);
    assert.ok(!old.ok, `TLS 1.1 accepted: ${old.output}`);
  } finally {
    await server.stop();
  }
});
