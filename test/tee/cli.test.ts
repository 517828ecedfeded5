import { KeyObject, X509Certificate, randomBytes, webcrypto } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as peculiar from '@peculiar/x509';
import { parse as parseYaml } from 'yaml';
import { run as measure } from '../../src/cli/measure.js';
import { run as verify } from '../../src/cli/verify.js';
import { attestationResponse } from '../../src/tee/attestation-endpoint.js';
import { parsePolicy } from '../../src/tee/policy.js';
import { createSimulatedProvider, simulatedPcrs, type SimulatedProvider } from '../../src/tee/simulated.js';
import { NITRO_DEBUG, NITRO_PROD, SEV_SNP, SGX, TDX, readVector, vectorPath } from './vectors.js';

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(command: typeof verify, args: string[]): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await command(args, { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } });
  return { code, stdout, stderr };
}

const dir = await mkdtemp(path.join(tmpdir(), 'nautilus-verify-'));
after(() => rm(dir, { recursive: true, force: true }));
const file = async (name: string, contents: string | Buffer): Promise<string> => {
  const target = path.join(dir, name);
  await writeFile(target, contents);
  return target;
};

describe('nautilus verify --document (offline, real vectors)', () => {
  it('verifies the production Nitro document and prints its measurements', async () => {
    const result = await cli(verify, ['--document', vectorPath(NITRO_PROD.file), '--at', NITRO_PROD.at.toISOString()]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^format: nitro$/m);
    assert.match(result.stdout, /^moduleId: i-0a22e5c5f24d22174-enc0191cceb4289903f$/m);
    assert.match(result.stdout, /^PCR0: [0-9a-f]{96}$/m);
    assert.match(result.stdout, new RegExp(`^userData: ${'01'.repeat(1024)}$`, 'm'));
    assert.match(result.stdout, /^debug: false$/m);
  });

  it('fails a debug-mode document against a policy that forbids debug', async () => {
    const policy = await file('nitro-policy.yaml', 'format: nitro\n');
    const result = await cli(verify, ['--document', vectorPath(NITRO_DEBUG.file), '--at', NITRO_DEBUG.at.toISOString(), '--policy', policy]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /policy: NOT satisfied\n {2}- debug: the TEE runs in debug mode/);
  });

  it('fails when the certificates are expired at the verification time (default: now)', async () => {
    const result = await cli(verify, ['--document', vectorPath(NITRO_PROD.file)]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^verification failed: nitro: certificate chain: .*not valid at/);
  });

  it('verifies the SGX quote with collateral and reports its TCB status', async () => {
    const result = await cli(verify, ['--document', vectorPath(SGX.quote), '--collateral', vectorPath(SGX.collateral), '--at', SGX.at.toISOString()]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^format: sgx$/m);
    assert.match(result.stdout, /^tcbStatus: ConfigurationAndSWHardeningNeeded$/m);
    assert.match(result.stdout, /^advisoryIds: INTEL-SA-00289, INTEL-SA-00615$/m);
  });

  it('applies the default TCB policy (UpToDate only) to the SGX quote', async () => {
    const policy = await file('sgx-policy.yaml', 'format: sgx\n');
    const result = await cli(verify, ['--document', vectorPath(SGX.quote), '--collateral', vectorPath(SGX.collateral), '--at', SGX.at.toISOString(), '--policy', policy]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /tcbStatus: ConfigurationAndSWHardeningNeeded is not allowed/);
  });

  it('verifies the TDX quote as UpToDate', async () => {
    const result = await cli(verify, ['--document', vectorPath(TDX.quote), '--format', 'tdx', '--collateral', vectorPath(TDX.collateral), '--at', TDX.at.toISOString()]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^tcbStatus: UpToDate$/m);
    assert.match(result.stdout, /^rtmr3: [0-9a-f]{96}$/m);
  });

  it('verifies a hex-encoded SEV-SNP report with its VCEK', async () => {
    const hexReport = await file('report.hex', `${readVector(SEV_SNP.report).toString('hex')}\n`);
    const result = await cli(verify, ['--document', hexReport, '--vcek', vectorPath(SEV_SNP.vcek), '--at', SEV_SNP.at.toISOString()]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^format: sev-snp$/m);
    assert.match(result.stdout, /^reportData: 0102030405/m);
    assert.match(result.stdout, /^debug: true$/m);
  });

  it('explains missing collateral and VCEK', async () => {
    const sgx = await cli(verify, ['--document', vectorPath(SGX.quote), '--at', SGX.at.toISOString()]);
    assert.equal(sgx.code, 1);
    assert.match(sgx.stderr, /needs Intel collateral \(--collateral\)/);
    const snp = await cli(verify, ['--document', vectorPath(SEV_SNP.report), '--at', SEV_SNP.at.toISOString()]);
    assert.equal(snp.code, 1);
    assert.match(snp.stderr, /no VCEK/);
  });

  it('answers usage errors with exit code 2', async () => {
    assert.equal((await cli(verify, [])).code, 2);
    assert.equal((await cli(verify, ['--document', vectorPath(SGX.quote), '--format', 'tpm'])).code, 2);
    assert.equal((await cli(verify, ['--bogus'])).code, 2);
    assert.equal((await cli(verify, ['--document', vectorPath(SGX.quote), '--at', 'yesterday'])).code, 2);
    const noPolicy = await cli(verify, ['https://127.0.0.1:1']);
    assert.equal(noPolicy.code, 2);
    assert.match(noPolicy.stderr, /needs --policy/);
  });
});

