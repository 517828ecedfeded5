/**
 * Every command answers --help with exit 0; unknown flags, missing values and bad values are usage
 * errors (exit 2, one line on stderr); `serve --help` lists every flag the parser accepts with its
 * default. Spawns the built CLI as a user runs it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveOptions } from '../../src/cli/serve.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const COMMANDS = ['serve', 'verify', 'snapshot', 'measure', 'nodes', 'import', 'export'];

function nautilus(args: string[]): { status: number | null; stdout: string; stderr: string } {
  // A scratch cwd, so nothing a command might write lands in the repository.
  const cwd = mkdtempSync(join(tmpdir(), 'nautilus-cli-'));
  try {
    return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd, timeout: 60_000 });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

function assertUsageError(args: string[], mentions: RegExp): void {
  const result = nautilus(args);
  assert.equal(result.status, 2, `nautilus ${args.join(' ')}: exit ${result.status}\n${result.stderr}`);
  const lines = result.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `nautilus ${args.join(' ')} printed more than one line:\n${result.stderr}`);
  assert.match(lines[0]!, mentions);
  assert.match(lines[0]!, new RegExp(`^nautilus ${args[0]}: `));
}

test('nautilus --help lists every command and exits 0', () => {
  const result = nautilus(['--help']);
  assert.equal(result.status, 0, result.stderr);
  for (const command of COMMANDS) assert.match(result.stdout, new RegExp(`^  ${command} `, 'm'));
});

for (const command of COMMANDS) {
  test(`nautilus ${command} --help and -h exit 0 with usage on stdout`, () => {
    for (const flag of ['--help', '-h']) {
      const result = nautilus([command, flag]);
      assert.equal(result.status, 0, `${command} ${flag}: ${result.stderr}`);
      assert.match(result.stdout, new RegExp(`nautilus ${command}`));
      assert.equal(result.stderr, '');
    }
  });

  test(`nautilus ${command} with an unknown flag is a one-line usage error (exit 2)`, () => {
    assertUsageError([command, '--no-such-flag'], /--no-such-flag/);
  });
}

test('missing values are usage errors (exit 2)', () => {
  assertUsageError(['serve', '--port'], /--port/);
  assertUsageError(['verify', '--policy'], /--policy/);
  assertUsageError(['nodes', '--count'], /--count/);
  assertUsageError(['nodes'], /--kubeconfig or --bootstrap-kubeconfig is required/);
  assertUsageError(['import'], /--from-kubeconfig/);
  assertUsageError(['export'], /DIR/);
  assertUsageError(['snapshot'], /save or restore/);
  assertUsageError(['snapshot', 'save'], /FILE/);
  assertUsageError(['verify'], /server URL/);
});

test('bad values are usage errors (exit 2)', () => {
  assertUsageError(['serve', '--port', 'http'], /--port must be/);
  assertUsageError(['serve', '--tee', 'quantum'], /--tee must be one of/);
  assertUsageError(['serve', '--memory-budget', 'lots'], /--memory-budget/);
  assertUsageError(['serve', '-v', 'loud'], /-v must be/);
  assertUsageError(['serve', '--storage', 'floppy'], /--storage must be/);
  assertUsageError(['serve', '--node-monitor-grace-period', 'soon'], /--node-monitor-grace-period must be a duration/);
  assertUsageError(['snapshot', 'copy', 'x'], /unknown action "copy"/);
  assertUsageError(['nodes', '--kubeconfig', 'k', '--count', 'many'], /--count must be/);
  assertUsageError(['import', '--from-kubeconfig', 'k', '--progress', 'dots'], /--progress must be/);
  assertUsageError(['verify', '--document', 'f', '--at', 'yesterday'], /--at/);
  assertUsageError(['measure', '--policy', 'a', '--code-root', 'b'], /at most one of/);
});

test('an unknown command is a one-line usage error (exit 2)', () => {
  const result = nautilus(['frobnicate']);
  assert.equal(result.status, 2);
  assert.equal(result.stderr.split('\n').filter(Boolean).length, 1);
});

test('serve --help lists every flag the parser accepts, with its default', () => {
  const result = nautilus(['serve', '--help']);
  assert.equal(result.status, 0, result.stderr);
  const lines = result.stdout.split('\n');
  const options = Object.entries(serveOptions());
  assert.ok(options.length > 40, `only ${options.length} flags in the table`);
  for (const [name, option] of options) {
    const spelled = name.length === 1 ? `-${name}` : `--${name}`;
    const line = lines.find((candidate) => new RegExp(`(^|\\s|, )${spelled.replace(/[-]/g, '\\-')}( |$)`).test(candidate.trimStart().split(/\s{2,}/)[0]!));
    assert.ok(line, `serve --help does not list ${spelled}`);
    const parserDefault = (option as { default?: unknown }).default;
    if (parserDefault !== undefined) {
      const shown = parserDefault === '' ? '""' : String(parserDefault);
      assert.ok(line.includes(`(default: ${shown})`), `serve --help shows ${spelled} without its default ${shown}: ${line}`);
    }
  }
  // The controllers' flags carry the controller's own default (the parser leaves them unset).
  assert.match(result.stdout, /--node-monitor-grace-period DURATION .*\(default: 40s\)/);
  assert.match(result.stdout, /--concurrent-deployment-syncs N .*\(default: 5\)/);
  // How to pass flags from a checkout, and the log environment variables.
  assert.match(result.stdout, /npm start -- /);
  assert.match(result.stdout, /NAUTILUS_LOG_LEVEL/);
});
