// Stands in for the SNP_GET_DERIVED_KEY ioctl helper on a machine without SEV-SNP: reads the
// 32-byte struct snp_derived_key_req from stdin and writes a 64-byte snp_derived_key_resp whose key
// is derived from a chip secret and the guest measurement in the environment (what firmware mixes in).
// It lives under test/, so `node --test dist/test/` loads it as a test file too: without its
// argument it does nothing (a test runner's stdin never ends).
import crypto from 'node:crypto';

if (process.argv[2] === '--snp-derived-key') await answerOneRequest();

async function answerOneRequest(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const request = Buffer.concat(chunks);
  const response = Buffer.alloc(64);
  if (request.length !== 32 || request.readUInt32LE(4) !== 0) {
    response.writeUInt32LE(0x16, 0); // INVALID_PARAM
  } else {
    crypto.createHmac('sha256', process.env.SIM_SNP_CHIP_SECRET ?? 'chip').update(request).update(process.env.SIM_SNP_MEASUREMENT ?? 'build 1').digest().copy(response, 32);
  }
  process.stdout.write(response);
}
