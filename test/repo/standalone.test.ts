/**
 * The repository stands alone: nothing under src, test, bench, scripts, docs or the README reads
 * a path beside the clone, and the attestation vectors the tests use live in test/fixtures.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// Built from parts so this file does not match itself.
const OUTSIDE = new RegExp(['\\.\\./', 'shared', '|', '\\.\\./\\.\\./', 'shared', '|', '/work/', 'shared'].join(''));

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'results') continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) yield* files(full);
    else if (/\.(ts|mjs|js|md|json|sh)$/.test(entry) || entry === 'run') yield full;
  }
}

test('no source, test, script or doc refers to a path outside the repository', () => {
  const offenders: string[] = [];
  for (const top of ['src', 'test', 'bench', 'scripts', 'docs', '.ci']) {
    if (!existsSync(join(ROOT, top))) continue;
    for (const file of files(join(ROOT, top))) {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        if (OUTSIDE.test(line)) offenders.push(`${file.slice(ROOT.length)}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  for (const file of ['README.md', 'Containerfile']) {
    if (existsSync(join(ROOT, file)) && OUTSIDE.test(readFileSync(join(ROOT, file), 'utf8'))) offenders.push(file);
  }
  assert.deepEqual(offenders, []);
});

test('the attestation vectors and their provenance README are in test/fixtures/tee-vectors', () => {
  const dir = join(ROOT, 'test/fixtures/tee-vectors');
  const readme = readFileSync(join(dir, 'README.txt'), 'utf8');
  for (const name of ['tdx-quote-v4.bin', 'sgx-dcap-quote-v3.bin', 'sev-snp-report-v2-milan.bin', 'nitro-blocky-prod.cose.b64', 'aws-nitro-root-G1.pem']) {
    assert.ok(existsSync(join(dir, name)), `${name} is missing`);
    assert.match(readme, new RegExp(name.replace(/\./g, '\\.')), `README.txt does not describe ${name}`);
  }
});

test('the README links to an architecture document inside the repository', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.match(readme, /docs\/architecture\.md/);
  assert.ok(existsSync(join(ROOT, 'docs/architecture.md')));
});