/** A TLS server on 127.0.0.1 serving GET /attestation from the simulated provider. */
async function startServer(provider: SimulatedProvider, behaviour: { bindToOtherKey?: boolean; ignoreNonce?: boolean } = {}): Promise<{ server: Server; url: string; certPem: string }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const certificate = await peculiar.X509CertificateGenerator.createSelfSigned({
    name: 'CN=nautilus-test', keys, signingAlgorithm: algorithm,
    extensions: [new peculiar.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
  }, webcrypto as unknown as Crypto);
  const certPem = certificate.toString('pem');
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string;
  const servedSpki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  const otherSpki = (await webcrypto.subtle.generateKey(algorithm, true, ['sign'])).publicKey;
  const boundSpki = behaviour.bindToOtherKey ? Buffer.from(await webcrypto.subtle.exportKey('spki', otherSpki)) : servedSpki;
  const server = createServer({ key: keyPem, cert: certPem }, (request, response) => {
    const url = new URL(request.url ?? '/', 'https://localhost');
    const nonce = behaviour.ignoreNonce ? '00'.repeat(32) : url.searchParams.get('nonce') ?? undefined;
    void attestationResponse(provider, boundSpki, nonce).then((answer) => {
      response.writeHead(answer.statusCode, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.statusCode === 200 ? answer.body : answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, certPem };
}

describe('nautilus verify https://… (online, simulated provider on 127.0.0.1)', () => {
  let provider: SimulatedProvider;
  let rootFile: string;
  let policyFile: string;
  before(async () => {
    provider = await createSimulatedProvider();
    rootFile = await file('simulated-root.pem', provider.rootPem);
    const pcrs = await simulatedPcrs();
    policyFile = await file('simulated-policy.yaml', `format: simulated\npcrs:\n${[0, 1, 2].map((index) => `  ${index}: "${pcrs.get(index)!.toString('hex')}"`).join('\n')}\n`);
  });

  const withServer = async (behaviour: Parameters<typeof startServer>[1], test: (server: { url: string; certPem: string }) => Promise<void>): Promise<void> => {
    const started = await startServer(provider, behaviour);
    try {
      await test(started);
    } finally {
      started.server.closeAllConnections();
      await new Promise((resolve) => started.server.close(resolve));
    }
  };

  it('verifies, checks binding and policy, and writes a kubeconfig pinning the presented certificate', async () => {
    await withServer({}, async ({ url, certPem }) => {
      const kubeconfig = path.join(dir, `kubeconfig-${randomBytes(4).toString('hex')}`);
      const result = await cli(verify, [url, '--policy', policyFile, '--allow-simulated', '--ca-file', rootFile, '--write-kubeconfig', kubeconfig]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^format: simulated$/m);
      assert.match(result.stdout, /^binding: evidence vouches for the presented TLS key/m);
      assert.match(result.stdout, /^policy: satisfied$/m);
      const config = parseYaml(await readFile(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
      assert.equal(config.clusters[0]!.cluster.server, url);
      const pinned = new X509Certificate(Buffer.from(config.clusters[0]!.cluster['certificate-authority-data'], 'base64'));
      assert.deepEqual(pinned.raw, new X509Certificate(certPem).raw);
    });
  });

  it('refuses evidence bound to a different TLS key (relayed from another server)', async () => {
    await withServer({ bindToOtherKey: true }, async ({ url }) => {
      const kubeconfig = path.join(dir, 'kubeconfig-relayed');
      const result = await cli(verify, [url, '--policy', policyFile, '--allow-simulated', '--ca-file', rootFile, '--write-kubeconfig', kubeconfig]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /different public key than the one presented/);
      await assert.rejects(readFile(kubeconfig), { code: 'ENOENT' });
    });
  });

  it('refuses evidence that does not echo the fresh nonce (replay)', async () => {
    await withServer({ ignoreNonce: true }, async ({ url }) => {
      const result = await cli(verify, [url, '--policy', policyFile, '--allow-simulated', '--ca-file', rootFile]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /did not echo the nonce/);
    });
  });

  it('refuses simulated evidence without --allow-simulated, and a PCR mismatch', async () => {
    await withServer({}, async ({ url }) => {
      const refused = await cli(verify, [url, '--policy', policyFile, '--ca-file', rootFile]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /refused unless allowSimulated/);
      const otherPolicy = await file('other-policy.yaml', `format: simulated\npcrs: {0: "${'ab'.repeat(48)}"}\n`);
      const mismatch = await cli(verify, [url, '--policy', otherPolicy, '--allow-simulated', '--ca-file', rootFile]);
      assert.equal(mismatch.code, 1);
      assert.match(mismatch.stdout, /policy: NOT satisfied\n {2}- PCR0: expected abab/);
    });
  });
});

describe('nautilus measure', () => {
  it('prints a policy with the PCRs the simulated provider reports', async () => {
    const result = await cli(measure, []);
    assert.equal(result.code, 0, result.stderr);
    const policy = parsePolicy(result.stdout);
    assert.equal(policy.format, 'simulated');
    const expected = await simulatedPcrs();
    for (const index of [0, 1, 2]) assert.equal(policy.pcrs?.get(index), expected.get(index)!.toString('hex'));
  });

  it('turns nitro-cli build-enclave measurements into a nitro policy', async () => {
    const pcr = (byte: string): string => byte.repeat(48).toUpperCase();
    const eif = await file('eif.json', JSON.stringify({ Measurements: { HashAlgorithm: 'Sha384 { ... }', PCR0: pcr('0a'), PCR1: pcr('0b'), PCR2: pcr('0c') } }));
    const result = await cli(measure, ['--eif-measurements', eif]);
    assert.equal(result.code, 0, result.stderr);
    const policy = parsePolicy(result.stdout);
    assert.equal(policy.format, 'nitro');
    assert.equal(policy.pcrs?.get(2), '0c'.repeat(48));
    const broken = await file('eif-broken.json', JSON.stringify({ Measurements: { PCR0: 'ab' } }));
    assert.equal((await cli(measure, ['--eif-measurements', broken])).code, 1);
  });

  it('describes the measurements a policy file expects', async () => {
    const policy = await file('describe.yaml', `format: sev-snp\nmeasurement: "${'cd'.repeat(48)}"\n`);
    const result = await cli(measure, ['--policy', policy]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^measurement: ${'cd'.repeat(48)}$`, 'm'));
    assert.equal((await cli(measure, ['--nope'])).code, 2);
  });
});
