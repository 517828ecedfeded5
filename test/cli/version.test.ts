/** `nautilus --version` prints the package's version and the Kubernetes version served; an unknown command is a usage error (exit 2). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

test('nautilus --version', () => {
  const result = spawnSync(process.execPath, [MAIN, '--version'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`^nautilus ${VERSION.replace(/\./g, '\\.')} \\(Kubernetes v1\\.\\d+`));
});

test('an unknown command and no command are usage errors (exit 2)', () => {
  assert.equal(spawnSync(process.execPath, [MAIN, 'no-such-command'], { encoding: 'utf8' }).status, 2);
  assert.equal(spawnSync(process.execPath, [MAIN], { encoding: 'utf8' }).status, 2);
});
